package emit_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nix2gpu/nix2gpu/compiler"
	"github.com/nix2gpu/nix2gpu/emit"
)

// TestExamplesGolden pins the generated flake.nix and container files of
// every example.
func TestExamplesGolden(t *testing.T) {
	for _, ex := range examples(t) {
		t.Run(ex, func(t *testing.T) {
			files, err := emit.Generate(compileExample(t, ex))
			if err != nil {
				t.Fatal(err)
			}
			for _, name := range files.Names() {
				if !emit.IsGenerated(files[name]) {
					t.Errorf("%s lacks the generated marker", name)
				}
				if name == "flake.nix" || strings.HasPrefix(name, "nix2gpu/container-") {
					checkGolden(t, ex+"/"+name, files[name])
				}
			}
		})
	}
}

func TestGenerateDeterministic(t *testing.T) {
	for _, ex := range examples(t) {
		p := compileExample(t, ex)
		a, err := emit.Generate(p)
		if err != nil {
			t.Fatal(err)
		}
		b, err := emit.Generate(p)
		if err != nil {
			t.Fatal(err)
		}
		if len(a) != len(b) {
			t.Fatalf("%s: file sets differ", ex)
		}
		for n := range a {
			if !bytes.Equal(a[n], b[n]) {
				t.Errorf("%s: %s differs between two runs", ex, n)
			}
		}
	}
}

func TestGenerateRejects(t *testing.T) {
	ok := func() *compiler.Container {
		return &compiler.Container{Name: "c", Builder: compiler.BuilderDockerTools}
	}
	tests := []struct {
		name string
		p    *compiler.Project
		want string
	}{
		{"nil", nil, "no project"},
		{"no containers", &compiler.Project{Systems: []string{"x86_64-linux"}}, "no containers"},
		{"no systems", &compiler.Project{Containers: []*compiler.Container{ok()}}, "no systems"},
		{"bad builder", &compiler.Project{Systems: []string{"x86_64-linux"}, Containers: []*compiler.Container{{Name: "c", Builder: "kaniko"}}}, "unknown builder"},
		{"duplicate", &compiler.Project{Systems: []string{"x86_64-linux"}, Containers: []*compiler.Container{ok(), ok()}}, "duplicate container"},
		{"escaping secret", &compiler.Project{Systems: []string{"x86_64-linux"}, Containers: []*compiler.Container{{Name: "c", Secrets: []compiler.Secret{{Name: "s", File: "../x.age"}}}}}, "inside the project"},
		{"empty attr path", &compiler.Project{Systems: []string{"x86_64-linux"}, Containers: []*compiler.Container{{Name: "c", Packages: []compiler.AttrPath{{}}}}}, "empty attribute path"},
		{"NUL in a value", &compiler.Project{Systems: []string{"x86_64-linux"}, Containers: []*compiler.Container{{Name: "c", Env: []compiler.EnvVar{{Name: "A", Value: "x\x00y"}}}}}, "NUL"},
		{"input named self", &compiler.Project{Systems: []string{"x86_64-linux"}, Inputs: []compiler.Input{{Name: "self", URL: "x"}}, Containers: []*compiler.Container{ok()}}, "cannot name a flake input"},
		{"bad name", &compiler.Project{Systems: []string{"x86_64-linux"}, Containers: []*compiler.Container{{Name: "a b"}}}, "Nix path"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := emit.Generate(tt.p)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Generate error = %v, want one containing %q", err, tt.want)
			}
		})
	}
}

// TestDataStaysData checks that hostile strings in every data position
// land inside string literals (the Nix evaluation test proves the values
// survive; this one runs without Nix).
func TestDataStaysData(t *testing.T) {
	evil := "x\"; builtins.abort \"pwned\" ${builtins.abort \"y\"} ''${z}"
	p := &compiler.Project{
		Source:  "nix2gpu.yaml\n# injected",
		Systems: []string{"x86_64-linux"},
		Inputs:  []compiler.Input{{Name: "nixpkgs", URL: evil, Flake: true}},
		Containers: []*compiler.Container{{
			Name:     "c",
			Tag:      evil,
			Env:      []compiler.EnvVar{{Name: "A", Value: evil}},
			Labels:   []compiler.Label{{Name: evil, Value: evil}},
			Startup:  evil + "\n" + evil + "\n",
			Packages: []compiler.AttrPath{{"python3Packages", "foo\"bar"}},
			Services: []compiler.Service{{Type: "postgres", Instance: evil, Options: []compiler.Attr{{Name: evil, Value: compiler.String(evil)}}}},
		}},
	}
	files, err := emit.Generate(p)
	if err != nil {
		t.Fatal(err)
	}
	for name, b := range files {
		if strings.Contains(string(b), "builtins.abort \"pwned\"") {
			t.Errorf("%s: user data escaped its string literal:\n%s", name, b)
		}
		if strings.Contains(string(b), "\n# injected") {
			t.Errorf("%s: the source name broke out of the header comment", name)
		}
	}
	if !strings.Contains(string(files["nix2gpu/container-c.nix"]), `pkgs.python3Packages."foo\"bar"`) {
		t.Errorf("odd attribute path segment not quoted:\n%s", files["nix2gpu/container-c.nix"])
	}
}

// TestStubHelpersIdentical: each stub flake carries its own copy of the
// fake-derivation helper (a flake cannot read outside its directory); the
// copies must not drift apart.
func TestStubHelpersIdentical(t *testing.T) {
	ms, err := filepath.Glob(filepath.Join("..", "testdata", "stub-inputs", "*", "fake.nix"))
	if err != nil || len(ms) < 2 {
		t.Fatalf("stub helpers not found: %v", err)
	}
	want, err := os.ReadFile(ms[0])
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range ms[1:] {
		got, err := os.ReadFile(m)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s differs from %s", m, ms[0])
		}
	}
}

// TestSharedNixpkgs: containers with the same CUDA configuration name one
// nixpkgs configuration; different ones get their own.
func TestSharedNixpkgs(t *testing.T) {
	cuda := func(v string, caps ...string) *compiler.CUDA {
		return &compiler.CUDA{Version: v, PackageSet: "cudaPackages_" + strings.ReplaceAll(v, ".", "_"), Capabilities: caps}
	}
	p := &compiler.Project{
		Systems: []string{"x86_64-linux", "aarch64-linux"},
		Containers: []*compiler.Container{
			{Name: "a", CUDA: cuda("12.8", "9.0")},
			{Name: "b", CUDA: cuda("12.8", "9.0")},
			{Name: "c", CUDA: cuda("12.8")},
			{Name: "d", CUDA: cuda("12.6", "9.0")},
			{Name: "e"},
			{Name: "f"},
		},
	}
	files, err := emit.Generate(p)
	if err != nil {
		t.Fatal(err)
	}
	flake := string(files["flake.nix"])
	for _, key := range []string{`"cuda-12.8-sm9.0" = {`, `"cuda-12.8" = {`, `"cuda-12.6-sm9.0" = {`, "cpu = {"} {
		if n := strings.Count(flake, key); n != 1 {
			t.Errorf("flake.nix defines %s %d times, want once:\n%s", key, n, flake)
		}
	}
	if n := strings.Count(flake, "config = {"); n != 4 {
		t.Errorf("flake.nix has %d nixpkgs configurations, want 4", n)
	}
	for name, key := range map[string]string{"a": "cuda-12.8-sm9.0", "b": "cuda-12.8-sm9.0", "e": "cpu", "f": "cpu"} {
		if !strings.Contains(string(files["nix2gpu/container-"+name+".nix"]), `nixpkgs = "`+key+`";`) {
			t.Errorf("container %s does not use nixpkgs configuration %s", name, key)
		}
	}
}
