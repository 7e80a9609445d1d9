package emit_test

import (
	"testing"

	"github.com/nix2gpu/nix2gpu/bench/benchdata"
	"github.com/nix2gpu/nix2gpu/compiler"
	"github.com/nix2gpu/nix2gpu/config"
	"github.com/nix2gpu/nix2gpu/emit"
)

// BenchmarkGenerate measures rendering the IR to Nix files: a typical
// single-container example and generated projects of 100 and 1000
// containers. Parsing and compiling are outside the timed loop.
func BenchmarkGenerate(b *testing.B) {
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
			p, ds := compiler.Compile(f, compiler.Options{})
			if ds.HasErrors() {
				b.Fatalf("compile: %v", ds)
			}
			b.ReportAllocs()
			var bytes int64
			for b.Loop() {
				files, err := emit.Generate(p)
				if err != nil {
					b.Fatal(err)
				}
				bytes = 0
				for _, c := range files {
					bytes += int64(len(c))
				}
			}
			b.ReportMetric(float64(bytes), "out-bytes")
		})
	}
}
