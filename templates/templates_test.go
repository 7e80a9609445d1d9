package templates

import (
	"io/fs"
	"strings"
	"testing"
)

// Every embedded file has a description and every description a file, so
// `init --list` and the files cannot drift apart.
func TestListMatchesFiles(t *testing.T) {
	embedded, err := fs.Glob(files, "*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range embedded {
		names = append(names, strings.TrimSuffix(f, ".yaml"))
	}
	if got, want := strings.Join(names, " "), strings.Join(Names(), " "); got != want {
		t.Errorf("embedded templates %q, described %q", got, want)
	}
	if _, ok := descriptions[Default]; !ok {
		t.Errorf("default template %q does not exist", Default)
	}
}

func TestRender(t *testing.T) {
	for _, name := range Names() {
		t.Run(name, func(t *testing.T) {
			b, err := Render(name, "../schema/nix2gpu.schema.json")
			if err != nil {
				t.Fatal(err)
			}
			first, _, _ := strings.Cut(string(b), "\n")
			if want := "# yaml-language-server: $schema=../schema/nix2gpu.schema.json"; first != want {
				t.Errorf("first line %q, want %q", first, want)
			}
			if strings.Contains(string(b), schemaPlaceholder) {
				t.Error("placeholder left in the output")
			}
			if !strings.Contains(string(b), "\nversion: 1\n") {
				t.Error("template lacks version: 1")
			}
		})
	}
	if _, err := Render("nope", DefaultSchemaURL); err == nil || !strings.Contains(err.Error(), "basic, comfyui, home, services") {
		t.Errorf("unknown template error = %v", err)
	}
	if _, err := Render(Default, "x\n"); err == nil {
		t.Error("a multi-line schema reference must be refused")
	}
}
