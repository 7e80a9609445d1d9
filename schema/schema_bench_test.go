package schema_test

import (
	"os"
	"path/filepath"
	"testing"

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
	files, err := filepath.Glob("../examples/*/nix2gpu.yaml")
	if err != nil || len(files) == 0 {
		b.Fatalf("no examples found: %v", err)
	}
	for _, file := range files {
		src, err := os.ReadFile(file)
		if err != nil {
			b.Fatal(err)
		}
		f, ds := config.Parse(file, src, config.Limits{})
		if ds.HasErrors() {
			b.Fatalf("parse %s: %v", file, ds)
		}
		b.Run(filepath.Base(filepath.Dir(file)), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if ds := s.Validate(f); ds.HasErrors() {
					b.Fatalf("validate: %v", ds)
				}
			}
		})
	}
}
