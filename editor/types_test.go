package editor

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// A wrong type is reported as a type error in the editor, also for fields
// with a default: a schema that spelled `*50 | int` as anyOf [const 50,
// integer] made the server say "Value must be 50.", which misleads.
func TestWrongTypeMessages(t *testing.T) {
	schemaPath := repoSchema(t)
	root := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c := editorSession(t, ctx, schemaPath, root)
	tests := []struct {
		name string
		doc  string
		want string
	}{
		{"list", "version: 1\ncontainers:\n  app:\n    packages: git\n", `Incorrect type. Expected "array"`},
		{"integer with default", "version: 1\ncontainers:\n  app:\n    maxLayers: lots\n", `Incorrect type. Expected "integer"`},
		{"boolean with default", "version: 1\ncontainers:\n  app:\n    ssh: {enable: maybe}\n", `Incorrect type. Expected "boolean"`},
		{"string with default", "version: 1\ncontainers:\n  app:\n    tag: [a]\n", `Incorrect type. Expected "string"`},
		{"service option", "version: 1\ncontainers:\n  app:\n    services: {postgres: {pg: {port: x}}}\n", `Incorrect type. Expected "integer"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			uri := fileURI(filepath.Join(root, strings.ReplaceAll(tc.name, " ", "-"), "nix2gpu.yaml"))
			if err := c.didOpen(uri, tc.doc); err != nil {
				t.Fatal(err)
			}
			ds, err := c.waitDiagnostics(ctx, uri, func(ds []lspDiagnostic) bool { return len(ds) > 0 })
			if err != nil {
				t.Fatal(err)
			}
			var msgs []string
			for _, d := range ds {
				if d.Range.Start.Line == 3 && strings.Contains(d.Message, tc.want) {
					return
				}
				msgs = append(msgs, d.Message)
			}
			t.Errorf("no %q on line 4; got %q", tc.want, msgs)
		})
	}
}
