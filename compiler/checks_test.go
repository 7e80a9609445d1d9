package compiler

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/nix2gpu/nix2gpu/config"
)

func TestParseAttrPath(t *testing.T) {
	tests := []struct {
		in      string
		want    AttrPath
		err     string
		offset  int
		printed string
	}{
		{in: "git", want: AttrPath{"git"}, printed: "git"},
		{in: "python312Packages.torch", want: AttrPath{"python312Packages", "torch"}, printed: "python312Packages.torch"},
		{in: `nodePackages."@angular/cli"`, want: AttrPath{"nodePackages", "@angular/cli"}, printed: `nodePackages."@angular/cli"`},
		{in: `a."b.c".d`, want: AttrPath{"a", "b.c", "d"}, printed: `a."b.c".d`},
		{in: `a."x\"y"`, want: AttrPath{"a", `x"y`}, printed: `a."x\"y"`},
		{in: `a."${x}"`, want: AttrPath{"a", "${x}"}, printed: `a."\${x}"`},
		{in: `a."tab\there"`, want: AttrPath{"a", "tab\there"}, printed: `a."tab\there"`},
		{in: "a-b'c._x", want: AttrPath{"a-b'c", "_x"}, printed: "a-b'c._x"},
		{in: "", err: "empty attribute path", offset: 0},
		{in: "a..b", err: "empty segment", offset: 2},
		{in: ".a", err: "empty segment", offset: 0},
		{in: "a.", err: "attribute path ends with a dot", offset: 2},
		{in: "1a", err: `segment "1a" starts with a digit`, offset: 0},
		{in: "a.b c", err: "unexpected character ' '", offset: 3},
		{in: `a."b`, err: "unterminated quoted segment", offset: 2},
		{in: `a.""`, err: "empty quoted segment", offset: 2},
		{in: `a."b"c`, err: "unexpected character 'c'", offset: 5},
		{in: "é", err: "unexpected character 'é'", offset: 0},
	}
	for _, tt := range tests {
		got, err := ParseAttrPath(tt.in)
		if tt.err != "" {
			ae, ok := err.(*AttrPathError)
			if !ok || ae.Reason != tt.err || ae.Offset != tt.offset {
				t.Errorf("ParseAttrPath(%q) error = %v (%#v), want %q at %d", tt.in, err, err, tt.err, tt.offset)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("ParseAttrPath(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
			continue
		}
		if got.String() != tt.printed {
			t.Errorf("%q.String() = %s, want %s", got, got.String(), tt.printed)
		}
	}
}

// TestSecretsOnDisk checks secrets files against a real directory, where
// symlinks can point anywhere.
func TestSecretsOnDisk(t *testing.T) {
	root := t.TempDir()
	proj := filepath.Join(root, "proj")
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.MkdirAll(filepath.Join(proj, "secrets", "dir"), 0o755))
	must(os.WriteFile(filepath.Join(proj, "secrets", "ok.age"), []byte("age-encryption.org/v1\n-> X25519 x\n"), 0o600))
	must(os.WriteFile(filepath.Join(root, "outside.age"), []byte("age-encryption.org/v1\n"), 0o600))
	must(os.Symlink("ok.age", filepath.Join(proj, "secrets", "inside-link.age")))
	must(os.Symlink("../../outside.age", filepath.Join(proj, "secrets", "escape.age")))
	must(os.Symlink(filepath.Join(root, "outside.age"), filepath.Join(proj, "secrets", "absolute.age")))
	must(os.Symlink("..", filepath.Join(proj, "up")))
	must(os.Symlink("loop", filepath.Join(proj, "loop")))
	src := `containers:
  app:
    secrets:
      a: {file: secrets/ok.age}
      b: {file: secrets/inside-link.age}
      c: {file: secrets/escape.age}
      d: {file: secrets/absolute.age}
      e: {file: up/outside.age}
      f: {file: secrets/missing.age}
      g: {file: secrets/dir}
      h: {file: loop}
`
	f, ds := config.Parse("nix2gpu.yaml", []byte(src), config.Limits{})
	if ds.HasErrors() {
		t.Fatal(ds)
	}
	p, ds := Compile(f, Options{FS: os.DirFS(proj)})
	want := []string{
		`6:17 error: secret file "secrets/escape.age" resolves outside the project directory through a symlink [containers.app.secrets.c.file]`,
		`7:17 error: secret file "secrets/absolute.age" resolves outside the project directory through a symlink [containers.app.secrets.d.file]`,
		`8:17 error: secret file "up/outside.age" resolves outside the project directory through a symlink [containers.app.secrets.e.file]`,
		`9:17 error: secret file "secrets/missing.age" does not exist [containers.app.secrets.f.file]`,
		`10:17 error: secret file "secrets/dir" is a directory [containers.app.secrets.g.file]`,
		`11:17 error: secret file "loop" does not exist [containers.app.secrets.h.file]`,
	}
	if got := show(ds); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
	var files []string
	for _, s := range p.Containers[0].Secrets {
		files = append(files, s.Name+"="+s.File)
	}
	if got := strings.Join(files, " "); got != "a=secrets/ok.age b=secrets/inside-link.age c= d= e= f= g= h=" {
		t.Errorf("secret files = %s", got)
	}
	// Without an FS only the shape is checked.
	if _, ds := Compile(f, Options{}); len(ds) != 0 {
		t.Errorf("without FS: %v", show(ds))
	}
}

func TestSecretsMapFS(t *testing.T) {
	fsys := fstest.MapFS{"s/k.age": {Data: []byte(ageStub)}}
	f, _ := config.Parse("nix2gpu.yaml", []byte("containers:\n  app:\n    secrets: {k: {file: ./s/../s/k.age}}\n"), config.Limits{})
	p, ds := Compile(f, Options{FS: fsys})
	if len(ds) != 0 || p.Containers[0].Secrets[0].File != "s/k.age" {
		t.Errorf("got %v, %+v", show(ds), p.Containers[0].Secrets)
	}
}

// TestIllTyped feeds values of every wrong type to every field: the schema
// reports those; lowering must skip them without panicking.
func TestIllTyped(t *testing.T) {
	bad := []string{"1", "true", "x", "[1, [2]]", "{a: {b: 1}}", "null", `!nix "x"`}
	fields := []string{"version", "inputs", "systems", "defaults", "containers"}
	cfields := []string{"tag", "builder", "maxLayers", "cuda", "packages", "env", "labels", "ports", "user", "workingDir",
		"entrypoint", "cmd", "startup", "ssh", "tailscale", "secrets", "age", "services", "home", "nixConfig", "registries"}
	var srcs []string
	for _, b := range bad {
		for _, f := range fields {
			srcs = append(srcs, f+": "+b+"\n")
		}
		for _, f := range cfields {
			srcs = append(srcs, "containers:\n  app:\n    "+f+": "+b+"\n")
			srcs = append(srcs, "containers:\n  app:\n    "+f+": {x: "+b+", y: {z: "+b+"}}\n")
			srcs = append(srcs, "containers:\n  app:\n    "+f+": ["+b+"]\n")
			srcs = append(srcs, "defaults:\n  "+f+": "+b+"\ncontainers:\n  app: {}\n")
		}
		for _, sub := range []string{"cuda: {version: B, capabilities: B, packages: B}", "ssh: {enable: B, port: B, authorizedKeys: B}",
			"tailscale: {enable: B, authKeyFile: B}", "secrets: {k: B, l: {file: B, mode: B, path: B}}", "services: {redis: B, pg: {a: B}}",
			"home: {packages: B, programs: B, modules: B, forceRootUser: B, stateVersion: B}", "age: {identityPaths: B}"} {
			srcs = append(srcs, "containers:\n  app:\n    "+strings.ReplaceAll(sub, "B", b)+"\n")
		}
	}
	srcs = append(srcs, "containers:\n  app:\n", "containers: {app: null}\n", "inputs: {x: {url: 1, flake: x, follows: [1]}}\n")
	for _, src := range srcs {
		f, ds := config.Parse("nix2gpu.yaml", []byte(src), config.Limits{})
		if ds.HasErrors() {
			continue
		}
		func() {
			defer func() {
				if r := recover(); r != nil {
					t.Errorf("Compile panicked on %q: %v", src, r)
				}
			}()
			if p, _ := Compile(f, Options{FS: fstest.MapFS{}}); p == nil {
				t.Errorf("Compile(%q) returned no project", src)
			}
		}()
	}
	if p, ds := Compile(nil, Options{}); p == nil || len(ds) != 0 {
		t.Errorf("Compile(nil) = %v, %v", p, ds)
	}
}

func TestDefaultsPaths(t *testing.T) {
	// A mistake inside defaults is reported once, where it was written,
	// however many containers inherit it.
	src := "defaults:\n  cuda: {version: '10.2'}\ncontainers:\n  one: {}\n  two: {}\n"
	f, _ := config.Parse("nix2gpu.yaml", []byte(src), config.Limits{})
	_, ds := Compile(f, Options{})
	want := `2:19 error: unknown CUDA version "10.2" [defaults.cuda.version]`
	if got := show(ds); len(got) != 1 || got[0] != want {
		t.Errorf("got %v, want [%s]", got, want)
	}
}
