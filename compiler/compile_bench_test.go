package compiler_test

import (
	"os"
	"testing"

	"github.com/nix2gpu/nix2gpu/bench/benchdata"
	"github.com/nix2gpu/nix2gpu/compiler"
	"github.com/nix2gpu/nix2gpu/config"
)

// BenchmarkCompile measures lowering a parsed file to the IR: a typical
// single-container example and generated projects of 100 and 1000
// containers. Parsing is outside the timed loop.
func BenchmarkCompile(b *testing.B) {
	typical, err := os.ReadFile("../examples/comfyui/nix2gpu.yaml")
	if err != nil {
		b.Fatalf("reading the typical example: %v", err)
	}
	for _, in := range []struct {
		name string
		src  []byte
	}{
		{"typical", typical},
		{"containers=100", benchdata.Project(100, false)},
		{"containers=1000", benchdata.Project(1000, false)},
	} {
		b.Run(in.name, func(b *testing.B) {
			f, ds := config.Parse("nix2gpu.yaml", in.src, config.Limits{})
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
