package schema

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nix2gpu/nix2gpu/bench/benchdata"
)

// ajvScript validates each JSON document named on the command line
// against the schema in argv[2] and prints one true/false per line.
const ajvScript = `
const Ajv = require(process.argv[2]);
const fs = require("fs");
const ajv = new Ajv({allErrors: true, strict: false});
const validate = ajv.compile(JSON.parse(fs.readFileSync(process.argv[3], "utf8")));
for (const f of process.argv.slice(4)) {
  console.log(validate(JSON.parse(fs.readFileSync(f, "utf8"))) ? "true" : "false");
}
`

// TestJSONSchemaAgreesWithValidate checks the exported JSON Schema with a
// real JSON Schema validator (ajv, installed for the editor tests): it
// must accept and reject the same documents as Validate.
func TestJSONSchemaAgreesWithValidate(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node not installed; the JSON Schema is checked by ajv where it is")
	}
	ajv, err := filepath.Abs(filepath.Join("..", "editor", "node_modules", "ajv"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(ajv); err != nil {
		t.Skip("ajv not installed (npm ci in editor/ installs it)")
	}
	s := loadSchema(t)
	js, err := s.JSONSchema()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	schemaFile := filepath.Join(dir, "schema.json")
	if err := os.WriteFile(schemaFile, js, 0o644); err != nil {
		t.Fatal(err)
	}
	script := filepath.Join(dir, "check.js")
	if err := os.WriteFile(script, []byte(ajvScript), 0o644); err != nil {
		t.Fatal(err)
	}
	inputs := append(append(errorInputs(), edgeInputs...), goodInputs(t)...)
	var files []string
	var want []bool
	for i, src := range inputs {
		f := parse(t, "nix2gpu.yaml", src)
		if hasNix(f.Root) {
			continue // JSON has no tags
		}
		data, err := json.Marshal(f.Root.Interface())
		if _, ok := errors.AsType[*json.UnsupportedValueError](err); ok {
			continue // nor NaN and infinities
		}
		if err != nil {
			t.Fatal(err)
		}
		name := filepath.Join(dir, fmt.Sprintf("in%03d.json", i))
		if err := os.WriteFile(name, data, 0o644); err != nil {
			t.Fatal(err)
		}
		files = append(files, name)
		want = append(want, len(s.Validate(f)) == 0)
	}
	out, err := exec.Command(node, append([]string{script, ajv, schemaFile}, files...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("ajv: %v\n%s", err, out)
	}
	got := strings.Fields(string(out))
	if len(got) != len(files) {
		t.Fatalf("ajv printed %d results for %d documents:\n%s", len(got), len(files), out)
	}
	for i := range files {
		if (got[i] == "true") != want[i] {
			data, _ := os.ReadFile(files[i])
			t.Errorf("JSON Schema says valid=%s, Validate says valid=%v, for %s", got[i], want[i], data)
		}
	}
}

// goodFiles returns the files the tests hold valid: the schema's own test
// files and the bundled examples.
func goodFiles(t *testing.T) []benchdata.Input {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join("testdata", "*.yaml"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no test files: %v", err)
	}
	var out []benchdata.Input
	for _, p := range paths {
		src, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, benchdata.Input{Name: p, Src: src})
	}
	examples, err := benchdata.Examples("..")
	if err != nil {
		t.Fatal(err)
	}
	return append(out, examples...)
}

// goodInputs returns the text of goodFiles.
func goodInputs(t *testing.T) []string {
	var out []string
	for _, in := range goodFiles(t) {
		out = append(out, string(in.Src))
	}
	return out
}
