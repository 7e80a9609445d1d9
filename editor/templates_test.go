package editor

import (
	"context"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nix2gpu/nix2gpu/templates"
)

func TestTemplatesInEditor(t *testing.T) {
	schemaPath := repoSchema(t)
	root := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c := editorSession(t, ctx, schemaPath, root)

	// What `nix2gpu init --schema PATH` writes: every template is clean
	// for the editor too, with the schema found through a relative path.
	for _, name := range templates.Names() {
		t.Run("template/"+name, func(t *testing.T) {
			dir := filepath.Join(root, "templates", name)
			rel, err := filepath.Rel(dir, schemaPath)
			if err != nil {
				t.Fatal(err)
			}
			text, err := templates.Render(name, filepath.ToSlash(rel))
			if err != nil {
				t.Fatal(err)
			}
			uri := fileURI(filepath.Join(dir, "project.yaml"))
			if err := c.didOpen(uri, string(text)); err != nil {
				t.Fatal(err)
			}
			// One validation per open document: its first publication is
			// the verdict.
			ds, err := c.waitDiagnostics(ctx, uri, func([]lspDiagnostic) bool { return true })
			if err != nil {
				t.Fatal(err)
			}
			for _, d := range ds {
				t.Errorf("%s:%d:%d: %s", name, d.Range.Start.Line+1, d.Range.Start.Character+1, d.Message)
			}
			// The schema really applies: completion offers its keys.
			items, err := c.completion(ctx, uri, position{Line: strings.Count(string(text), "\n"), Character: 0})
			if err != nil {
				t.Fatal(err)
			}
			if got := labels(items); !slices.Contains(got, "defaults") && !slices.Contains(got, "inputs") {
				t.Errorf("completion at the end of the %s template lacks top-level keys; got %q", name, got)
			}
		})
	}
}
