package config

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nix2gpu/nix2gpu/diag"
)

// render prints diagnostics compactly for comparison:
// "LINE:COL-ENDCOL severity: message".
func render(ds diag.Diagnostics) []string {
	var out []string
	for _, d := range ds {
		out = append(out, fmt.Sprintf("%d:%d-%d %s: %s", d.Range.Start.Line, d.Range.Start.Column, d.Range.End.Column, d.Severity, d.Message))
	}
	return out
}

func TestParseDiagnostics(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want []string
	}{
		{"valid", "version: 1\ncontainers:\n  app: {}\n", nil},
		{"empty", "", []string{"0:0-0 error: file is empty"}},
		{"only comments", "# nothing\n\n# here\n", []string{"0:0-0 error: file is empty"}},
		{"only a marker", "---\n", []string{"0:0-0 error: file is empty"}},
		{"duplicate key", "a: 1\nb: 2\na: 3\n", []string{`3:1-2 error: duplicate key "a"`}},
		{"duplicate nested key", "c:\n  app:\n    tag: x\n    tag: y\n", []string{`4:5-8 error: duplicate key "tag"`}},
		{"tab indentation", "a:\n\tb: 1\n", []string{"2:1-2 error: tab character in indentation"}},
		{"tab before comment", "a:\n  b: 1\n\t# c\n", []string{"3:1-2 error: tab character in indentation"}},
		{"tab inside block scalar is content", "a: |\n  x\n  \ty\n", nil},
		{"tab inside flow list", "a: [1,\n\t2]\n", nil},
		{"second document", "a: 1\n---\nb: 1\n", []string{"2:1-4 error: file holds more than one YAML document"}},
		{"leading marker then second document", "---\na: 1\n---\nb: 1\n", []string{"3:1-4 error: file holds more than one YAML document"}},
		{"second document at end without newline", "a: 0\n---", []string{"2:1-4 error: file holds more than one YAML document"}},
		{"NUL byte", "a: 1\x00\n", []string{"1:5-6 error: file contains a NUL byte"}},
		{"NUL escape in a string", "a: \"x\\0y\"\n", []string{"1:4-10 error: string contains a NUL character"}},
		{"NUL escape in a key", "\"a\\0\": 1\n", []string{"1:1-6 error: key contains a NUL character"}},
		{"invalid UTF-8", "a: 1\nb: \xff\n", []string{"2:4-5 error: invalid UTF-8 byte 0xff"}},
		{"UTF-16", "\xff\xfea\x00", []string{"1:1-2 error: file is UTF-16 encoded"}},
		{"byte order mark", "\xef\xbb\xbfa: 1\n", []string{"1:1-2 warning: file starts with a UTF-8 byte order mark"}},
		{"lone carriage return", "a: 1\rb: 2\n", []string{"1:5-6 error: carriage return without a line feed"}},
		{"CRLF is fine", "a: 1\r\nb:\r\n  c: x\r\n", nil},
		{"merge key", "a: &x {b: 1}\nc:\n  <<: *x\n", []string{"3:3-5 error: YAML merge keys (<<) are not supported"}},
		{"unknown tag", "a: !foo 1\n", []string{`1:4-10 error: unknown YAML tag "!foo"`}},
		{"unknown tag on map", "a: !foo {b: 1}\n", []string{`1:4-5 error: unknown YAML tag "!foo"`}},
		{"nix tag on map", "a: !nix {b: 1}\n", []string{"1:4-5 error: !nix tag on a map"}},
		{"nix tag on list", "a: !nix [1]\n", []string{"1:4-5 error: !nix tag on a list"}},
		{"nix tag on a key", "c:\n  !nix \"app\": {}\n", []string{"2:3-13 error: !nix tag on a map key"}},
		{"unknown tag on a key", "c:\n  !x app: {}\n", []string{`2:3-9 error: unknown YAML tag "!x"`}},
		{"standard tag on a key", "c:\n  !!str 1: {}\n", nil},
		{"nix tag on string", "a: !nix \"{ }: { }\"\n", nil},
		{"self alias", "a: &x [*x]\n", []string{"1:8-10 error: alias *x refers to itself"}},
		{"undefined alias", "a: 1\nb: *nope\n", []string{"2:4-9 error: alias *nope refers to an anchor that is not defined before it"}},
		{"alias as key", "a: &k x\n*k : 1\n", []string{"2:1-3 error: map key is an alias, not a string"}},
		{"list key", "? [a]\n: 1\n", []string{"1:3-4 error: map key is a list, not a string"}},
		{"top level list", "[1]\n", []string{"1:1-2 error: top level is a list, not a map"}},
		{"top level scalar", "plain\n", []string{"1:1-6 error: top level is a string, not a map"}},
		{"invalid int tag", "a: !!int abc\n", []string{`1:4-13 error: invalid integer "abc"`}},
		{"int overflow", "a: !!int 99999999999999999999\n", []string{"1:4-30 error: integer 99999999999999999999 is out of range"}},
		{"syntax on line 1", "x: y: z\n", []string{"1:5-6 error: YAML syntax error: mapping values are not allowed in this context"}},
		{"syntax: value with colon", "a: 1\nversion: 1: 2\n", []string{"2:11-12 error: YAML syntax error: mapping values are not allowed in this context"}},
		{"syntax: over-indented key", "a: 1\n  b: 2\n", []string{"2:3-4 error: YAML syntax error: mapping values are not allowed in this context"}},
		{"syntax: under-indented key", "a: 1\nb:\n  c: 1\n d: 2\n", []string{"4:2-3 error: YAML syntax error: did not find expected key"}},
		{"syntax: unterminated string", "a: 1\nb: \"open\nc: 2\n", []string{"2:4-5 error: YAML syntax error: found unexpected end of stream"}},
		{"syntax: unterminated string CRLF", "a: 1\r\nb: 'x\r\n", []string{"2:4-5 error: YAML syntax error: found unexpected end of stream"}},
		{"syntax: unclosed list", "a: 1\nb: [1, 2\nc: 2\n", []string{"2:4-5 error: YAML syntax error: did not find expected ',' or ']'"}},
		{"syntax: unclosed map", "a: 1\nb: {x: 1\nc: 2\n", []string{"2:4-5 error: YAML syntax error: did not find expected ',' or '}'"}},
		{"syntax: reserved character", "a: 1\nb: @x\n", []string{"2:4-5 error: YAML syntax error: found character that cannot start any token"}},
		{"syntax: bad escape", "a: \"x\\q\"\n", []string{"1:6-7 error: YAML syntax error: found unknown escape character"}},
		{"syntax: missing colon", "a: b\nc\n", []string{"2:1-2 error: YAML syntax error: could not find expected ':'"}},
		{"syntax: list after map", "a: 1\n- b\n", []string{"2:1-2 error: YAML syntax error: did not find expected key"}},
		{"syntax: after BOM", "\xef\xbb\xbfa: 1\nb: [\n", []string{"1:1-2 warning: file starts with a UTF-8 byte order mark", "2:4-5 error: YAML syntax error: did not find expected node content"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, ds := Parse("nix2gpu.yaml", []byte(tt.src), Limits{})
			got := render(ds)
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("Parse(%q):\n got %q\nwant %q", tt.src, got, tt.want)
			}
			for _, d := range ds {
				if d.Hint == "" {
					t.Errorf("diagnostic without a hint: %v", d)
				}
				if d.Range.Filename != "nix2gpu.yaml" {
					t.Errorf("diagnostic without the file name: %v", d)
				}
			}
			if (f == nil) != ds.HasErrors() {
				t.Errorf("File is nil = %v, errors = %v", f == nil, ds.HasErrors())
			}
		})
	}
}

func TestParseLimits(t *testing.T) {
	bomb := "a: &a [x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b]\nd: [*c, *c, *c, *c, *c, *c, *c, *c]\n"
	tests := []struct {
		name string
		src  string
		lim  Limits
		want string
	}{
		{"alias bomb", bomb, Limits{MaxNodes: 1000}, "document expands to more than 1000 values"},
		{"deep nesting", "a: " + strings.Repeat("[", 20) + strings.Repeat("]", 20), Limits{MaxDepth: 10}, "nesting is deeper than 10 levels"},
		{"deep maps", "a:\n b:\n  c:\n   d:\n    e: 1\n", Limits{MaxDepth: 3}, "nesting is deeper than 3 levels"},
		{"long string", "a: " + strings.Repeat("x", 100) + "\n", Limits{MaxStringBytes: 50}, "value is 100 bytes, over the limit of 50 bytes"},
		{"big file", "a: " + strings.Repeat("x", 100) + "\n", Limits{MaxBytes: 50}, "file is 104 bytes, over the limit of 50 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, ds := Parse("nix2gpu.yaml", []byte(tt.src), tt.lim)
			if f != nil || len(ds) == 0 {
				t.Fatalf("want an error, got %v", ds)
			}
			if ds[0].Message != tt.want {
				t.Errorf("got %q, want %q", ds[0].Message, tt.want)
			}
			if ds.Count(diag.Error) != 1 {
				t.Errorf("want exactly one error, got %v", render(ds))
			}
		})
	}
	// The default budget stops a classic billion-laughs document.
	laughs := "a: &a [x,x,x,x,x,x,x,x,x,x]\n"
	prev := "a"
	for _, n := range []string{"b", "c", "d", "e", "f", "g", "h"} {
		laughs += n + ": &" + n + " [" + strings.TrimSuffix(strings.Repeat("*"+prev+",", 10), ",") + "]\n"
		prev = n
	}
	if _, ds := Parse("nix2gpu.yaml", []byte(laughs), Limits{}); !ds.HasErrors() {
		t.Errorf("billion laughs accepted")
	}
}

func TestParseValues(t *testing.T) {
	src := "version: 1\r\ncontainers:\r\n  app:\r\n    tag: \"v1\"\r\n    ports: [8080/tcp, 22]\r\n    home:\r\n      modules: [!nix \"{ }: { }\"]\r\n    enabled: yes\r\n    n: 0x10\r\n"
	f, ds := Parse("p/nix2gpu.yaml", []byte(src), Limits{})
	if ds.HasErrors() {
		t.Fatal(ds)
	}
	if f.Dir != "p" {
		t.Errorf("Dir = %q", f.Dir)
	}
	tests := []struct {
		path []string
		kind Kind
		str  string
		at   string // line:col-endcol
	}{
		{[]string{"version"}, Int, "1", "1:10-11"},
		{[]string{"containers", "app", "tag"}, String, "v1", "4:10-14"},
		{[]string{"containers", "app", "ports", "0"}, String, "8080/tcp", "5:13-21"},
		{[]string{"containers", "app", "ports", "1"}, Int, "22", "5:23-25"},
		{[]string{"containers", "app", "home", "modules", "0"}, String, "{ }: { }", "7:17-32"},
		{[]string{"containers", "app", "enabled"}, String, "yes", "8:14-17"},
		{[]string{"containers", "app", "n"}, Int, "0x10", "9:8-12"},
	}
	for _, tt := range tests {
		v := f.Root.Lookup(tt.path...)
		if v == nil {
			t.Errorf("%v: missing", tt.path)
			continue
		}
		at := fmt.Sprintf("%d:%d-%d", v.Range.Start.Line, v.Range.Start.Column, v.Range.End.Column)
		if v.Kind != tt.kind || v.Str != tt.str || at != tt.at {
			t.Errorf("%v: got %s %q at %s, want %s %q at %s", tt.path, v.Kind, v.Str, at, tt.kind, tt.str, tt.at)
		}
	}
	if m := f.Root.Lookup("containers", "app", "home", "modules", "0"); !m.IsNix() {
		t.Errorf("!nix tag lost")
	}
	if n := f.Root.Lookup("containers", "app", "n"); n.Int != 16 {
		t.Errorf("0x10 = %d", n.Int)
	}
}

func TestParseBOMPositions(t *testing.T) {
	f, ds := Parse("nix2gpu.yaml", []byte("\xef\xbb\xbfab: 1\n"), Limits{})
	if ds.HasErrors() {
		t.Fatal(ds)
	}
	k := f.Root.Field("ab")
	if k.KeyRange.Start.Column != 1 || k.KeyRange.Start.Byte != 0 {
		t.Errorf("key after BOM at %+v", k.KeyRange.Start)
	}
	if strings.HasPrefix(string(f.Source), "\xef\xbb\xbf") {
		t.Errorf("Source keeps the BOM, so rendered columns would be off")
	}
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "nix2gpu.yaml")
	if err := os.WriteFile(good, []byte("version: 1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if f, ds := Load(good, Limits{}); ds.HasErrors() || f.Name != good {
		t.Errorf("Load(good) = %v, %v", f, ds)
	}
	tests := []struct {
		path, want string
	}{
		{filepath.Join(dir, "missing.yaml"), "cannot read config: no such file or directory"},
		{dir, dir + " is a directory"},
	}
	for _, tt := range tests {
		f, ds := Load(tt.path, Limits{})
		if f != nil || len(ds) != 1 || ds[0].Message != tt.want || ds[0].Hint == "" {
			t.Errorf("Load(%s) = %v, %v; want %q with a hint", tt.path, f, ds, tt.want)
		}
	}
	big := filepath.Join(dir, "big.yaml")
	if err := os.WriteFile(big, []byte(strings.Repeat("#", 100)), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, ds := Load(big, Limits{MaxBytes: 10}); len(ds) != 1 || !strings.Contains(ds[0].Message, "over the limit") {
		t.Errorf("Load(big) = %v", ds)
	}
}
