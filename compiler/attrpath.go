package compiler

import (
	"fmt"
	"strings"
)

// AttrPathError says what is wrong with an attribute path and where: Offset
// is the rune offset of the problem within the text.
type AttrPathError struct {
	Offset int
	Reason string
}

func (e *AttrPathError) Error() string { return e.Reason }

// ParseAttrPath parses a Nix attribute path such as
// `python312Packages.torch` or `nodePackages."@angular/cli"`: identifiers
// separated by dots, where a segment that is not an identifier is written
// in double quotes (with Nix's escapes: \" \\ \n \r \t \$). The segments are returned
// unquoted; the emitter quotes what needs quoting.
func ParseAttrPath(s string) (AttrPath, error) {
	rs := []rune(s)
	if len(rs) == 0 {
		return nil, &AttrPathError{0, "empty attribute path"}
	}
	var out AttrPath
	i := 0
	for {
		if i >= len(rs) {
			return nil, &AttrPathError{i, "attribute path ends with a dot"}
		}
		switch r := rs[i]; {
		case r == '"':
			start := i
			var b strings.Builder
			i++
			closed := false
			for i < len(rs) {
				if rs[i] == '\\' && i+1 < len(rs) {
					b.WriteRune(unescape(rs[i+1]))
					i += 2
					continue
				}
				if rs[i] == '"' {
					closed = true
					i++
					break
				}
				b.WriteRune(rs[i])
				i++
			}
			if !closed {
				return nil, &AttrPathError{start, "unterminated quoted segment"}
			}
			if b.Len() == 0 {
				return nil, &AttrPathError{start, "empty quoted segment"}
			}
			out = append(out, b.String())
		case r == '.':
			return nil, &AttrPathError{i, "empty segment"}
		case isIdentStart(r):
			start := i
			for i < len(rs) && isIdentRune(rs[i]) {
				i++
			}
			out = append(out, string(rs[start:i]))
		case r >= '0' && r <= '9':
			start := i
			for i < len(rs) && isIdentRune(rs[i]) {
				i++
			}
			return nil, &AttrPathError{start, fmt.Sprintf("segment %q starts with a digit", string(rs[start:i]))}
		default:
			return nil, &AttrPathError{i, fmt.Sprintf("unexpected character %q", r)}
		}
		if i == len(rs) {
			return out, nil
		}
		if rs[i] != '.' {
			return nil, &AttrPathError{i, fmt.Sprintf("unexpected character %q", rs[i])}
		}
		i++
	}
}

// unescape decodes the character after a backslash as Nix strings do.
func unescape(r rune) rune {
	switch r {
	case 'n':
		return '\n'
	case 'r':
		return '\r'
	case 't':
		return '\t'
	}
	return r
}

func isIdentStart(r rune) bool {
	return r == '_' || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z')
}

// isIdentRune follows Nix identifiers: [a-zA-Z_][a-zA-Z0-9_'-]*.
func isIdentRune(r rune) bool {
	return isIdentStart(r) || (r >= '0' && r <= '9') || r == '\'' || r == '-'
}

// quoteEscapes escapes a segment for a double-quoted Nix string.
var quoteEscapes = strings.NewReplacer(`\`, `\\`, `"`, `\"`, "${", `\${`, "\n", `\n`, "\r", `\r`, "\t", `\t`)

// String renders the path as Nix would select it, quoting segments that are
// not plain identifiers.
func (p AttrPath) String() string {
	parts := make([]string, len(p))
	for i, s := range p {
		if isIdent(s) {
			parts[i] = s
		} else {
			parts[i] = `"` + quoteEscapes.Replace(s) + `"`
		}
	}
	return strings.Join(parts, ".")
}

func isIdent(s string) bool {
	for i, r := range s {
		if i == 0 && !isIdentStart(r) || !isIdentRune(r) {
			return false
		}
	}
	return s != ""
}
