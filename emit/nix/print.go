package nix

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// maxInline is the widest a list may print on one line.
const maxInline = 80

// keywords are Nix's reserved words; an attribute named like one is quoted.
var keywords = map[string]bool{
	"if": true, "then": true, "else": true, "assert": true, "with": true,
	"let": true, "in": true, "rec": true, "inherit": true, "or": true,
}

// IsIdent reports whether s can be written as a bare Nix identifier (and
// so as an unquoted attribute name).
func IsIdent(s string) bool {
	if s == "" || keywords[s] {
		return false
	}
	for i, r := range s {
		switch {
		case r == '_' || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z'):
		case i > 0 && ((r >= '0' && r <= '9') || r == '\'' || r == '-'):
		default:
			return false
		}
	}
	return true
}

// AttrName renders one attribute name segment, quoted when needed.
func AttrName(s string) string {
	if IsIdent(s) {
		return s
	}
	return Quote(s)
}

// Quote renders s as a double-quoted Nix string literal. Only `\`, `"`,
// the start of an interpolation and control characters are escaped;
// everything else, UTF-8 included, passes through.
func Quote(s string) string {
	var b strings.Builder
	b.Grow(len(s) + 2)
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch c {
		case '\\':
			b.WriteString(`\\`)
		case '"':
			b.WriteString(`\"`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		case '$':
			// "$${" and "${" would both start an interpolation; escaping
			// every dollar that precedes a brace or another dollar keeps
			// each one literal.
			if i+1 < len(s) && (s[i+1] == '{' || s[i+1] == '$') {
				b.WriteString(`\$`)
			} else {
				b.WriteByte('$')
			}
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// indentedOK reports whether s prints unchanged as an indented (”) string
// block: several lines ending in a newline, none of the sequences such a
// string treats specially, and no common indentation that Nix would strip.
func indentedOK(s string) bool {
	if !strings.HasSuffix(s, "\n") || strings.Count(s, "\n") < 2 {
		return false
	}
	if strings.ContainsAny(s, "\r\t") || strings.Contains(s, "''") || strings.Contains(s, "${") {
		return false
	}
	lines := strings.Split(strings.TrimSuffix(s, "\n"), "\n")
	if lines[0] == "" || strings.TrimLeft(lines[0], " ") == "" {
		return false
	}
	flush := false
	for _, l := range lines {
		if l != "" && strings.TrimLeft(l, " ") == "" {
			return false // spaces-only lines interact with indentation stripping
		}
		if l != "" && l[0] != ' ' {
			flush = true
		}
	}
	return flush
}

// Print renders a file: header comments, then the expression, then a
// final newline.
func Print(f File) []byte {
	p := &printer{}
	for _, h := range f.Header {
		p.comment(h)
	}
	p.expr(f.Body)
	p.b.WriteByte('\n')
	return []byte(p.b.String())
}

// String renders one expression at indentation zero.
func String(e Expr) string {
	p := &printer{}
	p.expr(e)
	return p.b.String()
}

type printer struct {
	b      strings.Builder
	indent int
}

func (p *printer) nl() {
	p.b.WriteByte('\n')
	for i := 0; i < p.indent; i++ {
		p.b.WriteString("  ")
	}
}

func (p *printer) comment(text string) {
	for _, l := range strings.Split(text, "\n") {
		if l == "" {
			p.b.WriteString("#")
		} else {
			p.b.WriteString("# " + l)
		}
		p.nl()
	}
}

func (p *printer) expr(e Expr) {
	switch e := e.(type) {
	case Str:
		p.str(string(e))
	case Int:
		if e < 0 {
			if e == math.MinInt64 {
				// Not writable as a literal; compute it.
				p.b.WriteString("(-9223372036854775807 - 1)")
				return
			}
			p.b.WriteString("(" + strconv.FormatInt(int64(e), 10) + ")")
			return
		}
		p.b.WriteString(strconv.FormatInt(int64(e), 10))
	case Float:
		p.b.WriteString(formatFloat(float64(e)))
	case Bool:
		if e {
			p.b.WriteString("true")
		} else {
			p.b.WriteString("false")
		}
	case Null:
		p.b.WriteString("null")
	case Var:
		p.b.WriteString(string(e))
	case Path:
		p.b.WriteString(string(e))
	case Raw:
		code := string(e)
		p.b.WriteString("(")
		p.b.WriteString(code)
		if strings.ContainsAny(code, "\n#") {
			// A trailing comment would swallow the parenthesis.
			p.nl()
		}
		p.b.WriteString(")")
	case Select:
		p.operand(e.From)
		for _, s := range e.Path {
			p.b.WriteString("." + AttrName(s))
		}
	case List:
		p.list(e)
	case Attrs:
		if e.Rec {
			p.b.WriteString("rec ")
		}
		if len(e.Binds) == 0 {
			p.b.WriteString("{ }")
			return
		}
		p.block("{", e.Binds, "}")
	case Func:
		if e.Arg != "" {
			p.b.WriteString(e.Arg + ":")
		} else {
			names := append([]string(nil), e.Formals...)
			if e.Ellipsis {
				names = append(names, "...")
			}
			if len(names) == 0 {
				p.b.WriteString("{ }:")
			} else {
				p.b.WriteString("{ " + strings.Join(names, ", ") + " }:")
			}
		}
		switch e.Body.(type) {
		case Func, Let:
			p.indent++
			p.nl()
			p.expr(e.Body)
			p.indent--
		default:
			p.b.WriteString(" ")
			p.expr(e.Body)
		}
	case Call:
		p.operand(e.Fn)
		for _, a := range e.Args {
			p.b.WriteString(" ")
			p.operand(a)
		}
	case Let:
		p.block("let", e.Binds, "in")
		p.nl()
		p.expr(e.Body)
	case BinOp:
		p.operand(e.L)
		p.b.WriteString(" " + e.Op + " ")
		p.operand(e.R)
	default:
		panic(fmt.Sprintf("nix: unknown node %T", e))
	}
}

// operand prints e where only a simple expression may stand without
// parentheses: function, argument, selection base, list element, operand.
func (p *printer) operand(e Expr) {
	switch e.(type) {
	case Call, Func, Let, BinOp:
		p.b.WriteString("(")
		p.expr(e)
		p.b.WriteString(")")
	default:
		p.expr(e)
	}
}

// block writes open, the bindings indented one level below it, and close
// on a line of its own: an attribute set's braces, or let ... in.
func (p *printer) block(open string, bs []Bind, close string) {
	p.b.WriteString(open)
	p.indent++
	p.binds(bs)
	p.indent--
	p.nl()
	p.b.WriteString(close)
}

func (p *printer) binds(bs []Bind) {
	for i, b := range bs {
		if b.Gap && i > 0 {
			p.b.WriteByte('\n')
		}
		p.nl()
		if b.Comment != "" {
			p.comment(b.Comment)
		}
		if b.Inherit != nil {
			p.b.WriteString("inherit")
			if b.Inherit.From != nil {
				p.b.WriteString(" (")
				p.expr(b.Inherit.From)
				p.b.WriteString(")")
			}
			for _, n := range b.Inherit.Names {
				p.b.WriteString(" " + AttrName(n))
			}
			p.b.WriteString(";")
			continue
		}
		for i, s := range b.Path {
			if i > 0 {
				p.b.WriteString(".")
			}
			p.b.WriteString(AttrName(s))
		}
		p.b.WriteString(" = ")
		p.expr(b.Value)
		p.b.WriteString(";")
	}
}

func (p *printer) list(l List) {
	if len(l) == 0 {
		p.b.WriteString("[ ]")
		return
	}
	if inline, ok := inlineList(l); ok && len(inline)+p.indent*2 <= maxInline {
		p.b.WriteString(inline)
		return
	}
	p.b.WriteString("[")
	p.indent++
	for _, e := range l {
		p.nl()
		p.operand(e)
	}
	p.indent--
	p.nl()
	p.b.WriteString("]")
}

// inlineList renders l on one line when every element is a short atom.
func inlineList(l List) (string, bool) {
	parts := make([]string, 0, len(l))
	for _, e := range l {
		if !atom(e) {
			return "", false
		}
		s := String(e)
		if strings.Contains(s, "\n") {
			return "", false
		}
		parts = append(parts, s)
	}
	return "[ " + strings.Join(parts, " ") + " ]", true
}

func atom(e Expr) bool {
	switch e := e.(type) {
	case Str, Int, Float, Bool, Null, Var, Path:
		return true
	case Select:
		return atom(e.From)
	}
	return false
}

func (p *printer) str(s string) {
	if !indentedOK(s) {
		p.b.WriteString(Quote(s))
		return
	}
	p.b.WriteString("''")
	p.indent++
	for _, l := range strings.Split(strings.TrimSuffix(s, "\n"), "\n") {
		if l == "" {
			p.b.WriteByte('\n')
			continue
		}
		p.nl()
		p.b.WriteString(l)
	}
	p.indent--
	p.nl()
	p.b.WriteString("''")
}

func formatFloat(f float64) string {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		// Not representable as a literal; the IR never holds these, but
		// print something that fails loudly rather than silently.
		return `(throw "nix2gpu: non-finite float")`
	}
	s := strconv.FormatFloat(math.Abs(f), 'f', -1, 64)
	if !strings.Contains(s, ".") {
		s += ".0"
	}
	if f < 0 || (f == 0 && math.Signbit(f)) {
		return "(-" + s + ")"
	}
	return s
}
