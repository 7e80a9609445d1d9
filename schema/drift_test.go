package schema

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/nix2gpu/nix2gpu/schema/internal/cueschema"
	"github.com/nix2gpu/nix2gpu/schema/internal/svcgen"
)

var update = flag.Bool("update", false, "rewrite the committed generated files")

// checkGenerated compares got with the committed file at path, or writes
// it with -update.
func checkGenerated(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./schema -update)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s is stale: run go test ./schema -update and commit the result", path)
	}
}

// TestGeneratedUpToDate regenerates the validation tree and the JSON
// Schema from the CUE and compares them with the committed files.
func TestGeneratedUpToDate(t *testing.T) {
	s := loadCUE(t)
	tree, err := cueschema.Generate(s)
	if err != nil {
		t.Fatal(err)
	}
	checkGenerated(t, "tree_gen.go", tree)
	got, err := s.JSONSchema()
	if err != nil {
		t.Fatal(err)
	}
	checkGenerated(t, "nix2gpu.schema.json", got)
}

func TestDocsUpToDate(t *testing.T) {
	s := loadSchema(t)
	got, err := s.Docs()
	if err != nil {
		t.Fatal(err)
	}
	checkGenerated(t, filepath.Join("..", "docs", "reference.md"), []byte(got))
}

// TestServicesUpToDate regenerates services_gen.cue from the extracted
// services-flake option list, when the checkout has it beside the
// repository, and compares it with the committed file.
func TestServicesUpToDate(t *testing.T) {
	src := filepath.Join("..", "..", "shared", "data", "services-flake-options.json")
	data, err := os.ReadFile(src)
	if err != nil {
		t.Skipf("services-flake option list not present (%v); nothing to compare", err)
	}
	got, err := svcgen.Generate(data)
	if err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile("services_gen.cue")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("services_gen.cue is stale: run go generate ./schema and commit the result")
	}
}

func loadSchema(t testing.TB) *Schema {
	t.Helper()
	s, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	return s
}
