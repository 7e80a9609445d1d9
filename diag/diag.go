// Package diag defines the one Diagnostic type every nix2gpu stage reports
// problems with, and the renderers that print them.
package diag

import (
	"fmt"
	"slices"
	"sort"
)

// Severity orders diagnostics from informational to fatal.
type Severity int

const (
	Note Severity = iota
	Warning
	Error
)

func (s Severity) String() string {
	switch s {
	case Note:
		return "note"
	case Warning:
		return "warning"
	default:
		return "error"
	}
}

// MarshalText renders the severity as its lower-case name.
func (s Severity) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// Pos is a position in a source file. Line and Column are 1-based; Column
// counts Unicode code points, as editors do. Byte is the 0-based offset.
type Pos struct {
	Line   int `json:"line"`
	Column int `json:"column"`
	Byte   int `json:"-"`
}

// Range is a half-open span of a file. A zero Start means the diagnostic has
// no precise location within the file.
type Range struct {
	Filename string `json:"file"`
	Start    Pos    `json:"start"`
	End      Pos    `json:"end"`
}

// HasPos reports whether the range points into the file.
func (r Range) HasPos() bool { return r.Start.Line > 0 }

func (r Range) String() string {
	if !r.HasPos() {
		return r.Filename
	}
	return fmt.Sprintf("%s:%d:%d", r.Filename, r.Start.Line, r.Start.Column)
}

// Diagnostic is one problem (or note) found in the user's input or
// environment. Message is one line; Hint says what to do about it.
type Diagnostic struct {
	Severity Severity `json:"severity"`
	Message  string   `json:"message"`
	Hint     string   `json:"hint,omitempty"`
	Range    Range    `json:"range"`
	// Path is the location in the document as a dotted path
	// ("containers.app.env.FOO"), when known.
	Path string `json:"path,omitempty"`
	// Conceal is text the renderers must not repeat when they quote the
	// source, e.g. the literal value of a secret-looking variable. It is
	// masked character for character so the caret still lines up.
	Conceal string `json:"-"`
}

func (d Diagnostic) Error() string {
	if d.Range.Filename == "" {
		return fmt.Sprintf("%s: %s", d.Severity, d.Message)
	}
	return fmt.Sprintf("%s: %s: %s", d.Range, d.Severity, d.Message)
}

// Diagnostics collects every problem of a run, not only the first.
type Diagnostics []Diagnostic

// Errorf appends an error diagnostic at r.
func (ds *Diagnostics) Errorf(r Range, hint, format string, args ...any) {
	*ds = append(*ds, Diagnostic{Severity: Error, Range: r, Hint: hint, Message: fmt.Sprintf(format, args...)})
}

// Warnf appends a warning diagnostic at r.
func (ds *Diagnostics) Warnf(r Range, hint, format string, args ...any) {
	*ds = append(*ds, Diagnostic{Severity: Warning, Range: r, Hint: hint, Message: fmt.Sprintf(format, args...)})
}

// Notef appends a note at r.
func (ds *Diagnostics) Notef(r Range, hint, format string, args ...any) {
	*ds = append(*ds, Diagnostic{Severity: Note, Range: r, Hint: hint, Message: fmt.Sprintf(format, args...)})
}

// Append adds all of other.
func (ds *Diagnostics) Append(other ...Diagnostic) { *ds = append(*ds, other...) }

// HasErrors reports whether any diagnostic is an error.
func (ds Diagnostics) HasErrors() bool {
	for _, d := range ds {
		if d.Severity == Error {
			return true
		}
	}
	return false
}

// Count returns how many diagnostics have severity s.
func (ds Diagnostics) Count(s Severity) int {
	n := 0
	for _, d := range ds {
		if d.Severity == s {
			n++
		}
	}
	return n
}

// Sort orders diagnostics by file and position, then severity (errors
// first), then message, and removes exact duplicates. Output is stable
// whatever order the checks ran in.
func (ds Diagnostics) Sort() Diagnostics {
	sort.SliceStable(ds, func(i, j int) bool {
		a, b := ds[i], ds[j]
		if a.Range.Filename != b.Range.Filename {
			return a.Range.Filename < b.Range.Filename
		}
		if a.Range.Start.Line != b.Range.Start.Line {
			return a.Range.Start.Line < b.Range.Start.Line
		}
		if a.Range.Start.Column != b.Range.Start.Column {
			return a.Range.Start.Column < b.Range.Start.Column
		}
		if a.Severity != b.Severity {
			return a.Severity > b.Severity
		}
		return a.Message < b.Message
	})
	return slices.Compact(ds)
}

// Err returns the diagnostics as an error when any of them is an error,
// nil otherwise.
func (ds Diagnostics) Err() error {
	if ds.HasErrors() {
		return ds
	}
	return nil
}

func (ds Diagnostics) Error() string {
	for _, d := range ds {
		if d.Severity == Error {
			if n := ds.Count(Error); n > 1 {
				return fmt.Sprintf("%s (and %d more errors)", d.Error(), n-1)
			}
			return d.Error()
		}
	}
	return "no errors"
}
