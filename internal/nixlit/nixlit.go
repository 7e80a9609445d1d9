// Package nixlit is a reference model of how Nix's lexer reads a
// double-quoted string literal. Tests check nix2gpu's escaper and
// attribute-path printer against it (and, where Nix is installed, against
// Nix itself), so it is written from Nix 2.8's lexer rules, not from the
// printer it checks.
package nixlit

import (
	"fmt"
	"strings"
)

// ReadString reads one double-quoted string at the start of s and returns
// its value and its length in bytes. A `${` outside an escape starts an
// interpolation, which is code, not data: that is an error here.
func ReadString(s string) (string, int, error) {
	if !strings.HasPrefix(s, `"`) {
		return "", 0, fmt.Errorf("not a string: %q", s)
	}
	var b strings.Builder
	for i := 1; i < len(s); {
		switch c := s[i]; c {
		case '"':
			return b.String(), i + 1, nil
		case '\\':
			if i+1 >= len(s) {
				return "", 0, fmt.Errorf("escape at the end")
			}
			b.WriteString(Unescape(s[i+1]))
			i += 2
		case '$':
			if i+1 < len(s) && s[i+1] == '{' {
				return "", 0, fmt.Errorf("live interpolation at byte %d", i)
			}
			b.WriteByte('$')
			i++
			// `$` followed by anything but `{`, `"` or `\` takes that
			// character as text, so `$${` reads as text.
			if i < len(s) && s[i] != '"' && s[i] != '\\' {
				b.WriteByte(s[i])
				i++
			}
		case '\r':
			// Nix reads a raw CR or CR LF in a string as LF.
			b.WriteByte('\n')
			if i+1 < len(s) && s[i+1] == '\n' {
				i++
			}
			i++
		default:
			b.WriteByte(c)
			i++
		}
	}
	return "", 0, fmt.Errorf("unterminated string")
}

// Unescape is the character a backslash escape `\c` stands for: \n, \r
// and \t are control characters, anything else is itself.
func Unescape(c byte) string {
	switch c {
	case 'n':
		return "\n"
	case 'r':
		return "\r"
	case 't':
		return "\t"
	}
	return string(c)
}
