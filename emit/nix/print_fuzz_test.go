package nix

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/nix2gpu/nix2gpu/internal/nixlit"
)

// stringSeeds are strings that have broken Nix escapers before: every
// way into an interpolation, quote and backslash runs, indented-string
// escapes, control characters and text that looks like code.
var stringSeeds = []string{
	"", "plain", "with space", `"`, `\`, `\\"`, "$", "$$", "${", "$${", "$$${x}", `\${x}`, "${builtins.readFile /etc/passwd}",
	`"; builtins.exec ["sh"]; "`, "'' + builtins.exec", "''${x}", "'''", "''$", "''\\n", "a'", "'",
	"line1\nline2\n", "  indented\nflush\n", "first\n  second\n\nfourth\n", "x\n  \ny\n", "tab\there", "cr\rlf\r\n", "\x01\x7f",
	"é ü 中文 🚀", "\u2028", "#not a comment\n", "/* not a comment */", "a\nb", "trailing$", "$\n{\n",
	"echo ${HOME}\n", "echo $HOME\nexit 0\n",
}

// FuzzQuote checks that Quote produces a double-quoted Nix string that
// Nix reads back as exactly the input, with no live interpolation.
func FuzzQuote(f *testing.F) {
	for _, s := range stringSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		q := Quote(s)
		got, n, err := nixlit.ReadString(q)
		if err != nil {
			t.Fatalf("Quote(%q) = %s: %v", s, q, err)
		}
		if n != len(q) {
			t.Fatalf("Quote(%q) = %s: the string ends at byte %d of %d", s, q, n, len(q))
		}
		if got != s {
			t.Fatalf("Quote(%q) = %s, which Nix reads as %q", s, q, got)
		}
	})
}

// FuzzStr checks the printer's choice between double-quoted and indented strings:
// whichever it picks, at any indentation, reads back as the input.
func FuzzStr(f *testing.F) {
	for _, s := range stringSeeds {
		f.Add(s, 0)
		f.Add(s, 3)
	}
	f.Fuzz(func(t *testing.T, s string, indent int) {
		if indent < 0 || indent > 8 {
			return
		}
		p := &printer{indent: indent}
		p.expr(Str(s))
		text := p.b.String()
		got, err := readNixLiteral(text)
		if err != nil {
			t.Fatalf("Str(%q) at indent %d printed as %s: %v", s, indent, text, err)
		}
		if got != s {
			t.Fatalf("Str(%q) at indent %d printed as %s, which Nix reads as %q", s, indent, text, got)
		}
	})
}

// FuzzAttrName checks that an attribute name is either a bare identifier
// or a quoted string that reads back as the name.
func FuzzAttrName(f *testing.F) {
	for _, s := range append(stringSeeds, "if", "or", "inherit", "a-b", "a'b", "1a", "-a", "_", "__curPos") {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		a := AttrName(s)
		if IsIdent(s) {
			if a != s {
				t.Fatalf("AttrName(%q) = %s, want it bare", s, a)
			}
			return
		}
		got, n, err := nixlit.ReadString(a)
		if err != nil || n != len(a) || got != s {
			t.Fatalf("AttrName(%q) = %s, which Nix reads as %q (%v)", s, a, got, err)
		}
	})
}

// readNixLiteral reads one string literal of either kind.
func readNixLiteral(s string) (string, error) {
	if strings.HasPrefix(s, "''") {
		return readIndentedString(s)
	}
	v, n, err := nixlit.ReadString(s)
	if err != nil {
		return "", err
	}
	if n != len(s) {
		return "", fmt.Errorf("text after the string: %q", s[n:])
	}
	return v, nil
}

// readIndentedString reads a whole ”...” literal as Nix does: escapes,
// then removal of the common indentation, of a first line holding only
// spaces and of the spaces after the last newline.
func readIndentedString(s string) (string, error) {
	if !strings.HasPrefix(s, "''") {
		return "", fmt.Errorf("not an indented string")
	}
	body := s[2:]
	// Pieces of text, each either literal from the file (subject to
	// indentation stripping) or produced by an escape (never stripped).
	type piece struct {
		text    string
		escaped bool
	}
	var pieces []piece
	lit := func(t string) { pieces = append(pieces, piece{t, false}) }
	esc := func(t string) { pieces = append(pieces, piece{t, true}) }
	i := 0
	end := -1
	for i < len(body) && end < 0 {
		switch {
		case strings.HasPrefix(body[i:], "'''"):
			esc("''")
			i += 3
		case strings.HasPrefix(body[i:], "''$"):
			esc("$")
			i += 3
		case strings.HasPrefix(body[i:], "''\\"):
			if i+3 >= len(body) {
				return "", fmt.Errorf("escape at the end")
			}
			esc(nixlit.Unescape(body[i+3]))
			i += 4
		case strings.HasPrefix(body[i:], "''"):
			end = i
		case strings.HasPrefix(body[i:], "${"):
			return "", fmt.Errorf("live interpolation at byte %d", i+2)
		case body[i] == '\r':
			return "", fmt.Errorf("raw CR in an indented string")
		default:
			lit(body[i : i+1])
			i++
		}
	}
	if end < 0 {
		return "", fmt.Errorf("unterminated indented string")
	}
	if strings.TrimSpace(body[end+2:]) != "" {
		return "", fmt.Errorf("text after the string: %q", body[end+2:])
	}
	// Nix drops a first line of only spaces.
	j := 0
	for j < len(pieces) && !pieces[j].escaped && pieces[j].text == " " {
		j++
	}
	if j < len(pieces) && !pieces[j].escaped && pieces[j].text == "\n" {
		pieces = pieces[j+1:]
	}
	// Common indentation: the fewest leading spaces over lines that hold
	// anything but spaces.
	minIndent := -1
	col, spacesOnly := 0, true
	for _, p := range pieces {
		switch {
		case !p.escaped && p.text == "\n":
			col, spacesOnly = 0, true
		case !p.escaped && p.text == " " && spacesOnly:
			col++
		default:
			if spacesOnly && (minIndent < 0 || col < minIndent) {
				minIndent = col
			}
			spacesOnly = false
		}
	}
	if minIndent < 0 {
		minIndent = 0
	}
	var b strings.Builder
	col, atStart := 0, true
	for _, p := range pieces {
		switch {
		case !p.escaped && p.text == "\n":
			b.WriteString("\n")
			col, atStart = 0, true
		case !p.escaped && p.text == " " && atStart && col < minIndent:
			col++
		default:
			b.WriteString(p.text)
			atStart = false
		}
	}
	out := b.String()
	// Spaces after the last newline (the closing line) are dropped.
	if k := strings.LastIndexByte(out, '\n'); k >= 0 && strings.Trim(out[k+1:], " ") == "" {
		out = out[:k+1]
	}
	return out, nil
}

// TestStringsAgainstNix prints every seed and every committed corpus
// entry as a Nix list and lets the real Nix evaluate it: the values must
// come back unchanged. It needs nix-instantiate; CI has it.
func TestStringsAgainstNix(t *testing.T) {
	bin, err := exec.LookPath("nix-instantiate")
	if err != nil {
		t.Skip("nix-instantiate is not installed; CI installs Nix")
	}
	strs := append([]string(nil), stringSeeds...)
	strs = append(strs, corpusStrings(t, "FuzzQuote", "FuzzStr", "FuzzAttrName")...)
	var keep []string
	seen := map[string]bool{}
	for _, s := range strs {
		// JSON carries only valid UTF-8, and Nix strings end at NUL.
		if utf8.ValidString(s) && !strings.ContainsRune(s, 0) && !seen[s] {
			keep = append(keep, s)
			seen[s] = true
		}
	}
	var list []Expr
	for _, s := range keep {
		list = append(list, Str(s))
	}
	attrs := Attrs{}
	for i, s := range keep {
		attrs.Binds = append(attrs.Binds, Bind{Path: []string{s}, Value: Int(i)})
	}
	// The strings as values, then as attribute names.
	expr := String(List{List(list), Call{Fn: Var("builtins.attrNames"), Args: []Expr{attrs}}})
	dir := t.TempDir()
	file := filepath.Join(dir, "strings.nix")
	if err := os.WriteFile(file, []byte(expr+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	// The dummy store keeps evaluation independent of the machine's Nix
	// store and daemon: these are pure string expressions.
	cmd := exec.Command(bin, "--store", "dummy://", "--eval", "--strict", "--json", file)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("nix-instantiate: %v\n%s\n--- input\n%s", err, stderr.String(), expr)
	}
	var got [2][]string
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("nix output: %v: %s", err, out)
	}
	if len(got[0]) != len(keep) {
		t.Fatalf("nix returned %d strings, want %d", len(got[0]), len(keep))
	}
	names := map[string]bool{}
	for i, s := range keep {
		names[s] = true
		if got[0][i] != s {
			t.Errorf("Str(%q) printed as %s evaluates to %q", s, String(Str(s)), got[0][i])
		}
	}
	for _, n := range got[1] {
		if !names[n] {
			t.Errorf("attribute name %q came back from Nix but was never written", n)
		}
		delete(names, n)
	}
	for n := range names {
		t.Errorf("attribute name %q printed as %s did not come back from Nix", n, AttrName(n))
	}
	t.Logf("%d strings evaluated by Nix", len(keep))
}

// corpusStrings reads the string arguments of committed corpus files.
func corpusStrings(t *testing.T, targets ...string) []string {
	var out []string
	for _, target := range targets {
		files, _ := filepath.Glob(filepath.Join("testdata", "fuzz", target, "*"))
		for _, f := range files {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			for _, line := range strings.Split(string(b), "\n") {
				if rest, ok := strings.CutPrefix(line, "string("); ok {
					if s, err := strconv.Unquote(strings.TrimSuffix(rest, ")")); err == nil {
						out = append(out, s)
					}
				}
			}
		}
	}
	return out
}
