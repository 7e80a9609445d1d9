package emit_test

import (
	"os"
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
