package diag

import (
	"bytes"
	"encoding/json"
	"testing"
)

func rng(line, col, endCol int) Range {
	return Range{Filename: "nix2gpu.yaml", Start: Pos{Line: line, Column: col}, End: Pos{Line: line, Column: endCol}}
}

func TestTextRenderer(t *testing.T) {
	src := Sources{"nix2gpu.yaml": []byte("version: 1\ncontainers:\n  app:\n    enviroment: {}\n")}
	tests := []struct {
		name string
		d    Diagnostic
		want string
	}{
		{
			name: "error with range and hint",
			d:    Diagnostic{Severity: Error, Message: `unknown field "enviroment"`, Hint: `did you mean "env"?`, Range: rng(4, 5, 15)},
			want: "nix2gpu.yaml:4:5: error: unknown field \"enviroment\"\n" +
				"      enviroment: {}\n" +
				"      ^~~~~~~~~~\n" +
				"  hint: did you mean \"env\"?\n",
		},
		{
			name: "warning without hint, caret clipped to the line",
			d:    Diagnostic{Severity: Warning, Message: "w", Range: rng(1, 10, 40)},
			want: "nix2gpu.yaml:1:10: warning: w\n  version: 1\n           ^\n",
		},
		{
			name: "concealed text is masked in the snippet",
			d:    Diagnostic{Severity: Warning, Message: "w", Conceal: "1", Range: rng(1, 10, 11)},
			want: "nix2gpu.yaml:1:10: warning: w\n  version: *\n           ^\n",
		},
		{
			name: "whole-file diagnostic has no snippet",
			d:    Diagnostic{Severity: Error, Message: "file is empty", Range: Range{Filename: "nix2gpu.yaml"}},
			want: "nix2gpu.yaml: error: file is empty\n",
		},
		{
			name: "no file at all",
			d:    Diagnostic{Severity: Note, Message: "n"},
			want: "note: n\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := (&TextRenderer{Sources: src}).Render(&b, Diagnostics{tt.d}); err != nil {
				t.Fatal(err)
			}
			if got := b.String(); got != tt.want {
				t.Errorf("got:\n%s\nwant:\n%s", got, tt.want)
			}
		})
	}
}

func TestTextRendererSanitisesSource(t *testing.T) {
	src := Sources{"f": []byte("a: \x1b[31mred\r\n")}
	var b bytes.Buffer
	d := Diagnostic{Severity: Error, Message: "m", Range: Range{Filename: "f", Start: Pos{Line: 1, Column: 4}}}
	if err := (&TextRenderer{Sources: src}).Render(&b, Diagnostics{d}); err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(b.Bytes(), []byte("\x1b")) || bytes.Contains(b.Bytes(), []byte("\r")) {
		t.Errorf("control characters reached the terminal: %q", b.String())
	}
}

func TestJSONRenderer(t *testing.T) {
	var b bytes.Buffer
	ds := Diagnostics{{Severity: Warning, Message: "m", Hint: "h", Path: "a.b", Range: rng(2, 3, 5)}}
	if err := (JSONRenderer{}).Render(&b, ds); err != nil {
		t.Fatal(err)
	}
	var got []map[string]any
	if err := json.Unmarshal(b.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0]["severity"] != "warning" || got[0]["path"] != "a.b" {
		t.Fatalf("unexpected JSON: %s", b.String())
	}
	r := got[0]["range"].(map[string]any)
	if r["file"] != "nix2gpu.yaml" || r["start"].(map[string]any)["line"] != 2.0 || r["start"].(map[string]any)["column"] != 3.0 {
		t.Fatalf("unexpected range: %s", b.String())
	}
	b.Reset()
	if err := (JSONRenderer{}).Render(&b, nil); err != nil || b.String() != "[]\n" {
		t.Fatalf("empty diagnostics render as %q, %v", b.String(), err)
	}
}

func TestGitHubRenderer(t *testing.T) {
	var b bytes.Buffer
	ds := Diagnostics{
		{Severity: Error, Message: "bad\nthing 100%", Hint: "fix it", Range: rng(4, 5, 15)},
		{Severity: Note, Message: "n", Range: Range{Filename: "a,b:c.yaml"}},
	}
	if err := (GitHubRenderer{}).Render(&b, ds); err != nil {
		t.Fatal(err)
	}
	want := "::error file=nix2gpu.yaml,line=4,col=5,endLine=4,endColumn=15::bad%0Athing 100%25%0Ahint: fix it\n" +
		"::notice file=a%2Cb%3Ac.yaml::n\n"
	if b.String() != want {
		t.Errorf("got:\n%s\nwant:\n%s", b.String(), want)
	}
}

func TestSortDedup(t *testing.T) {
	ds := Diagnostics{
		{Severity: Warning, Message: "w", Range: rng(3, 1, 2)},
		{Severity: Error, Message: "b", Range: rng(1, 5, 6)},
		{Severity: Error, Message: "a", Range: rng(1, 5, 6)},
		{Severity: Warning, Message: "x", Range: rng(1, 5, 6)},
		{Severity: Error, Message: "a", Range: rng(1, 5, 6)},
	}
	got := ds.Sort()
	var msgs []string
	for _, d := range got {
		msgs = append(msgs, d.Message)
	}
	want := []string{"a", "b", "x", "w"}
	if len(msgs) != len(want) {
		t.Fatalf("got %v, want %v", msgs, want)
	}
	for i := range want {
		if msgs[i] != want[i] {
			t.Fatalf("got %v, want %v", msgs, want)
		}
	}
	if !got.HasErrors() || got.Count(Warning) != 2 || got.Err() == nil {
		t.Fatal("counts wrong")
	}
}

func TestSuggest(t *testing.T) {
	cands := []string{"env", "labels", "ports", "packages", "services", "workingDir"}
	tests := []struct{ in, want string }{
		{"enviroment", "env"}, // extends "env"
		{"environment", "env"},
		{"envv", "env"},
		{"lables", "labels"},
		{"port", "ports"},
		{"workdir", "workingDir"}, // synonym
		{"pack", "packages"},      // abbreviation
		{"workingdir", "workingDir"},
		{"zzzzzz", ""},
	}
	for _, tt := range tests {
		if got := Suggest(tt.in, cands); got != tt.want {
			t.Errorf("Suggest(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	if DidYouMean("lables", cands) != `did you mean "labels"?` || DidYouMean("zzz", cands) != "" {
		t.Error("DidYouMean wording")
	}
}
