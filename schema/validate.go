package schema

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/nix2gpu/nix2gpu/config"
	"github.com/nix2gpu/nix2gpu/diag"
	"github.com/nix2gpu/nix2gpu/schema/internal/spec"
)

// Validate checks f against the schema and returns every problem found,
// sorted by position. Each diagnostic has Path set to the dotted location
// in the document.
func (s *Schema) Validate(f *config.File) diag.Diagnostics {
	if f == nil || f.Root == nil {
		return nil
	}
	w := &walker{s: s, root: f.Root}
	// One buffer holds the path to the value being checked: each level
	// appends its key in place, and only a diagnostic keeps a copy.
	w.check(s.node(s.tree.Root), f.Root, make([]string, 0, 16))
	return w.ds.Sort()
}

type walker struct {
	s    *Schema
	root *config.Value
	ds   diag.Diagnostics
}

func (w *walker) errorf(path []string, keyOnly bool, hint, format string, args ...any) {
	p := append([]string(nil), path...)
	w.ds = append(w.ds, diag.Diagnostic{
		Severity: diag.Error,
		Message:  fmt.Sprintf(format, args...),
		Hint:     hint,
		Range:    w.root.Locate(p, keyOnly),
		Path:     config.PathString(p),
	})
}

// prefix renders "path: " for messages about a value.
func prefix(path []string) string {
	if len(path) == 0 {
		return ""
	}
	return config.PathString(path) + ": "
}

func (w *walker) check(n *spec.Node, d *config.Value, path []string) {
	if n == nil || n.Any || d == nil {
		return
	}
	if d.IsNix() {
		if n.Nix {
			return
		}
		// Outside the places that take raw Nix, the tag changes nothing:
		// the value is checked as the string it is.
	}
	dk := kindOf(d)
	if len(n.Alts) > 0 {
		for _, i := range n.Alts {
			alt := w.s.node(i)
			if alt.Kinds&dk != 0 {
				if alt.Kinds&spec.Composite == 0 && !w.s.holds(alt.Pred, d) {
					break // report against the whole disjunction below
				}
				w.check(alt, d, path)
				return
			}
		}
		w.errorf(path, false, kindHint(n.Kinds, d), "%sexpected %s, got %s", prefix(path), w.describeAlts(n), describeValue(d))
		return
	}
	if n.Kinds&dk == 0 {
		want := kindWords(n.Kinds)
		if len(n.Enum) > 0 {
			want = "one of " + strings.Join(n.Enum, ", ")
		}
		w.errorf(path, false, kindHint(n.Kinds, d), "%sexpected %s, got %s", prefix(path), want, describeValue(d))
		return
	}
	switch {
	case n.IsMap():
		w.checkMap(n, d, path)
	case n.Elem != spec.None:
		elem := w.s.node(n.Elem)
		for i, e := range d.List {
			w.check(elem, e, append(path, strconv.Itoa(i)))
		}
	default:
		w.checkLeaf(n, d, path)
	}
}

// lookup returns the node for key in a map node: the field, or the first
// pattern the key matches. ok is false when the key is not allowed.
func (s *Schema) lookup(n *spec.Node, key string) (child *spec.Node, ok bool) {
	if f := n.Field(key); f != nil {
		return s.node(f.Node), true
	}
	for _, p := range n.Patterns {
		if p.Expr == "" || s.regexp(p.Re).MatchString(key) {
			return s.node(p.Node), true
		}
	}
	return nil, n.Open
}

func (w *walker) checkMap(n *spec.Node, d *config.Value, path []string) {
	for _, f := range d.Map {
		child, ok := w.s.lookup(n, f.Key)
		p := append(path, f.Key)
		if !ok {
			w.unknownKey(n, f.Key, p)
			// A badly named entry of a pattern map (a container called
			// "MyApp") still has a body worth checking: report its
			// mistakes now rather than one fix later.
			if len(n.Fields) == 0 && len(n.Patterns) == 1 {
				w.check(w.s.node(n.Patterns[0].Node), f.Value, p)
			}
			continue
		}
		w.check(child, f.Value, p)
	}
	for _, fl := range n.Fields {
		if fl.Required && d.Field(fl.Name) == nil {
			hint := ""
			if fl.Doc != "" {
				hint = fl.Name + ": " + firstSentence(fl.Doc)
			}
			w.errorf(path, true, hint, "%smissing required field %q", prefix(path), fl.Name)
		}
	}
}

func (w *walker) unknownKey(n *spec.Node, key string, path []string) {
	if len(n.Fields) == 0 && len(n.Patterns) > 0 {
		var exprs []string
		for _, p := range n.Patterns {
			if p.Expr != "" {
				exprs = append(exprs, p.Expr)
			}
		}
		parent := config.PathString(path[:len(path)-1])
		w.errorf(path, true, "names must match "+strings.Join(exprs, " or "), "invalid name %q in %s", key, parent)
		return
	}
	names := n.Names()
	hint := diag.DidYouMean(key, names)
	if hint == "" && len(names) > 0 && len(names) <= 12 {
		hint = "allowed: " + strings.Join(names, ", ")
	}
	w.errorf(path, true, hint, "unknown field %q", key)
}

// checkLeaf applies the constraints of a scalar.
func (w *walker) checkLeaf(n *spec.Node, d *config.Value, path []string) {
	if n.Plain {
		return // the kind check was all there is
	}
	if w.s.holds(n.Pred, d) {
		return
	}
	if len(n.Enum) > 0 {
		hint := ""
		if d.Kind == config.String {
			var plain []string
			for _, e := range n.Enum {
				if u, err := strconv.Unquote(e); err == nil {
					plain = append(plain, u)
				}
			}
			hint = diag.DidYouMean(d.Str, plain)
		}
		w.errorf(path, false, hint, "%s%s is not one of %s", prefix(path), shortScalar(d), strings.Join(n.Enum, ", "))
		return
	}
	if n.Concrete != "" {
		w.errorf(path, false, "", "%smust be %s, got %s", prefix(path), n.Concrete, shortScalar(d))
		return
	}
	reason := n.WordsFor(kindOf(d))
	if reason == "" {
		reason = "not allowed here"
	}
	w.errorf(path, false, "", "%sinvalid value %s: %s", prefix(path), shortScalar(d), reason)
}

func kindOf(d *config.Value) spec.Kind {
	switch d.Kind {
	case config.Null:
		return spec.Null
	case config.Bool:
		return spec.Bool
	case config.Int:
		return spec.Int
	case config.Float:
		return spec.Float
	case config.String:
		return spec.String
	case config.List:
		return spec.List
	default:
		return spec.Struct
	}
}

// kindWords renders a kind set for messages: "an integer", "a string or a
// list".
func kindWords(k spec.Kind) string {
	var words []string
	add := func(mask spec.Kind, w string) {
		if k&mask == mask {
			words = append(words, w)
			k &^= mask
		}
	}
	add(spec.Number, "a number")
	add(spec.Int, "an integer")
	add(spec.Float, "a number")
	add(spec.String, "a string")
	add(spec.Bool, "a boolean")
	add(spec.Struct, "a map")
	add(spec.List, "a list")
	add(spec.Null, "null")
	add(spec.Bytes, "bytes")
	if len(words) == 0 {
		return "nothing"
	}
	if len(words) == 1 {
		return words[0]
	}
	return strings.Join(words[:len(words)-1], ", ") + " or " + words[len(words)-1]
}

func (w *walker) describeAlts(n *spec.Node) string {
	var words []string
	for _, i := range n.Alts {
		a := w.s.node(i)
		switch {
		case a.Concrete != "" && a.Kinds&spec.Composite == 0:
			words = append(words, a.Concrete)
		default:
			words = append(words, kindWords(a.Kinds))
		}
	}
	return strings.Join(words, " or ")
}

// describeValue renders a value of the user's file for messages:
// string "50", number 12.8, a map, a list.
func describeValue(d *config.Value) string {
	if d.IsNix() {
		return "raw Nix " + strconv.Quote(truncate(d.Str, 60))
	}
	switch d.Kind {
	case config.List:
		return "a list"
	case config.Map:
		return "a map"
	default:
		return describeScalar(d)
	}
}

func describeScalar(d *config.Value) string {
	switch d.Kind {
	case config.Null:
		return "null"
	case config.Bool:
		return "boolean " + strconv.FormatBool(d.Bool)
	case config.Int, config.Float:
		return "number " + d.Str
	case config.String:
		return "string " + strconv.Quote(truncate(d.Str, 60))
	case config.List:
		return "a list"
	default:
		return "a map"
	}
}

// kindHint suggests the usual fix for a YAML scalar of the wrong kind.
func kindHint(want spec.Kind, d *config.Value) string {
	switch {
	case d.IsNix():
		return "!nix is accepted only in service options, home.programs, home.modules and nixConfig"
	case want&spec.String != 0 && (d.Kind == config.Float || d.Kind == config.Int || d.Kind == config.Bool):
		return fmt.Sprintf("YAML reads %s as a %s; quote it: %q", d.Str, d.Kind, d.Str)
	case want&spec.Int != 0 && d.Kind == config.String:
		if _, err := strconv.ParseInt(strings.TrimSpace(d.Str), 10, 64); err == nil {
			return fmt.Sprintf("remove the quotes: %s", strings.TrimSpace(d.Str))
		}
	case want&spec.Bool != 0 && d.Kind == config.String:
		switch strings.ToLower(d.Str) {
		case "true", "false", "yes", "no", "on", "off":
			return "write true or false without quotes"
		}
	case want&spec.String != 0 && d.Kind == config.Null:
		return `an empty value is null in YAML; write "" for an empty string`
	}
	return ""
}

// shortScalar renders a scalar as it would be written: "abc", 12.8, true.
func shortScalar(d *config.Value) string {
	switch d.Kind {
	case config.String:
		return strconv.Quote(truncate(d.Str, 60))
	case config.Int, config.Float, config.Bool:
		return d.Str
	}
	return describeScalar(d)
}

func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n]) + "…"
}

func firstSentence(s string) string {
	s = oneLine(s)
	if i := strings.Index(s, ". "); i >= 0 {
		return s[:i+1]
	}
	return s
}
