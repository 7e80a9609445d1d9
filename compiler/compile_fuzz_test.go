package compiler

import (
	"fmt"
	"os"
	"strings"
	"testing"
	"testing/fstest"
	"unicode/utf8"

	"github.com/nix2gpu/nix2gpu/bench/benchdata"
	"github.com/nix2gpu/nix2gpu/config"
	"github.com/nix2gpu/nix2gpu/diag"
	"github.com/nix2gpu/nix2gpu/internal/nixlit"
)

// fuzzLimits keep each fuzzed document small so the fuzzer spends its
// time on shapes, not on size.
var fuzzLimits = config.Limits{MaxBytes: 8192, MaxDepth: 12, MaxNodes: 2048, MaxStringBytes: 1024}

// fuzzFS is a project directory with one secret and a symlink that
// escapes it, so that secrets checks run for real.
var fuzzFS = fstest.MapFS{
	"secrets/ts-auth.age": {Data: []byte(ageStub)},
	"secrets/dir/x.age":   {Data: []byte(ageStub)},
	"secrets/escape.age":  {Data: []byte("../../etc/passwd"), Mode: os.ModeSymlink},
	"secrets/loop.age":    {Data: []byte("loop.age"), Mode: os.ModeSymlink},
}

// FuzzCompile runs arbitrary YAML through the reader and the compiler.
// Compile must never panic, must return a Project, and every error must
// name the file and a line in it: the compiler has no whole-file errors.
func FuzzCompile(f *testing.F) {
	for _, s := range compileSeeds() {
		f.Add([]byte(s))
	}
	examples, _ := benchdata.Examples("..")
	for _, in := range examples {
		f.Add(in.Src)
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		file, _ := config.Parse("nix2gpu.yaml", src, fuzzLimits)
		if file == nil {
			return // the reader's own fuzz target covers its errors
		}
		p, ds := Compile(file, Options{FS: fuzzFS})
		if p == nil {
			t.Fatal("Compile returned no Project")
		}
		checkCompileDiags(t, src, ds)
	})
}

func checkCompileDiags(t *testing.T, src []byte, ds diag.Diagnostics) {
	t.Helper()
	lines := strings.Count(string(src), "\n") + 1
	for _, d := range ds {
		if d.Message == "" || !utf8.ValidString(d.Message) {
			t.Errorf("diagnostic with an empty or non-UTF-8 message: %+v", d)
		}
		if d.Severity != diag.Error {
			continue
		}
		if d.Range.Filename != "nix2gpu.yaml" {
			t.Errorf("error without the file name: %+v", d)
		}
		if d.Range.Start.Line < 1 || d.Range.Start.Line > lines {
			t.Errorf("error at line %d (file has %d): %q", d.Range.Start.Line, lines, d.Message)
		}
		if d.Range.Start.Column < 1 {
			t.Errorf("error at column %d: %q", d.Range.Start.Column, d.Message)
		}
	}
}

func compileSeeds() []string {
	return []string{
		"version: 1\n",
		"version: 2\n",
		"version: 1\ncontainers: {}\n",
		"version: 1\ncontainers:\n  a:\n    tag: latest\n",
		"version: 1\ncontainers:\n  App_Name: {}\n",
		"version: 1\ncontainers:\n  app:\n    ports: [8080, 22/tcp, 53/udp, 0, 70000, x/tcp, 1/sctp, \"+5\", -0, \"\"]\n",
		"version: 1\ncontainers:\n  app:\n    packages: [git, python312Packages.torch, 'nodePackages.\"@angular/cli\"', \"a..b\", \"1a\", \".x\", \"x.\", \"\\\"\"]\n",
		"version: 1\ncontainers:\n  app:\n    env: { GOOD: x, bad-name: y, API_TOKEN: literal, DB_PASSWORD: hunter2, A: \"${builtins.readFile /etc/passwd}\" }\n",
		"version: 1\ncontainers:\n  app:\n    secrets:\n      t: { file: secrets/ts-auth.age, path: /run/secrets/t, mode: \"0400\" }\n      u: { file: ../outside.age, path: /run/u }\n      v: { file: /etc/passwd, path: /run/v }\n      w: { file: secrets/escape.age, path: /run/w }\n      x: { file: secrets/loop.age, path: /run/x }\n      y: { file: secrets/dir, path: /run/y, mode: \"999\" }\n",
		"version: 1\ndefaults:\n  cuda: { version: \"12.8\", capabilities: [\"8.9\", \"99.9\", x] }\ncontainers:\n  app: { cuda: false }\n  gpu: {}\n",
		"version: 1\ncontainers:\n  app:\n    cuda: { version: \"1.0\" }\n",
		"version: 1\ncontainers:\n  app:\n    home:\n      modules: [dotfiles.homeModules.x, !nix \"{ ... }: { }\", \"nope.x\"]\n      programs: { git: { enable: true } }\n",
		"version: 1\ncontainers:\n  app:\n    startup: !nix \"builtins.exec\"\n    user: !nix root\n",
		"version: 1\ncontainers:\n  app:\n    services:\n      postgres:\n        pg1: { enable: true, port: 5432 }\n      comfyui:\n        main: { enable: true, extra: !nix \"x\" }\n",
		"version: 1\ncontainers:\n  app:\n    tailscale: { enable: true, authKeyFile: relative/key }\n    ssh: { enable: true, authorizedKeys: [\"not a key\"] }\n",
		"version: 1\ncontainers:\n  app:\n    registries: [\"ghcr.io/acme/app\", \"UPPER/case\", \"\", \"a b\"]\n",
		"version: 1\ninputs: { nixpkgs: \"github:NixOS/nixpkgs\\\"; x = 1\", extra: \"\" }\ncontainers:\n  app: { home: { modules: [extra.x] } }\n",
		"version: 1\ncontainers: [a, b]\n",
		"version: 1\ncontainers:\n  app: 7\n",
		"version: 1\nsystems: [x86_64-linux, riscv64-linux, 7]\ncontainers:\n  app: {}\n",
		"version: 1\ncontainers:\n  app:\n    entrypoint: [/bin/sh, -c]\n    cmd: \"echo\"\n    workingDir: relative\n    maxLayers: -1\n    builder: docker\n",
	}
}

// TestCompileSeeds replays the seeds in ordinary test runs.
func TestCompileSeeds(t *testing.T) {
	for i, s := range compileSeeds() {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			file, _ := config.Parse("nix2gpu.yaml", []byte(s), fuzzLimits)
			if file == nil {
				t.Fatalf("seed does not parse: %q", s)
			}
			p, ds := Compile(file, Options{FS: fuzzFS})
			if p == nil {
				t.Fatal("Compile returned no Project")
			}
			checkCompileDiags(t, []byte(s), ds)
		})
	}
}

// FuzzParseAttrPath checks that an accepted attribute path prints back to
// text that parses to the same segments, and that errors point inside
// the input.
func FuzzParseAttrPath(f *testing.F) {
	for _, s := range []string{
		"git", "python312Packages.torch", `nodePackages."@angular/cli"`, `a."b.c".d`,
		`"${x}"`, `a."\"".b`, `a."\\"`, "a..b", ".a", "a.", "1a", "a-b'c", `"`, `""`, "é", "a.\"\n\"",
		"builtins.exec", `a."${builtins.readFile /etc/passwd}"`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := ParseAttrPath(s)
		if err != nil {
			var ape *AttrPathError
			if !asAttrPathError(err, &ape) {
				t.Fatalf("ParseAttrPath(%q): error of type %T", s, err)
			}
			if ape.Offset < 0 || ape.Offset > utf8.RuneCountInString(s) {
				t.Fatalf("ParseAttrPath(%q): offset %d outside the input", s, ape.Offset)
			}
			return
		}
		if len(p) == 0 {
			t.Fatalf("ParseAttrPath(%q) accepted an empty path", s)
		}
		for _, seg := range p {
			if seg == "" {
				t.Fatalf("ParseAttrPath(%q) gave an empty segment: %q", s, p)
			}
		}
		text := p.String()
		q, err := ParseAttrPath(text)
		if err != nil {
			t.Fatalf("ParseAttrPath(%q) = %q, whose String %q does not parse: %v", s, p, text, err)
		}
		if fmt.Sprintf("%q", p) != fmt.Sprintf("%q", q) {
			t.Fatalf("round trip changed the path: %q -> %q -> %q", p, text, q)
		}
		// What Nix reads from the printed text is the same path, and a
		// quoted segment never lets an interpolation through.
		segs, err := nixAttrPath(text)
		if err != nil {
			t.Fatalf("String() of %q is not a plain Nix attribute path: %s: %v", p, text, err)
		}
		if fmt.Sprintf("%q", segs) != fmt.Sprintf("%q", []string(p)) {
			t.Fatalf("Nix reads String() of %q as %q: %s", p, segs, text)
		}
	})
}

// nixAttrPath reads an attribute path the way Nix's lexer does: plain
// identifiers and double-quoted strings separated by dots. It fails on
// anything Nix would read as code, such as a `${` interpolation.
func nixAttrPath(s string) ([]string, error) {
	var out []string
	for i := 0; ; {
		if i < len(s) && s[i] == '"' {
			v, n, err := nixlit.ReadString(s[i:])
			if err != nil {
				return nil, err
			}
			out = append(out, v)
			i += n
		} else {
			j := i
			for j < len(s) && s[j] != '.' && s[j] != '"' {
				j++
			}
			if !isIdent(s[i:j]) {
				return nil, fmt.Errorf("segment %q is not an identifier", s[i:j])
			}
			out = append(out, s[i:j])
			i = j
		}
		if i == len(s) {
			return out, nil
		}
		if s[i] != '.' {
			return nil, fmt.Errorf("unexpected %q at %d", s[i], i)
		}
		i++
	}
}

// FuzzParsePort checks the port parser: accepted ports are in range with
// a known protocol and print back to the same port; rejected ones carry a
// position in the file.
func FuzzParsePort(f *testing.F) {
	for _, s := range []string{"8080", "8080/tcp", "53/udp", "0", "65535", "65536", "-1", "+80", "-0", "80/sctp", "/tcp", "80/", "", "08080", "１２３", "80/tcp/udp", "9999999999999999999999"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c := &compiler{paths: map[*config.Value]pathEntry{}}
		r := diag.Range{Filename: "nix2gpu.yaml", Start: diag.Pos{Line: 3, Column: 5}, End: diag.Pos{Line: 3, Column: 5 + utf8.RuneCountInString(s) + 2}}
		v := &config.Value{Kind: config.String, Str: s, Range: r}
		port, ok := c.parsePort(v)
		if !ok {
			if len(c.ds) == 0 {
				t.Fatalf("parsePort(%q) rejected the port without a diagnostic", s)
			}
			for _, d := range c.ds {
				if d.Range.Start.Line != 3 || d.Range.Start.Column < 5 || d.Range.Filename == "" {
					t.Fatalf("parsePort(%q): diagnostic outside the value: %+v", s, d)
				}
			}
			return
		}
		if len(c.ds) != 0 {
			t.Fatalf("parsePort(%q) accepted the port with diagnostics %v", s, c.ds)
		}
		if port.Number < 1 || port.Number > 65535 || (port.Protocol != "tcp" && port.Protocol != "udp") {
			t.Fatalf("parsePort(%q) = %+v", s, port)
		}
		again, ok := (&compiler{paths: map[*config.Value]pathEntry{}}).parsePort(&config.Value{Kind: config.String, Str: fmt.Sprintf("%d/%s", port.Number, port.Protocol), Range: r})
		if !ok || again != port {
			t.Fatalf("parsePort(%q) = %+v does not print back: %+v", s, port, again)
		}
	})
}

func asAttrPathError(err error, target **AttrPathError) bool {
	e, ok := err.(*AttrPathError)
	if ok {
		*target = e
	}
	return ok
}

// TestRegressionAttrPathCarriageReturn (found by FuzzParseAttrPath,
// fixed): AttrPath.String writes a CR inside a
// quoted segment as a raw byte, and Nix's lexer turns a raw CR into LF, so
// Nix selects a different attribute than the one the user wrote. Escaping
// CR as \r (and, for symmetry, LF and TAB as \n and \t) fixes it.
func TestRegressionAttrPathCarriageReturn(t *testing.T) {
	p := AttrPath{"pkgs", "a\rb"}
	segs, err := nixAttrPath(p.String())
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprintf("%q", segs) != fmt.Sprintf("%q", []string(p)) {
		t.Errorf("Nix reads %s as %q, want %q", p.String(), segs, []string(p))
	}
}
