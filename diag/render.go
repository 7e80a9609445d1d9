package diag

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// Sources maps a file name to its content so renderers can quote the
// offending line.
type Sources map[string][]byte

// Format names an output format for diagnostics.
type Format string

const (
	FormatText   Format = "text"
	FormatJSON   Format = "json"
	FormatGitHub Format = "github"
)

// Renderer writes diagnostics in one format.
type Renderer interface {
	Render(w io.Writer, ds Diagnostics) error
}

// NewRenderer returns the renderer for f.
func NewRenderer(f Format, src Sources, color bool) (Renderer, error) {
	switch f {
	case FormatText, "":
		return &TextRenderer{Sources: src, Color: color}, nil
	case FormatJSON:
		return JSONRenderer{}, nil
	case FormatGitHub:
		return GitHubRenderer{}, nil
	}
	return nil, fmt.Errorf("unknown format %q (want text, json or github)", f)
}

// TextRenderer prints `file:line:col: severity: message`, the source line,
// a caret under the range and the hint.
type TextRenderer struct {
	Sources Sources
	Color   bool
}

const (
	ansiReset  = "\x1b[0m"
	ansiBold   = "\x1b[1m"
	ansiRed    = "\x1b[31m"
	ansiYellow = "\x1b[33m"
	ansiCyan   = "\x1b[36m"
	ansiGreen  = "\x1b[32m"
)

func (t *TextRenderer) paint(code, s string) string {
	if !t.Color {
		return s
	}
	return code + s + ansiReset
}

// Render implements Renderer.
func (t *TextRenderer) Render(w io.Writer, ds Diagnostics) error {
	var b bytes.Buffer
	for _, d := range ds {
		sevColor := ansiRed
		switch d.Severity {
		case Warning:
			sevColor = ansiYellow
		case Note:
			sevColor = ansiCyan
		}
		if d.Range.Filename != "" {
			b.WriteString(t.paint(ansiBold, d.Range.String()+":") + " ")
		}
		b.WriteString(t.paint(sevColor, d.Severity.String()+":") + " " + d.Message + "\n")
		if line, ok := sourceLine(t.Sources[d.Range.Filename], d.Range.Start.Line); ok && d.Range.HasPos() {
			if d.Conceal != "" {
				line = strings.ReplaceAll(line, d.Conceal, strings.Repeat("*", utf8.RuneCountInString(d.Conceal)))
			}
			b.WriteString("  " + strings.ReplaceAll(line, "\t", " ") + "\n")
			b.WriteString("  " + t.paint(ansiGreen, caret(line, d.Range)) + "\n")
		}
		if d.Hint != "" {
			b.WriteString("  " + t.paint(ansiCyan, "hint:") + " " + d.Hint + "\n")
		}
	}
	_, err := w.Write(b.Bytes())
	return err
}

// sourceLine returns line n (1-based) of src without its line ending, with
// invalid UTF-8 replaced so the terminal is never fed raw bytes.
func sourceLine(src []byte, n int) (string, bool) {
	if src == nil || n < 1 {
		return "", false
	}
	for i := 1; i < n; i++ {
		j := bytes.IndexByte(src, '\n')
		if j < 0 {
			return "", false
		}
		src = src[j+1:]
	}
	if j := bytes.IndexByte(src, '\n'); j >= 0 {
		src = src[:j]
	}
	src = bytes.TrimSuffix(src, []byte("\r"))
	const maxShown = 200
	s := strings.ToValidUTF8(string(src), "\uFFFD")
	s = strings.Map(func(r rune) rune {
		if r < 0x20 && r != '\t' {
			return '\uFFFD'
		}
		return r
	}, s)
	if utf8.RuneCountInString(s) > maxShown {
		s = string([]rune(s)[:maxShown]) + "…"
	}
	return s, true
}

// caret draws ^~~~ under the range on its first line.
func caret(line string, r Range) string {
	width := utf8.RuneCountInString(line)
	start := r.Start.Column
	if start < 1 {
		start = 1
	}
	if start > width+1 {
		start = width + 1
	}
	n := 1
	if r.End.Line == r.Start.Line && r.End.Column > start {
		n = r.End.Column - start
	}
	if start-1+n > width && width >= start {
		n = width - start + 1
	}
	if n < 1 {
		n = 1
	}
	return strings.Repeat(" ", start-1) + "^" + strings.Repeat("~", n-1)
}

// JSONRenderer prints a stable JSON array of diagnostics.
type JSONRenderer struct{}

// Render implements Renderer.
func (JSONRenderer) Render(w io.Writer, ds Diagnostics) error {
	if ds == nil {
		ds = Diagnostics{}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(ds)
}

// GitHubRenderer prints GitHub Actions workflow commands, so diagnostics
// appear as annotations on the pull request.
type GitHubRenderer struct{}

// Render implements Renderer.
func (GitHubRenderer) Render(w io.Writer, ds Diagnostics) error {
	var b bytes.Buffer
	for _, d := range ds {
		kind := "error"
		switch d.Severity {
		case Warning:
			kind = "warning"
		case Note:
			kind = "notice"
		}
		var props []string
		if d.Range.Filename != "" {
			props = append(props, "file="+GitHubProperty(d.Range.Filename))
		}
		if d.Range.HasPos() {
			props = append(props, fmt.Sprintf("line=%d", d.Range.Start.Line), fmt.Sprintf("col=%d", d.Range.Start.Column))
			if d.Range.End.Line >= d.Range.Start.Line && d.Range.End.Line > 0 {
				props = append(props, fmt.Sprintf("endLine=%d", d.Range.End.Line))
				if d.Range.End.Line == d.Range.Start.Line && d.Range.End.Column > d.Range.Start.Column {
					props = append(props, fmt.Sprintf("endColumn=%d", d.Range.End.Column))
				}
			}
		}
		msg := d.Message
		if d.Hint != "" {
			msg += "\n" + "hint: " + d.Hint
		}
		fmt.Fprintf(&b, "::%s %s::%s\n", kind, strings.Join(props, ","), GitHubData(msg))
	}
	_, err := w.Write(b.Bytes())
	return err
}

// GitHub Actions workflow commands (`::error file=F::message`) end at a
// line break, so the message escapes %, CR and LF; property values also
// escape the : and , that separate properties.
var (
	ghDataEscaper     = strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A")
	ghPropertyEscaper = strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A", ":", "%3A", ",", "%2C")
)

// GitHubData escapes the message of a GitHub Actions workflow command.
func GitHubData(s string) string { return ghDataEscaper.Replace(s) }

// GitHubProperty escapes a property value of a GitHub Actions workflow
// command.
func GitHubProperty(s string) string { return ghPropertyEscaper.Replace(s) }
