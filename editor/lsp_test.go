package editor

import (
	"context"
	"encoding/json"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// cursor marks the position of a request inside a test document.
const cursor = "‸"

// findServer returns the command that starts the YAML language server:
// the copy pinned in this directory (npm ci) or one on PATH.
func findServer(t *testing.T) (string, []string) {
	t.Helper()
	if _, err := exec.LookPath("node"); err != nil {
		t.Skip("node is not installed; the editor test needs Node.js and yaml-language-server (run npm ci in editor/)")
	}
	local, err := filepath.Abs(filepath.Join("node_modules", ".bin", "yaml-language-server"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(local); err == nil {
		return local, []string{"--stdio"}
	}
	if p, err := exec.LookPath("yaml-language-server"); err == nil {
		return p, []string{"--stdio"}
	}
	t.Skip("yaml-language-server not found: run `npm ci` in editor/ or install it on PATH")
	return "", nil
}

// fileURI turns an absolute path into a file:// URI.
func fileURI(path string) string {
	return (&url.URL{Scheme: "file", Path: filepath.ToSlash(path)}).String()
}

// splitCursor removes the cursor marker from doc and returns the text and
// the LSP position of the marker (documents here are ASCII, so UTF-16 and
// byte columns agree).
func splitCursor(t *testing.T, doc string) (string, position) {
	t.Helper()
	i := strings.Index(doc, cursor)
	if i < 0 {
		return doc, position{}
	}
	before := doc[:i]
	line := strings.Count(before, "\n")
	col := utf8.RuneCountInString(before[strings.LastIndex(before, "\n")+1:])
	return before + doc[i+len(cursor):], position{Line: line, Character: col}
}

func labels(items []completionItem) []string {
	var out []string
	for _, it := range items {
		out = append(out, it.Label)
	}
	slices.Sort(out)
	return out
}

// editorSession starts the server with yaml.schemas mapping the schema to
// every nix2gpu.yaml, as a user's editor settings would.
func editorSession(t *testing.T, ctx context.Context, schemaPath, root string) *lspClient {
	t.Helper()
	name, args := findServer(t)
	settings := map[string]any{
		"yaml": map[string]any{
			"validate":   true,
			"hover":      true,
			"completion": true,
			// No network here; the public schema store would be fetched.
			"schemaStore": map[string]any{"enable": false},
			"schemas": map[string]any{
				fileURI(schemaPath): []string{"nix2gpu.yaml", "**/nix2gpu.yaml"},
			},
		},
		"http":   map[string]any{},
		"[yaml]": map[string]any{},
		"editor": map[string]any{},
		"files":  map[string]any{},
	}
	c := startServer(t, settings, name, args...)
	if err := c.initialize(ctx, fileURI(root)); err != nil {
		t.Fatalf("initialize: %v", err)
	}
	t.Cleanup(func() {
		sctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		if err := c.shutdown(sctx); err != nil {
			t.Logf("shutdown: %v", err)
		}
	})
	return c
}

// repoSchema is the JSON Schema the schema package exports and users point
// their editors at.
func repoSchema(t *testing.T) string {
	t.Helper()
	p, err := filepath.Abs(filepath.Join("..", "schema", "nix2gpu.schema.json"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("the exported JSON Schema is missing: %v", err)
	}
	return p
}

// schemaString reads the string at a JSON path of the schema file.
func schemaString(t *testing.T, schemaPath string, keys ...string) string {
	t.Helper()
	b, err := os.ReadFile(schemaPath)
	if err != nil {
		t.Fatal(err)
	}
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	for _, k := range keys {
		m, ok := v.(map[string]any)
		if !ok {
			t.Fatalf("schema has no %v", keys)
		}
		v = m[k]
	}
	s, ok := v.(string)
	if !ok || s == "" {
		t.Fatalf("schema has no string at %v", keys)
	}
	return s
}

func TestLanguageServer(t *testing.T) {
	schemaPath := repoSchema(t)
	root := t.TempDir()
	// The deadline bounds every wait below; it is not a timing assertion.
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c := editorSession(t, ctx, schemaPath, root)

	completions := []struct {
		name string
		doc  string
		want []string
	}{
		{
			name: "top-level keys",
			doc:  "version: 1\n" + cursor + "\n",
			want: []string{"containers", "defaults", "inputs", "systems"},
		},
		{
			name: "container keys",
			doc:  "version: 1\ncontainers:\n  app:\n    tag: latest\n    " + cursor + "\n",
			want: []string{"cuda", "env", "home", "packages", "ports", "services", "ssh"},
		},
		{
			name: "enum values",
			doc:  "version: 1\ncontainers:\n  app:\n    builder: " + cursor + "\n",
			want: []string{"dockerTools", "nix2container"},
		},
		{
			name: "service types",
			doc:  "version: 1\ncontainers:\n  app:\n    services:\n      " + cursor + "\n",
			want: []string{"comfyui", "postgres", "redis", "vllm"},
		},
		{
			name: "postgres instance options",
			doc:  "version: 1\ncontainers:\n  app:\n    services:\n      postgres:\n        pg1:\n          enable: true\n          " + cursor + "\n",
			want: []string{"dataDir", "initialDatabases", "port"},
		},
	}
	for i, tc := range completions {
		t.Run("completion/"+tc.name, func(t *testing.T) {
			dir := filepath.Join(root, "c"+string(rune('a'+i)))
			uri := fileURI(filepath.Join(dir, "nix2gpu.yaml"))
			text, pos := splitCursor(t, tc.doc)
			if err := c.didOpen(uri, text); err != nil {
				t.Fatal(err)
			}
			items, err := c.completion(ctx, uri, pos)
			if err != nil {
				t.Fatal(err)
			}
			got := labels(items)
			for _, w := range tc.want {
				if !slices.Contains(got, w) {
					t.Errorf("completion at %v lacks %q; got %q", pos, w, got)
				}
			}
		})
	}

	t.Run("hover", func(t *testing.T) {
		uri := fileURI(filepath.Join(root, "hover", "nix2gpu.yaml"))
		text, pos := splitCursor(t, "version: 1\ncontainers:\n  app:\n    max"+cursor+"Layers: 50\n")
		if err := c.didOpen(uri, text); err != nil {
			t.Fatal(err)
		}
		got, err := c.hover(ctx, uri, pos)
		if err != nil {
			t.Fatal(err)
		}
		want := schemaString(t, schemaPath, "definitions", "Container", "properties", "maxLayers", "description")
		if !strings.Contains(got, want) {
			t.Errorf("hover on maxLayers = %q, want the schema description %q", got, want)
		}
	})

	t.Run("diagnostic for a wrong type", func(t *testing.T) {
		uri := fileURI(filepath.Join(root, "diag", "nix2gpu.yaml"))
		text := "version: 1\ncontainers:\n  app:\n    packages: git\n"
		if err := c.didOpen(uri, text); err != nil {
			t.Fatal(err)
		}
		ds, err := c.waitDiagnostics(ctx, uri, func(ds []lspDiagnostic) bool {
			for _, d := range ds {
				if d.Range.Start.Line == 3 {
					return true
				}
			}
			return false
		})
		if err != nil {
			t.Fatalf("%v (last: %+v)", err, ds)
		}
		for _, d := range ds {
			if d.Range.Start.Line == 3 && !strings.Contains(strings.ToLower(d.Message), "type") {
				t.Errorf("diagnostic on line 4 = %q, want a type error (packages is a list)", d.Message)
			}
		}
	})

	t.Run("modeline", func(t *testing.T) {
		// A file not named nix2gpu.yaml picks the schema up from its
		// first-line comment, as `nix2gpu init` writes it.
		uri := fileURI(filepath.Join(root, "modeline", "gpu-images.yaml"))
		text, pos := splitCursor(t, "# yaml-language-server: $schema="+fileURI(schemaPath)+"\nversion: 1\n"+cursor+"\n")
		if err := c.didOpen(uri, text); err != nil {
			t.Fatal(err)
		}
		items, err := c.completion(ctx, uri, pos)
		if err != nil {
			t.Fatal(err)
		}
		if got := labels(items); !slices.Contains(got, "containers") {
			t.Errorf("completion with the modeline lacks %q; got %q", "containers", got)
		}
	})
}
