package cli

import (
	"path/filepath"
	"reflect"
	"testing"

	"github.com/nix2gpu/nix2gpu/diag"
)

func TestDropReported(t *testing.T) {
	at := func(line, col int) diag.Range {
		return diag.Range{Filename: "f", Start: diag.Pos{Line: line, Column: col}}
	}
	d := func(sev diag.Severity, path, hint string, r diag.Range) diag.Diagnostic {
		return diag.Diagnostic{Severity: sev, Path: path, Hint: hint, Range: r, Message: path}
	}
	keys := map[diag.Pos]bool{{Line: 3, Column: 3}: true}
	schemaDs := diag.Diagnostics{
		d(diag.Error, "containers.Bad", "names must match", at(3, 3)), // about the key
		d(diag.Error, "containers.app.ports", "use a list", at(5, 5)), // about a value
		d(diag.Error, "containers.app.tag", "", at(6, 10)),            // no hint
		d(diag.Warning, "containers.app.user", "", at(7, 10)),
		d(diag.Error, "containers.app.cmd", "use a list", at(10, 1)),
	}
	compiled := diag.Diagnostics{
		d(diag.Error, "containers.Bad", "lower case", at(3, 3)),         // same path, with a hint in words: replaces the schema's
		d(diag.Error, "containers.Bad.env.x", "h", at(4, 7)),            // below a key error: kept
		d(diag.Error, "containers.app.ports[0]", "h", at(5, 12)),        // below a value error: dropped
		d(diag.Error, "containers.app.tag", "a better hint", at(6, 10)), // replaces the hintless schema error
		d(diag.Warning, "containers.app.user", "h", at(7, 10)),          // schema warnings hide nothing
		d(diag.Note, "", "h", at(8, 1)),                                 // no path: kept
		d(diag.Error, "containers.app.portsX", "h", at(9, 1)),           // a sibling with a common prefix: kept
		d(diag.Error, "containers.app.cmd", "", at(10, 1)),              // no hint where the schema has one: dropped
	}
	kept, schemaKept := dropReported(compiled, schemaDs, keys)
	var got []string
	for _, d := range kept {
		got = append(got, d.Path)
	}
	want := []string{"containers.Bad", "containers.Bad.env.x", "containers.app.tag", "containers.app.user", "", "containers.app.portsX"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("kept %q, want %q", got, want)
	}
	got = nil
	for _, d := range schemaKept {
		got = append(got, d.Path)
	}
	want = []string{"containers.app.ports", "containers.app.user", "containers.app.cmd"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("schema kept %q, want %q", got, want)
	}
}

func TestConfigPath(t *testing.T) {
	env := &Env{Dir: filepath.FromSlash("/home/me/proj")}
	tests := []struct{ file, path, display string }{
		{"", filepath.FromSlash("/home/me/proj/nix2gpu.yaml"), "nix2gpu.yaml"},
		{"deploy/x.yaml", filepath.FromSlash("/home/me/proj/deploy/x.yaml"), "deploy/x.yaml"},
		{"/abs/x.yaml", "/abs/x.yaml", "/abs/x.yaml"},
	}
	for _, tt := range tests {
		path, display := configPath(env, tt.file)
		if path != tt.path || display != tt.display {
			t.Errorf("configPath(%q) = %q, %q; want %q, %q", tt.file, path, display, tt.path, tt.display)
		}
	}
}
