package compiler

import (
	"regexp"
	"strings"
	"testing"
)

// TestValidTag checks the hand-written tag check against the grammar of
// the OCI distribution spec, written as the regular expression it gives.
func TestValidTag(t *testing.T) {
	grammar := regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$`)
	tags := []string{
		"", "latest", "v1.2.3", "_x", "A-b_c.d", "-bad", ".bad", "ok-", "ok.",
		"has space", "ümlaut", "x/y", "x:y", "x+y",
		strings.Repeat("a", 127), strings.Repeat("a", 128), strings.Repeat("a", 129),
		"a" + strings.Repeat("-", 127), "a" + strings.Repeat("-", 128),
	}
	for _, tag := range tags {
		if got, want := validTag(tag), grammar.MatchString(tag); got != want {
			t.Errorf("validTag(%q) = %v, the grammar says %v", tag, got, want)
		}
	}
}

func FuzzValidTag(f *testing.F) {
	grammar := regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$`)
	f.Add("latest")
	f.Add("-x")
	f.Fuzz(func(t *testing.T, tag string) {
		if got, want := validTag(tag), grammar.MatchString(tag); got != want {
			t.Errorf("validTag(%q) = %v, the grammar says %v", tag, got, want)
		}
	})
}
