package config_test

import (
	"testing"

	"github.com/nix2gpu/nix2gpu/bench/benchdata"
	"github.com/nix2gpu/nix2gpu/config"
)

// BenchmarkParse measures reading a file into values with positions: the
// typical example and generated projects of 100 and 1000 containers.
func BenchmarkParse(b *testing.B) {
	inputs, err := benchdata.Inputs("..")
	if err != nil {
		b.Fatal(err)
	}
	for _, in := range inputs {
		b.Run(in.Name, func(b *testing.B) {
			b.SetBytes(int64(len(in.Src)))
			b.ReportAllocs()
			for b.Loop() {
				if _, ds := config.Parse("nix2gpu.yaml", in.Src, config.Limits{}); ds.HasErrors() {
					b.Fatalf("parse: %v", ds)
				}
			}
		})
	}
}
