package emit_test

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/nix2gpu/nix2gpu/compiler"
	"github.com/nix2gpu/nix2gpu/config"
	"github.com/nix2gpu/nix2gpu/emit"
	"github.com/nix2gpu/nix2gpu/schema"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/golden")

// examples lists the example projects, by directory name.
func examples(t *testing.T) []string {
	t.Helper()
	ms, err := filepath.Glob(filepath.Join("..", "examples", "*", "nix2gpu.yaml"))
	if err != nil || len(ms) == 0 {
		t.Fatalf("no examples found: %v", err)
	}
	var names []string
	for _, m := range ms {
		names = append(names, filepath.Base(filepath.Dir(m)))
	}
	sort.Strings(names)
	return names
}

// compileExample runs the front end on examples/<name>.
func compileExample(t *testing.T, name string) *compiler.Project {
	t.Helper()
	dir := filepath.Join("..", "examples", name)
	f, ds := config.Load(filepath.Join(dir, "nix2gpu.yaml"), config.Limits{})
	if ds.HasErrors() {
		t.Fatalf("loading example %s: %v", name, ds)
	}
	if ds := loadSchema(t).Validate(f); ds.HasErrors() {
		t.Fatalf("example %s does not match the schema: %v", name, ds)
	}
	p, ds := compiler.Compile(f, compiler.Options{FS: os.DirFS(dir)})
	if ds.HasErrors() || p == nil {
		t.Fatalf("compiling example %s: %v", name, ds)
	}
	return p
}

// loadSchema returns the built-in schema; loading it costs nothing.
func loadSchema(t testing.TB) *schema.Schema {
	t.Helper()
	s, err := schema.Load()
	if err != nil {
		t.Fatalf("schema: %v", err)
	}
	return s
}

// writeFiles writes generated files under dir.
func writeFiles(t *testing.T, dir string, files emit.Files) {
	t.Helper()
	for name, b := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// checkGolden compares got with testdata/golden/<name>, or rewrites it
// under -update.
func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	p := filepath.Join("testdata", "golden", filepath.FromSlash(name))
	if *update {
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(p)
	if err != nil {
		t.Fatalf("%v (run go test ./emit -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from its golden file (go test ./emit -update rewrites it after a deliberate change)\n--- got\n%s\n--- want\n%s", name, got, want)
	}
}

// nixEnv is a Nix that works offline inside the test's temporary directory.
type nixEnv struct {
	t    *testing.T
	home string
	bin  string
}

func needNix(t *testing.T) *nixEnv {
	t.Helper()
	bin, err := exec.LookPath("nix")
	if err != nil {
		t.Skip("nix is not installed; skipping the Nix evaluation tests (CI installs it)")
	}
	return &nixEnv{t: t, home: t.TempDir(), bin: bin}
}

// with returns the same Nix for a subtest.
func (n *nixEnv) with(t *testing.T) *nixEnv { return &nixEnv{t: t, home: n.home, bin: n.bin} }

// run runs a nix command (nix, nix-instantiate) and returns stdout.
func (n *nixEnv) run(name string, args ...string) []byte {
	n.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	bin := n.bin
	if name != "nix" {
		bin = filepath.Join(filepath.Dir(n.bin), name)
	}
	all := append([]string{
		"--option", "substituters", "",
		"--option", "experimental-features", "nix-command flakes",
	}, args...)
	if name == "nix-instantiate" {
		all = args
	}
	cmd := exec.CommandContext(ctx, bin, all...)
	cmd.Env = append(os.Environ(),
		"HOME="+n.home,
		"XDG_CACHE_HOME="+filepath.Join(n.home, "cache"),
		"XDG_CONFIG_HOME="+filepath.Join(n.home, "config"),
		"XDG_DATA_HOME="+filepath.Join(n.home, "data"),
		"XDG_STATE_HOME="+filepath.Join(n.home, "state"),
		"NIX_CONFIG=substituters =\nexperimental-features = nix-command flakes",
	)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		n.t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, stderr.String())
	}
	return stdout.Bytes()
}

// stubOverrides points every input of p at its stub flake.
func stubOverrides(t *testing.T, p *compiler.Project) []string {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", "testdata", "stub-inputs"))
	if err != nil {
		t.Fatal(err)
	}
	var args []string
	for _, in := range p.Inputs {
		dir := filepath.Join(root, in.Name)
		if _, err := os.Stat(filepath.Join(dir, "flake.nix")); err != nil {
			t.Fatalf("no stub flake for input %q under testdata/stub-inputs", in.Name)
		}
		args = append(args, "--override-input", in.Name, "path:"+dir)
	}
	return args
}

// evalJSON evaluates attr of the flake in dir with stub inputs, applying
// fn, and decodes the JSON.
func (n *nixEnv) evalJSON(dir, attr, fn string, p *compiler.Project, into any) []byte {
	n.t.Helper()
	args := []string{"eval", "--json", "--no-write-lock-file", "path:" + dir + "#" + attr}
	if fn != "" {
		args = append(args, "--apply", fn)
	}
	args = append(args, stubOverrides(n.t, p)...)
	out := n.run("nix", args...)
	if into != nil {
		if err := json.Unmarshal(out, into); err != nil {
			n.t.Fatalf("decoding nix eval output: %v\n%s", err, out)
		}
	}
	return out
}

// indentJSON re-indents JSON for readable golden files.
func indentJSON(t *testing.T, b []byte) []byte {
	t.Helper()
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("bad JSON: %v", err)
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}
