package compiler_test

import (
	"testing"

	"github.com/nix2gpu/nix2gpu/bench/benchdata"
	"github.com/nix2gpu/nix2gpu/compiler"
	"github.com/nix2gpu/nix2gpu/config"
)

// BenchmarkCompile measures lowering a parsed file to the IR: a typical
// single-container example and generated projects of 100 and 1000
// containers. Parsing is outside the timed loop.
func BenchmarkCompile(b *testing.B) {
	inputs, err := benchdata.Inputs("..")
	if err != nil {
		b.Fatal(err)
	}
	for _, in := range inputs {
		b.Run(in.Name, func(b *testing.B) {
			f, ds := config.Parse("nix2gpu.yaml", in.Src, config.Limits{})
			if ds.HasErrors() {
				b.Fatalf("parse: %v", ds)
			}
			b.ReportAllocs()
			for b.Loop() {
				if _, ds := compiler.Compile(f, compiler.Options{}); ds.HasErrors() {
					b.Fatalf("compile: %v", ds)
				}
			}
		})
	}
}
