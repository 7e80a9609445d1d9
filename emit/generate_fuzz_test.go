package emit_test

import (
	"bytes"
	"testing"
	"testing/fstest"
	"unicode/utf8"

	"github.com/nix2gpu/nix2gpu/bench/benchdata"
	"github.com/nix2gpu/nix2gpu/compiler"
	"github.com/nix2gpu/nix2gpu/config"
	"github.com/nix2gpu/nix2gpu/diag"
	"github.com/nix2gpu/nix2gpu/emit"
	"github.com/nix2gpu/nix2gpu/schema"
)

var fuzzLimits = config.Limits{MaxBytes: 8192, MaxDepth: 12, MaxNodes: 2048, MaxStringBytes: 1024}

var fuzzFS = fstest.MapFS{"secrets/ts-auth.age": {Data: []byte("age-encryption.org/v1\n-> X25519 stub\n")}}

// generateSeeds put hostile text into every free-text field that reaches
// the generated Nix.
var generateSeeds = []string{
	"version: 1\ncontainers:\n  app: {}\n",
	"version: 1\ncontainers:\n  app:\n    env: { A: \"${builtins.readFile /etc/passwd}\", B: \"\\\"; builtins.exec [\\\"sh\\\"]; \\\"\", C: \"'' + x\", D: \"$${x}\" }\n",
	"version: 1\ncontainers:\n  app:\n    labels: { org.example.a: \"${y}\", org.example.b: \"''${e}\\\"; x\" }\n    user: \"root${x}\"\n    workingDir: \"/w/${x}\"\n",
	"version: 1\ncontainers:\n  app:\n    startup: |\n      echo ${HOME}\n      echo ''${x}'' \"${y}\"\n    entrypoint: [\"/bin/sh\", \"-c\", \"${x}\"]\n",
	"version: 1\ncontainers:\n  app:\n    packages: ['nodePackages.\"@scope/${x}\"']\n    home:\n      packages: [ripgrep]\n      programs: { git: { enable: true, userName: \"${x}\" } }\n",
	"version: 1\ncontainers:\n  app:\n    secrets:\n      ts: { file: secrets/ts-auth.age, path: \"/run/${x}\", mode: \"0400\" }\n    tailscale: { enable: true, authKeyFile: /run/ts }\n    ssh: { enable: true, authorizedKeys: [\"ssh-ed25519 AAAA ${x}\"] }\n",
	"version: 1\ncontainers:\n  app:\n    services:\n      postgres:\n        pg1: { enable: true, port: 5432, initialScript: { before: \"${x}\" } }\n",
	"version: 1\ninputs:\n  extra: \"github:a/b?x=${y}\"\ncontainers:\n  app:\n    home:\n      modules: [extra.homeModules.x]\n",
	"version: 1\ncontainers:\n  app:\n    env: { CR: \"a\\rb\", TAB: \"a\\tb\", U: \"\\u2028\\u0085\" }\n",
}

// FuzzGenerate runs YAML through the reader, the compiler and the
// emitter. For every project the compiler accepts, Generate must not
// panic, must be deterministic and must write text Nix can read: UTF-8
// without NUL bytes (Nix ends a file at the first NUL, silently).
func FuzzGenerate(f *testing.F) {
	sch := loadSchema(f)
	for _, s := range generateSeeds {
		f.Add([]byte(s))
	}
	examples, _ := benchdata.Examples("..")
	for _, in := range examples {
		f.Add(in.Src)
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		files := generate(t, sch, src)
		if files == nil {
			return
		}
		again := generate(t, sch, src)
		for name, b := range files {
			if !bytes.Equal(b, again[name]) {
				t.Fatalf("%s: two runs on the same input differ", name)
			}
			checkNixText(t, name, b)
		}
	})
}

// generate runs the pipeline `nix2gpu compile` runs and returns nil when
// the input is not a valid project.
func generate(t *testing.T, sch *schema.Schema, src []byte) emit.Files {
	t.Helper()
	file, _ := config.Parse("nix2gpu.yaml", src, fuzzLimits)
	if file == nil {
		return nil
	}
	if sds := sch.Validate(file); sds.HasErrors() {
		// Schema errors, like every other, point into the file.
		lines := bytes.Count(src, []byte("\n")) + 1
		for _, d := range sds {
			if d.Severity == diag.Error && (d.Range.Filename != "nix2gpu.yaml" || d.Range.Start.Line < 1 || d.Range.Start.Line > lines) {
				t.Fatalf("schema error without a usable position: %+v", d)
			}
		}
		return nil
	}
	p, ds := compiler.Compile(file, compiler.Options{FS: fuzzFS})
	if ds.HasErrors() || p == nil || len(p.Containers) == 0 {
		return nil
	}
	files, err := emit.Generate(p)
	if err != nil {
		t.Fatalf("Generate failed on a project the compiler accepted: %v", err)
	}
	return files
}

func checkNixText(t *testing.T, name string, b []byte) {
	t.Helper()
	if i := bytes.IndexByte(b, 0); i >= 0 {
		t.Fatalf("%s: NUL byte at offset %d; Nix would stop reading there", name, i)
	}
	if !utf8.Valid(b) {
		t.Fatalf("%s: not UTF-8", name)
	}
	if !emit.IsGenerated(b) {
		t.Fatalf("%s: no generated-file marker", name)
	}
}

// TestGenerateSeeds replays the seeds in ordinary test runs.
func TestGenerateSeeds(t *testing.T) {
	sch := loadSchema(t)
	for _, s := range generateSeeds {
		files := generate(t, sch, []byte(s))
		if files == nil {
			t.Errorf("seed is not a valid project: %q", s)
			continue
		}
		for name, b := range files {
			checkNixText(t, name, b)
		}
	}
}

// TestRegressionNULReachesNix (found by FuzzGenerate, fixed): YAML's "\0" escape puts a NUL into a string
// value (the reader rejects only raw NUL bytes). validate accepts it, and
// the emitter then fails with an error that has no position in the YAML
// file (or, before that check, wrote the NUL into the Nix file, where Nix
// silently stops reading). Expected: an error diagnostic at the value from
// the reader or the compiler, so validate and compile report it in place.
func TestRegressionNULReachesNix(t *testing.T) {
	src := []byte("version: 1\ncontainers:\n  app:\n    env: { A: \"x\\0y\" }\n")
	file, ds := config.Parse("nix2gpu.yaml", src, fuzzLimits)
	if file != nil {
		var cds []diag.Diagnostic
		_, cds = compiler.Compile(file, compiler.Options{})
		ds = append(ds, cds...)
	}
	for _, d := range ds {
		if d.Severity == diag.Error && d.Range.Start.Line == 4 {
			return
		}
	}
	t.Errorf("a NUL in a YAML string escape passes validation; want an error at line 4, got %v", ds)
}
