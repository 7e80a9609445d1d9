package emit_test

import (
	"encoding/json"
	"fmt"
	"io"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"runtime"
	"sort"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/nix2gpu/nix2gpu/compiler"
	"github.com/nix2gpu/nix2gpu/emit"
	"github.com/nix2gpu/nix2gpu/image"
)

// TestNixParse parses every generated file of every example with
// nix-instantiate --parse, in one call.
func TestNixParse(t *testing.T) {
	n := needNix(t)
	dir := t.TempDir()
	var paths []string
	for _, ex := range examples(t) {
		files, err := emit.Generate(compileExample(t, ex))
		if err != nil {
			t.Fatal(err)
		}
		writeFiles(t, filepath.Join(dir, ex), files)
		for _, name := range files.Names() {
			paths = append(paths, filepath.Join(dir, ex, filepath.FromSlash(name)))
		}
	}
	n.run("nix-instantiate", append([]string{"--parse"}, paths...)...)
}

// evalRecord is what the Nix evaluation golden holds for one example: the
// image configurations and, per system and container, what the image
// builder and the other upstream functions were given.
const evalRecord = `ps: builtins.mapAttrs (system: s: builtins.mapAttrs (name: b: {
  image = b.image.stubRecord;
  services = if b.services == null then null else b.services.stubRecord;
  home = if b.home == null then null else b.home.config.home.path.stubRecord;
  push = b.push.stubRecord;
  load = b.load.stubRecord;
}) s.nix2gpu-parts) ps`

// TestNixEvalExamples evaluates each example with the stub inputs and
// compares the image configuration and the recorded builder arguments
// with golden JSON.
func TestNixEvalExamples(t *testing.T) {
	n := needNix(t)
	for _, ex := range examples(t) {
		t.Run(ex, func(t *testing.T) {
			n := n.with(t)
			p := compileExample(t, ex)
			files, err := emit.Generate(p)
			if err != nil {
				t.Fatal(err)
			}
			dir := t.TempDir()
			writeFiles(t, dir, files)
			copyTree(t, filepath.Join("..", "examples", ex), dir)
			cfg := n.evalJSON(dir, "nix2gpu", "", p, nil)
			checkGolden(t, ex+"/imageConfig.json", indentJSON(t, cfg))
			built := n.evalJSON(dir, "legacyPackages", evalRecord, p, nil)
			checkGolden(t, ex+"/builders.json", indentJSON(t, built))

			checkScripts(t, built)

			// The shape of the other outputs.
			names := "builtins.mapAttrs (_: builtins.attrNames)"
			outputs := map[string]json.RawMessage{
				"packages":  n.evalJSON(dir, "packages", names, p, nil),
				"checks":    n.evalJSON(dir, "checks", names, p, nil),
				"hydraJobs": n.evalJSON(dir, "hydraJobs", names, p, nil),
				"apps": n.evalJSON(dir, "apps", `builtins.mapAttrs (_: builtins.mapAttrs (_: a: {
  inherit (a) type;
  program = baseNameOf a.program;
}))`, p, nil),
			}
			b, err := json.Marshal(outputs)
			if err != nil {
				t.Fatal(err)
			}
			checkGolden(t, ex+"/outputs.json", indentJSON(t, b))

			// The image configuration is the IR's, unchanged.
			var got map[string]map[string]struct {
				ImageConfig struct {
					Env    []string
					Labels map[string]string
				} `json:"imageConfig"`
			}
			if err := json.Unmarshal(cfg, &got); err != nil {
				t.Fatal(err)
			}
			for _, sys := range p.Systems {
				for _, c := range p.Containers {
					ic := got[sys][c.Name].ImageConfig
					var env []string
					for _, e := range c.Env {
						env = append(env, e.Name+"="+e.Value)
					}
					if !reflect.DeepEqual(ic.Env, env) {
						t.Errorf("%s/%s Env = %q, want %q", sys, c.Name, ic.Env, env)
					}
					if len(ic.Labels) != len(c.Labels) {
						t.Errorf("%s/%s has %d labels, want %d", sys, c.Name, len(ic.Labels), len(c.Labels))
					}
				}
			}
		})
	}
}

// copyTree copies the non-generated project files (secrets) next to the
// generated flake.
func copyTree(t *testing.T, from, to string) {
	t.Helper()
	err := filepath.WalkDir(from, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(from, path)
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		dst := filepath.Join(to, rel)
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return err
		}
		return os.WriteFile(dst, b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// randomStrings returns strings made of the pieces that break naive
// escaping, and random Unicode.
func randomStrings(r *rand.Rand, n int) []string {
	pieces := []string{
		"${x}", "''${", "''", "'''", "$", "$$", "$${", "{", "}", "\\", "\\\\", "\"", "\n", "\r", "\t",
		"\\n", "\\${", "''\\", " ", "  ", "a", "Z", "0", "é", "日本", "🚀", "\u2028", "\x01", "\x7f", "#", "/*", "*/", ";", "=",
		"#!", "''$", "inherit", "${builtins.abort \"x\"}",
	}
	out := make([]string, n)
	for i := range out {
		var b strings.Builder
		for k := r.Intn(12); k >= 0; k-- {
			if r.Intn(4) == 0 {
				c := rune(r.Intn(0x2ffff) + 1)
				if utf8.ValidRune(c) && c != 0xfeff {
					b.WriteRune(c)
				}
				continue
			}
			b.WriteString(pieces[r.Intn(len(pieces))])
		}
		out[i] = b.String()
	}
	return out
}

// TestNixStringRoundTrip puts random hostile strings into env values,
// label names and values, and startup scripts, and checks that real Nix
// evaluation of the generated flake gives them back byte for byte. All
// strings go through one evaluation.
func TestNixStringRoundTrip(t *testing.T) {
	n := needNix(t)
	r := rand.New(rand.NewSource(20261125))
	const count = 120
	values := randomStrings(r, count)
	names := randomStrings(r, count)
	scripts := randomStrings(r, 30)
	// Multi-line scripts exercise the indented-string form.
	for i := range scripts {
		if i%2 == 0 {
			scripts[i] = "echo start\n" + scripts[i] + "\n  indented\n\nend\n"
		}
	}
	c := &compiler.Container{Name: "prop", Builder: compiler.BuilderDockerTools, Tag: "t"}
	for i, v := range values {
		c.Env = append(c.Env, compiler.EnvVar{Name: fmt.Sprintf("V%03d", i), Value: v})
	}
	seen := map[string]bool{}
	for i, name := range names {
		if seen[name] {
			continue
		}
		seen[name] = true
		c.Labels = append(c.Labels, compiler.Label{Name: name, Value: values[i]})
	}
	sort.Slice(c.Labels, func(i, j int) bool { return c.Labels[i].Name < c.Labels[j].Name })
	// Service options and home-manager programs: names and values, nested.
	var opts compiler.Attrs
	for _, l := range c.Labels {
		opts = append(opts, compiler.Attr{Name: l.Name, Value: compiler.List{compiler.String(l.Value), compiler.Attrs{{Name: l.Name, Value: compiler.String(l.Value)}}}})
	}
	c.Services = []compiler.Service{{Type: "postgres", Instance: "pg", Options: opts}}
	c.Home = &compiler.Home{Programs: []compiler.Attr{{Name: "git", Value: opts}}}
	p := &compiler.Project{
		Source:     "nix2gpu.yaml",
		Systems:    []string{"x86_64-linux"},
		Inputs:     []compiler.Input{{Name: "nixpkgs", URL: "github:NixOS/nixpkgs/nixos-unstable", Flake: true}},
		Containers: []*compiler.Container{c},
	}
	for i, s := range scripts {
		p.Containers = append(p.Containers, &compiler.Container{
			Name: fmt.Sprintf("s%02d", i), Builder: compiler.BuilderDockerTools, Startup: s,
		})
	}
	files, err := emit.Generate(p)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	writeFiles(t, dir, files)
	var got struct {
		Config struct {
			Env    []string
			Labels map[string]string
		}
		Scripts  []string
		Services map[string]map[string]map[string][]any
		Programs map[string]map[string][]any
	}
	n.evalJSON(dir, "legacyPackages", `ps: let b = ps.x86_64-linux.nix2gpu-parts; in {
  Config = b.prop.image.stubRecord.config;
  Services = b.prop.spec.services;
  Programs = b.prop.spec.home.programs;
  Scripts = map (n: b.${n}.spec.startup.script) (builtins.filter (n: n != "prop") (builtins.attrNames b));
}`, p, &got)
	for i, v := range values {
		want := fmt.Sprintf("V%03d=%s", i, v)
		if i >= len(got.Config.Env) || got.Config.Env[i] != want {
			t.Errorf("env %d: got %q, want %q", i, at(got.Config.Env, i), want)
		}
	}
	for _, l := range c.Labels {
		if got.Config.Labels[l.Name] != l.Value {
			t.Errorf("label %q: got %q, want %q", l.Name, got.Config.Labels[l.Name], l.Value)
		}
	}
	if len(got.Config.Labels) != len(c.Labels) {
		t.Errorf("got %d labels, want %d", len(got.Config.Labels), len(c.Labels))
	}
	for _, l := range c.Labels {
		for what, v := range map[string][]any{
			"service option": got.Services["postgres"]["pg"][l.Name],
			"home program":   got.Programs["git"][l.Name],
		} {
			if len(v) != 2 || v[0] != l.Value {
				t.Errorf("%s %q: got %v, want [%q ...]", what, l.Name, v, l.Value)
				continue
			}
			if m, ok := v[1].(map[string]any); !ok || m[l.Name] != l.Value {
				t.Errorf("%s %q: nested value %v", what, l.Name, v[1])
			}
		}
	}
	for i, s := range scripts {
		if at(got.Scripts, i) != s {
			t.Errorf("startup %d: got %q, want %q", i, at(got.Scripts, i), s)
		}
	}
}

func at(ss []string, i int) string {
	if i < len(ss) {
		return ss[i]
	}
	return "<missing>"
}

// TestNixBuildExample builds one example's image for real, offline, with
// the stub inputs: every derivation in the graph runs.
func TestNixBuildExample(t *testing.T) {
	n := needNix(t)
	if runtime.GOOS != "linux" || runtime.GOARCH != "amd64" {
		t.Skip("the build test builds for x86_64-linux")
	}
	p := compileExample(t, "comfyui")
	files, err := emit.Generate(p)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	writeFiles(t, dir, files)
	link := filepath.Join(n.home, "result")
	args := append([]string{"build", "--no-write-lock-file", "--out-link", link, "path:" + dir + "#packages.x86_64-linux.comfyui"}, stubOverrides(t, p)...)
	n.run("nix", args...)
	b, err := os.ReadFile(link)
	if err != nil {
		t.Fatalf("the build left no artifact: %v", err)
	}
	// The stub nix2container writes a real image file, with the arguments
	// it was given under an extra key.
	var art struct {
		Version int            `json:"version"`
		Record  map[string]any `json:"stub-record"`
	}
	if err := json.Unmarshal(b, &art); err != nil {
		t.Fatalf("artifact is not JSON: %v\n%s", err, b)
	}
	rec := art.Record
	if rec["name"] != "comfyui" || rec["tag"] != "0.3" {
		t.Errorf("artifact records name %v tag %v", rec["name"], rec["tag"])
	}
	if art.Version != 1 {
		t.Errorf("artifact has image format version %d, want 1", art.Version)
	}
	// Every layer streams from the store with the digest the file records.
	img, err := image.OpenNix2Container(link)
	if err != nil {
		t.Fatal(err)
	}
	layers, err := img.Layers()
	if err != nil || len(layers) == 0 {
		t.Fatalf("image layers: %d, %v", len(layers), err)
	}
	for i, l := range layers {
		rc, err := l.Compressed()
		if err != nil {
			t.Fatal(err)
		}
		_, err = io.Copy(io.Discard, rc)
		rc.Close()
		if err != nil {
			t.Errorf("layer %d: %v", i, err)
		}
	}
}

// TestImageConfigNeedsNoNixpkgs evaluates the image configurations with a
// nixpkgs that throws when imported: they are plain data.
func TestImageConfigNeedsNoNixpkgs(t *testing.T) {
	n := needNix(t)
	poison, err := filepath.Abs(filepath.Join("testdata", "poison-nixpkgs"))
	if err != nil {
		t.Fatal(err)
	}
	for _, ex := range []string{"comfyui", "multi-container", "custom-home"} {
		p := compileExample(t, ex)
		files, err := emit.Generate(p)
		if err != nil {
			t.Fatal(err)
		}
		dir := t.TempDir()
		writeFiles(t, dir, files)
		args := []string{"eval", "--json", "--no-write-lock-file", "path:" + dir + "#nix2gpu"}
		ov := stubOverrides(t, p)
		for i := 0; i+2 < len(ov)+1; i += 3 {
			if ov[i+1] == "nixpkgs" {
				ov[i+2] = "path:" + poison
			}
		}
		args = append(args, ov...)
		out := n.run("nix", args...)
		if !strings.Contains(string(out), `"imageConfig"`) {
			t.Errorf("%s: no imageConfig in %s", ex, out)
		}
	}
}

// checkScripts runs `bash -n` on every shell program the stubs recorded
// (writeShellScriptBin and writeShellScript calls: objects with "text").
func checkScripts(t *testing.T, recorded []byte) {
	t.Helper()
	bash, err := exec.LookPath("bash")
	if err != nil {
		return
	}
	var v any
	if err := json.Unmarshal(recorded, &v); err != nil {
		t.Fatal(err)
	}
	checked := 0
	defer func() {
		if checked == 0 {
			t.Errorf("no shell programs found in the recorded arguments")
		}
	}()
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			name, _ := v["<drv>"].(string)
			if text, ok := v["text"].(string); ok && !strings.HasPrefix(name, "etc") && !strings.Contains(name, ".") && !strings.HasSuffix(name, "sshd_config") && !strings.HasSuffix(name, "authorized_keys") && name != "passwd" && name != "group" {
				checked++
				cmd := exec.Command(bash, "-n")
				cmd.Stdin = strings.NewReader(text)
				if out, err := cmd.CombinedOutput(); err != nil {
					t.Errorf("shell program %s does not parse: %v\n%s\n%s", name, err, out, text)
				}
			}
			for _, x := range v {
				walk(x)
			}
		case []any:
			for _, x := range v {
				walk(x)
			}
		}
	}
	walk(v)
}
