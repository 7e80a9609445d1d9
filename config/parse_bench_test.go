package config_test

import (
	"os"
	"testing"

	"github.com/nix2gpu/nix2gpu/bench/benchdata"
	"github.com/nix2gpu/nix2gpu/config"
)

// benchInputs are the files every pipeline benchmark runs on: a typical
// single-container example and generated projects of growing size.
func benchInputs(b *testing.B) []struct {
	name string
	src  []byte
} {
	b.Helper()
	typical, err := os.ReadFile("../examples/comfyui/nix2gpu.yaml")
	if err != nil {
		b.Fatalf("reading the typical example: %v", err)
	}
	return []struct {
		name string
		src  []byte
	}{
		{"typical", typical},
		{"containers=100", benchdata.Project(100, false)},
		{"containers=1000", benchdata.Project(1000, false)},
	}
}

func BenchmarkParse(b *testing.B) {
	for _, in := range benchInputs(b) {
		b.Run(in.name, func(b *testing.B) {
			b.SetBytes(int64(len(in.src)))
			b.ReportAllocs()
			for b.Loop() {
				if _, ds := config.Parse("nix2gpu.yaml", in.src, config.Limits{}); ds.HasErrors() {
					b.Fatalf("parse: %v", ds)
				}
			}
		})
	}
}
