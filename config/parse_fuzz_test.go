package config

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/nix2gpu/nix2gpu/bench/benchdata"
	"github.com/nix2gpu/nix2gpu/diag"
)

// fuzzLimits are small so that the fuzzer reaches every limit quickly
// instead of spending its budget on huge inputs.
var fuzzLimits = Limits{MaxBytes: 4096, MaxDepth: 8, MaxNodes: 256, MaxStringBytes: 512}

// wholeFile lists the messages that describe the file as a whole and so
// may come without a line.
var wholeFile = []string{"file is empty", "over the limit of", "cannot read config", "is a directory"}

// FuzzParse feeds arbitrary bytes to Parse. Whatever the input, Parse must
// not panic, must not return both a File and an error, and every error must
// name the file and, unless it is about the whole file, point at a line
// that exists.
func FuzzParse(f *testing.F) {
	for _, s := range fuzzSeeds() {
		f.Add([]byte(s))
	}
	// The examples are the most realistic seeds there are.
	examples, _ := benchdata.Examples("..")
	for _, in := range examples {
		f.Add(in.Src)
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		file, ds := Parse("nix2gpu.yaml", src, fuzzLimits)
		checkParseResult(t, src, file, ds)
	})
}

func checkParseResult(t *testing.T, src []byte, file *File, ds diag.Diagnostics) {
	t.Helper()
	if ds.HasErrors() && file != nil {
		t.Fatalf("Parse returned a File together with errors: %v", ds)
	}
	if !ds.HasErrors() && file == nil {
		t.Fatalf("Parse returned neither a File nor an error")
	}
	lines := strings.Count(string(src), "\n") + 1
	for _, d := range ds {
		if d.Range.Filename != "nix2gpu.yaml" {
			t.Errorf("diagnostic without the file name: %+v", d)
		}
		if d.Message == "" {
			t.Errorf("diagnostic without a message: %+v", d)
		}
		if !utf8.ValidString(d.Message) {
			t.Errorf("diagnostic message is not UTF-8: %q", d.Message)
		}
		if d.Severity != diag.Error {
			continue
		}
		if !d.Range.HasPos() {
			if !isWholeFile(d.Message) {
				t.Errorf("error without a position: %q", d.Message)
			}
			continue
		}
		if d.Range.Start.Line > lines {
			t.Errorf("error at line %d, file has %d lines: %q", d.Range.Start.Line, lines, d.Message)
		}
		if d.Range.Start.Column < 1 {
			t.Errorf("error at column %d: %q", d.Range.Start.Column, d.Message)
		}
		if d.Range.Start.Byte < 0 || d.Range.Start.Byte > len(src) {
			t.Errorf("error at byte %d of %d: %q", d.Range.Start.Byte, len(src), d.Message)
		}
	}
	if file != nil {
		checkValueRanges(t, file.Root, lines)
	}
}

func isWholeFile(msg string) bool {
	for _, w := range wholeFile {
		if strings.Contains(msg, w) {
			return true
		}
	}
	return false
}

// checkValueRanges walks the tree: every value of a parsed file comes from
// somewhere in it.
func checkValueRanges(t *testing.T, v *Value, lines int) {
	t.Helper()
	if v == nil {
		return
	}
	// An implicit null at the very end of a file ("?" with no newline)
	// has no line of its own; that is the only value allowed none.
	if v.Range.Start.Line < 0 || v.Range.Start.Line > lines || (v.Range.Start.Line == 0 && v.Kind != Null) {
		t.Errorf("value %s has line %d, file has %d lines", v.Kind, v.Range.Start.Line, lines)
	}
	for _, e := range v.List {
		checkValueRanges(t, e, lines)
	}
	for _, f := range v.Map {
		if f.KeyRange.Start.Line < 1 || f.KeyRange.Start.Line > lines {
			t.Errorf("key %q has line %d, file has %d lines", f.Key, f.KeyRange.Start.Line, lines)
		}
		checkValueRanges(t, f.Value, lines)
	}
}

// fuzzSeeds are hand-picked inputs that reach each branch of the reader.
func fuzzSeeds() []string {
	return []string{
		"",
		"# only a comment\n",
		"version: 1\n",
		"version: 1\ncontainers:\n  app:\n    packages: [git]\n",
		"\xef\xbb\xbfversion: 1\n",
		"version: 1\r\ncontainers:\r\n  app: {}\r\n",
		"version: 1\n\tcontainers: {}\n",
		"version: 1\nversion: 2\n",
		"version: 1\n---\nversion: 2\n",
		"a: &a [x, x]\nb: &b [*a, *a]\nc: &c [*b, *b]\nd: [*c, *c, *c]\n",
		"a: &a [*a]\n",
		"[[[[[[[[[[[[[[[[x]]]]]]]]]]]]]]]]\n",
		"version: \xff\n",
		"version: 1\x00\n",
		"x: !nix { a: 1 }\n",
		"x: !nix \"{ pkgs, ... }: { }\"\n",
		"x: !!binary aGVsbG8=\n",
		"x: !custom 1\n",
		"<<: {a: 1}\n",
		"? [a]\n: 1\n",
		"x: 99999999999999999999999\n",
		"x: \"unterminated\n",
		"x: |\n  literal\n  block\n",
		"- a\n- b\n",
		"plain scalar\n",
		"x: 'it''s'\ny: \"tab\\there\"\n",
		"containers:\n  app:\n    env: { TOKEN: \"${builtins.readFile /etc/passwd}\" }\n",
		"x: 2001-01-01\n",
		"x: .inf\ny: -.nan\n",
		"\n\n\n\n",
	}
}

// TestFuzzSeeds runs the seeds through the same checks in ordinary test
// runs, so that they guard the reader even when nobody fuzzes.
func TestFuzzSeeds(t *testing.T) {
	for _, s := range fuzzSeeds() {
		file, ds := Parse("nix2gpu.yaml", []byte(s), fuzzLimits)
		checkParseResult(t, []byte(s), file, ds)
	}
}

// TestRegressionSyntaxErrorOnFirstLine (found by FuzzParse, fixed): yaml.v3 leaves the line out of
// syntax errors on the first line of a file ("yaml: mapping values are not
// allowed in this context"), so the diagnostic came without a position.
func TestRegressionSyntaxErrorOnFirstLine(t *testing.T) {
	for _, s := range []string{"x: y: z\n", "version: 1: 2\n", "{"} {
		file, ds := Parse("nix2gpu.yaml", []byte(s), fuzzLimits)
		checkParseResult(t, []byte(s), file, ds)
		if len(ds) == 0 || ds[0].Range.Start.Line != 1 {
			t.Errorf("%q: want an error on line 1, got %v", s, ds)
		}
	}
}

// TestRegressionErrorsWithoutPosition lists inputs FuzzParse found whose
// error came without a line (fixed):
//   - "\r0": YAML counts a lone CR as a line break, the reader's line
//     table counts only LF, so the node's line is past the table;
//   - "0\n---": a second document marker at the end of a file without a
//     final newline.
func TestRegressionErrorsWithoutPosition(t *testing.T) {
	for _, s := range []string{"\r0", "0\n---"} {
		src := []byte(s)
		file, ds := Parse("nix2gpu.yaml", src, fuzzLimits)
		checkParseResult(t, src, file, ds)
	}
}
