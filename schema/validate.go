package schema

import (
	"fmt"
	"strconv"
	"strings"

	"cuelang.org/go/cue"
	cueerrors "cuelang.org/go/cue/errors"

	"github.com/nix2gpu/nix2gpu/config"
	"github.com/nix2gpu/nix2gpu/diag"
)

// Validate checks f against the schema and returns every problem found,
// sorted by position. Each diagnostic has Path set to the dotted location
// in the document.
func (s *Schema) Validate(f *config.File) diag.Diagnostics {
	if f == nil || f.Root == nil {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	w := &walker{s: s, root: f.Root}
	w.check(s.top, f.Root, nil)
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

func (w *walker) check(n *node, d *config.Value, path []string) {
	n = n.get()
	if n == nil || n.any || d == nil {
		return
	}
	if d.IsNix() {
		if n.nix {
			return
		}
		// Outside the places that take raw Nix, the tag changes nothing:
		// the value is checked as the string it is.
	}
	dk := kindOf(d)
	if len(n.alts) > 0 {
		for _, alt := range n.alts {
			alt = alt.get()
			if alt.kinds&dk != 0 {
				if alt.kinds&(cue.StructKind|cue.ListKind) == 0 && !w.leafOK(alt, d) {
					break // report against the whole disjunction below
				}
				w.check(alt, d, path)
				return
			}
		}
		w.errorf(path, false, kindHint(n.kinds, d), "%sexpected %s, got %s", prefix(path), describeAlts(n), describeValue(d))
		return
	}
	if n.kinds&dk == 0 {
		want := kindWords(n.kinds)
		if len(n.enum) > 0 {
			want = "one of " + strings.Join(n.enum, ", ")
		}
		w.errorf(path, false, kindHint(n.kinds, d), "%sexpected %s, got %s", prefix(path), want, describeValue(d))
		return
	}
	switch {
	case n.fields != nil || n.patterns != nil || n.open:
		w.checkMap(n, d, path)
	case n.elem != nil:
		for i, e := range d.List {
			w.check(n.elem, e, append(path, strconv.Itoa(i)))
		}
	default:
		w.checkLeaf(n, d, path)
	}
}

func (w *walker) checkMap(n *node, d *config.Value, path []string) {
	for _, f := range d.Map {
		child, ok := n.lookup(f.Key)
		p := append(path, f.Key)
		if !ok {
			w.unknownKey(n, f.Key, p)
			// A badly named entry of a pattern map (a container called
			// "MyApp") still has a body worth checking: report its
			// mistakes now rather than one fix later.
			if len(n.fields) == 0 && len(n.patterns) == 1 {
				w.check(n.patterns[0].node.get(), f.Value, p)
			}
			continue
		}
		w.check(child, f.Value, p)
	}
	for _, name := range n.names {
		if fl := n.fields[name]; fl.required && d.Field(name) == nil {
			hint := ""
			if doc := fl.doc(); doc != "" {
				hint = name + ": " + firstSentence(doc)
			}
			w.errorf(path, true, hint, "%smissing required field %q", prefix(path), name)
		}
	}
}

func (w *walker) unknownKey(n *node, key string, path []string) {
	if len(n.fields) == 0 && len(n.patterns) > 0 {
		var exprs []string
		for _, p := range n.patterns {
			if p.expr != "" {
				exprs = append(exprs, p.expr)
			}
		}
		parent := config.PathString(path[:len(path)-1])
		w.errorf(path, true, "names must match "+strings.Join(exprs, " or "), "invalid name %q in %s", key, parent)
		return
	}
	hint := diag.DidYouMean(key, n.names)
	if hint == "" && len(n.names) > 0 && len(n.names) <= 12 {
		hint = "allowed: " + strings.Join(n.names, ", ")
	}
	w.errorf(path, true, hint, "unknown field %q", key)
}

// checkLeaf applies the CUE constraints of a scalar.
func (w *walker) checkLeaf(n *node, d *config.Value, path []string) {
	if n.plain {
		return // the kind check was all there is
	}
	if w.leafOK(n, d) {
		return
	}
	if len(n.enum) > 0 {
		hint := ""
		if d.Kind == config.String {
			var plain []string
			for _, e := range n.enum {
				if u, err := strconv.Unquote(e); err == nil {
					plain = append(plain, u)
				}
			}
			hint = diag.DidYouMean(d.Str, plain)
		}
		w.errorf(path, false, hint, "%s%s is not one of %s", prefix(path), shortScalar(d), strings.Join(n.enum, ", "))
		return
	}
	if n.v.IsConcrete() {
		w.errorf(path, false, "", "%smust be %v, got %s", prefix(path), n.v, shortScalar(d))
		return
	}
	w.errorf(path, false, "", "%sinvalid value %s: %s", prefix(path), shortScalar(d), w.leafReason(n, d))
}

// leafOK unifies the scalar d with the node's CUE value.
func (w *walker) leafOK(n *node, d *config.Value) bool {
	if n.pred != nil {
		return n.pred(d)
	}
	return w.leafErr(n, d) == nil
}

func (w *walker) leafErr(n *node, d *config.Value) error {
	x := w.s.ctx.Encode(d.Interface())
	u := n.v.Unify(x)
	return u.Validate(cue.Concrete(true))
}

// leafReason explains a failed leaf constraint: the constraints of the
// schema in words, else CUE's own message.
func (w *walker) leafReason(n *node, d *config.Value) string {
	if r := constraintWords(n.v, kindOf(d)); r != "" {
		return r
	}
	err := w.leafErr(n, d)
	if err == nil {
		return "not allowed here"
	}
	var msgs []string
	for _, e := range cueerrors.Errors(err) {
		format, args := e.Msg()
		msgs = append(msgs, fmt.Sprintf(format, args...))
	}
	return strings.Join(msgs, "; ")
}

// constraintWords describes the constraints of a scalar schema value
// that apply to data of kind dk: "must match ^/", "must be >= 1 and be
// <= 65535".
func constraintWords(v cue.Value, dk cue.Kind) string {
	parts := betweens(constraintParts(v, dk, 0))
	if len(parts) == 0 {
		return ""
	}
	return "must " + strings.Join(parts, " and ")
}

// betweens rewrites a lower and an upper bound ("be >= 1", "be <= 127")
// as one range ("be between 1 and 127").
func betweens(parts []string) []string {
	lo, hi := -1, -1
	for i, p := range parts {
		switch {
		case strings.HasPrefix(p, "be >= "):
			lo = i
		case strings.HasPrefix(p, "be <= "):
			hi = i
		}
	}
	if lo < 0 || hi < 0 {
		return parts
	}
	merged := "be between " + strings.TrimPrefix(parts[lo], "be >= ") + " and " + strings.TrimPrefix(parts[hi], "be <= ")
	var out []string
	for i, p := range parts {
		switch i {
		case lo:
			out = append(out, merged)
		case hi:
		default:
			out = append(out, p)
		}
	}
	return out
}

func constraintParts(v cue.Value, dk cue.Kind, depth int) []string {
	if depth > 8 {
		return nil
	}
	var parts []string
	op, args := exprOf(v)
	switch op {
	case cue.NoOp:
		// A field with a default shows its other alternatives here.
		if len(args) == 1 && !args[0].IsConcrete() {
			parts = append(parts, constraintParts(args[0], dk, depth+1)...)
		}
	case cue.AndOp:
		for _, a := range args {
			parts = append(parts, constraintParts(a, dk, depth+1)...)
		}
	case cue.OrOp:
		var alts []string
		var general cue.Kind
		for _, a := range args {
			if !a.IsConcrete() {
				general |= a.IncompleteKind()
			}
		}
		for _, a := range args {
			if a.IncompleteKind()&dk == 0 {
				continue // an alternative for another kind of value
			}
			if a.IsConcrete() && general&a.Kind() != 0 {
				continue // usually the default, within the general constraint
			}
			p := constraintParts(a, dk, depth+1)
			switch {
			case len(p) > 0:
				alts = append(alts, strings.Join(betweens(p), " and "))
			case a.IsConcrete():
				alts = append(alts, "be "+fmt.Sprint(a))
			default:
				// An alternative with no constraint beyond its kind
				// (null | string): the kind says it all.
				return parts
			}
		}
		if len(alts) > 0 {
			parts = append(parts, strings.Join(alts, ", or "))
		}
	case cue.RegexMatchOp:
		if len(args) == 1 {
			re, _ := args[0].String()
			parts = append(parts, "match "+re)
		}
	case cue.GreaterThanOp, cue.GreaterThanEqualOp, cue.LessThanOp, cue.LessThanEqualOp, cue.NotEqualOp:
		if len(args) == 1 {
			parts = append(parts, "be "+op.String()+" "+fmt.Sprint(args[0]))
		}
	case cue.CallOp:
		if len(args) == 2 {
			fn := fmt.Sprint(args[0])
			switch {
			case strings.HasSuffix(fn, "MinRunes") && fmt.Sprint(args[1]) == "1":
				parts = append(parts, "not be empty")
			case strings.HasSuffix(fn, "MinRunes"):
				parts = append(parts, "be at least "+fmt.Sprint(args[1])+" characters long")
			case strings.HasSuffix(fn, "MaxRunes"):
				parts = append(parts, "be at most "+fmt.Sprint(args[1])+" characters long")
			}
		}
	}
	return parts
}

func kindOf(d *config.Value) cue.Kind {
	switch d.Kind {
	case config.Null:
		return cue.NullKind
	case config.Bool:
		return cue.BoolKind
	case config.Int:
		return cue.IntKind
	case config.Float:
		return cue.FloatKind
	case config.String:
		return cue.StringKind
	case config.List:
		return cue.ListKind
	default:
		return cue.StructKind
	}
}

// kindWords renders a kind set for messages: "an integer", "a string or a
// list".
func kindWords(k cue.Kind) string {
	var words []string
	add := func(mask cue.Kind, w string) {
		if k&mask == mask {
			words = append(words, w)
			k &^= mask
		}
	}
	add(cue.NumberKind, "a number")
	add(cue.IntKind, "an integer")
	add(cue.FloatKind, "a number")
	add(cue.StringKind, "a string")
	add(cue.BoolKind, "a boolean")
	add(cue.StructKind, "a map")
	add(cue.ListKind, "a list")
	add(cue.NullKind, "null")
	add(cue.BytesKind, "bytes")
	if len(words) == 0 {
		return "nothing"
	}
	if len(words) == 1 {
		return words[0]
	}
	return strings.Join(words[:len(words)-1], ", ") + " or " + words[len(words)-1]
}

func describeAlts(n *node) string {
	var words []string
	for _, a := range n.alts {
		switch {
		case a.v.IsConcrete() && a.kinds&(cue.StructKind|cue.ListKind) == 0:
			words = append(words, fmt.Sprint(a.v))
		default:
			words = append(words, kindWords(a.kinds))
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
func kindHint(want cue.Kind, d *config.Value) string {
	switch {
	case d.IsNix():
		return "!nix is accepted only in service options, home.programs, home.modules and nixConfig"
	case want&cue.StringKind != 0 && (d.Kind == config.Float || d.Kind == config.Int || d.Kind == config.Bool):
		return fmt.Sprintf("YAML reads %s as a %s; quote it: %q", d.Str, d.Kind, d.Str)
	case want&cue.IntKind != 0 && d.Kind == config.String:
		if _, err := strconv.ParseInt(strings.TrimSpace(d.Str), 10, 64); err == nil {
			return fmt.Sprintf("remove the quotes: %s", strings.TrimSpace(d.Str))
		}
	case want&cue.BoolKind != 0 && d.Kind == config.String:
		switch strings.ToLower(d.Str) {
		case "true", "false", "yes", "no", "on", "off":
			return "write true or false without quotes"
		}
	case want&cue.StringKind != 0 && d.Kind == config.Null:
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
	s = strings.Join(strings.Fields(s), " ")
	if i := strings.Index(s, ". "); i >= 0 {
		return s[:i+1]
	}
	return s
}
