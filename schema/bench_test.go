package schema

import (
	"fmt"
	"testing"

	"github.com/nix2gpu/nix2gpu/bench/benchdata"
	"github.com/nix2gpu/nix2gpu/config"
)

// BenchmarkValidate measures validation of a typical 4-container project
// and of 100- and 1000-container projects; the schema is compiled once.
func BenchmarkValidate(b *testing.B) {
	s := loadSchema(b)
	for _, n := range []int{4, 100, 1000} {
		src := benchdata.Project(n, false)
		f, ds := config.Parse("nix2gpu.yaml", src, config.Limits{})
		if ds.HasErrors() {
			b.Fatal(ds)
		}
		if got := s.Validate(f); len(got) > 0 {
			b.Fatalf("benchmark project does not validate: %v", got)
		}
		b.Run(fmt.Sprintf("containers=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				s.Validate(f)
			}
		})
	}
}

// BenchmarkLoadAndValidate is what one `nix2gpu validate` process pays
// beyond starting: a fresh Schema and the first validation of a typical
// project, which compiles the regular expressions the file meets.
func BenchmarkLoadAndValidate(b *testing.B) {
	f, ds := config.Parse("nix2gpu.yaml", benchdata.Project(4, false), config.Limits{})
	if ds.HasErrors() {
		b.Fatal(ds)
	}
	b.ReportAllocs()
	for b.Loop() {
		s, err := Load()
		if err != nil {
			b.Fatal(err)
		}
		if got := s.Validate(f); len(got) > 0 {
			b.Fatal(got)
		}
	}
}
