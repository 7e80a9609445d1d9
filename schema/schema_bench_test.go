package schema_test

import (
	"testing"

	"github.com/nix2gpu/nix2gpu/bench/benchdata"
	"github.com/nix2gpu/nix2gpu/config"
	"github.com/nix2gpu/nix2gpu/schema"
)

// BenchmarkValidateExamples measures checking each real example project
// (the "typical" files) against a schema loaded once. Generated projects
// of growing size are covered by BenchmarkValidate.
func BenchmarkValidateExamples(b *testing.B) {
	s, err := schema.Load()
	if err != nil {
		b.Fatal(err)
	}
	examples, err := benchdata.Examples("..")
	if err != nil {
		b.Fatal(err)
	}
	for _, in := range examples {
		f, ds := config.Parse("nix2gpu.yaml", in.Src, config.Limits{})
		if ds.HasErrors() {
			b.Fatalf("parse %s: %v", in.Name, ds)
		}
		b.Run(in.Name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if ds := s.Validate(f); ds.HasErrors() {
					b.Fatalf("validate: %v", ds)
				}
			}
		})
	}
}
