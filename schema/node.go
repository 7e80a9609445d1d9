package schema

import (
	"cuelang.org/go/cue/ast"
	"fmt"
	"regexp"
	"sort"
	"strings"

	"cuelang.org/go/cue"
)

// node is the validation view of one place in the schema, derived from
// the CUE value once at Load. Validation walks the data beside these
// nodes, so unknown keys, kinds and required fields are checked in Go with
// exact positions; only leaf constraints (patterns, bounds, enums) go back
// to CUE.
type node struct {
	c       *compiler
	pending bool // not built yet; use get
	depth   int

	v     cue.Value
	kinds cue.Kind // the kinds data may have here
	any   bool     // accepts anything
	nix   bool     // raw Nix (!nix) accepted here and below

	// Maps.
	fields   map[string]*field
	names    []string // field names, sorted, for suggestions
	patterns []*pattern
	open     bool // `...`: other keys allowed, unchecked

	// Lists.
	elem *node

	// Disjunctions of differently shaped alternatives (#CUDA | false).
	alts []*node

	// Scalars.
	plain bool      // only a kind, no further constraint
	enum  []string  // concrete alternatives, rendered as CUE
	pred  predicate // the constraint in Go; nil: ask CUE
}

type field struct {
	node     *node
	required bool
	v        cue.Value // the field's value, for its doc comment and default
}

// doc returns the field's doc comment.
func (f *field) doc() string { return docOf(f.v) }

// def returns the field's default as JSON, "" when it has none.
func (f *field) def() string { return defaultJSON(f.v) }

// pattern is a key constraint of a map ([#EnvName]: string).
type pattern struct {
	re   *regexp.Regexp // nil: any key
	expr string         // the regular expression, for messages
	node *node
}

// maxSchemaDepth stops a runaway compile on a recursive definition.
const maxSchemaDepth = 32

func (s *Schema) compile() (*node, error) {
	c := &compiler{memo: map[string]*node{}}
	top := c.node(s.config, false, 0).get()
	return top, c.err
}

// compiler builds the node tree lazily: a node is worked out from its CUE
// value the first time validation (or the docs) reaches it, so a file
// that uses two service types never pays for the other thirty-seven.
// Definitions used in several places (#Container under containers and
// defaults, the service types) are built once and shared.
type compiler struct {
	memo map[string]*node
	err  error // the first schema problem met while building
}

// compileNode builds the whole tree below v at once (tests, docs).
func compileNode(v cue.Value, nix bool, depth int) (*node, error) {
	c := &compiler{memo: map[string]*node{}}
	n := c.node(v, nix, depth)
	resolveAll(n, map[*node]bool{})
	return n.get(), c.err
}

// resolveAll builds every node below n.
func resolveAll(n *node, seen map[*node]bool) {
	if n == nil || seen[n] {
		return
	}
	seen[n] = true
	n = n.get()
	for _, f := range n.fields {
		resolveAll(f.node, seen)
	}
	for _, p := range n.patterns {
		resolveAll(p.node, seen)
	}
	resolveAll(n.elem, seen)
	for _, a := range n.alts {
		resolveAll(a, seen)
	}
}

// node returns the (not yet built) node for v.
func (c *compiler) node(v cue.Value, nix bool, depth int) *node {
	if _, ref := v.ReferencePath(); len(ref.Selectors()) > 0 {
		key := fmt.Sprintf("%s|%v", ref, nix)
		if n, ok := c.memo[key]; ok {
			return n
		}
		n := &node{c: c, v: cue.Dereference(v), nix: nix, depth: depth, pending: true}
		c.memo[key] = n
		return n
	}
	return &node{c: c, v: v, nix: nix, depth: depth, pending: true}
}

// get builds n on first use and returns it.
func (n *node) get() *node {
	if n == nil || !n.pending {
		return n
	}
	n.pending = false
	if err := n.c.build(n); err != nil {
		if n.c.err == nil {
			n.c.err = err
		}
		*n = node{c: n.c, v: n.v, any: true}
	}
	return n
}

// become makes n a copy of the built node r (a default or a single
// alternative that stands for the whole value).
func (n *node) become(r *node) {
	r = r.get()
	c := n.c
	*n = *r
	n.c = c
}

func (c *compiler) build(n *node) error {
	v, nix, depth := n.v, n.nix, n.depth
	if depth > maxSchemaDepth {
		return fmt.Errorf("schema nests deeper than %d levels at %s", maxSchemaDepth, v.Path())
	}
	n.kinds = v.IncompleteKind()
	if n.kinds == cue.TopKind {
		n.any = true
		return nil
	}
	op, args := exprOf(v)
	if op == cue.NoOp && len(args) == 1 && !args[0].IsConcrete() && n.kinds&(cue.StructKind|cue.ListKind) != 0 &&
		!sameSource(args[0], v) {
		// A field with a default: its Expr is the other alternatives.
		n.become(c.node(args[0], nix, depth+1))
		return nil
	}
	if op == cue.OrOp {
		// Drop fixed lists (list defaults such as ["x86_64-linux"]) when
		// an open list alternative exists: data is checked against that.
		isOpenList := func(a cue.Value) bool {
			return a.IncompleteKind() == cue.ListKind && a.LookupPath(cue.MakePath(cue.AnyIndex)).Exists()
		}
		hasOpen := false
		for _, a := range args {
			hasOpen = hasOpen || isOpenList(a)
		}
		kept := args[:0:0]
		for _, a := range args {
			if hasOpen && a.IncompleteKind() == cue.ListKind && !isOpenList(a) {
				continue
			}
			kept = append(kept, a)
		}
		args = kept
		if len(args) == 1 {
			n.become(c.node(args[0], nix, depth+1))
			return nil
		}
		var composite bool
		for _, a := range args {
			if a.IncompleteKind()&(cue.StructKind|cue.ListKind) != 0 {
				composite = true
			}
		}
		if composite {
			for _, a := range args {
				n.alts = append(n.alts, c.node(a, nix, depth+1).get())
			}
			return nil
		}
		all := true
		for _, a := range args {
			if !a.IsConcrete() {
				all = false
				break
			}
			n.enum = append(n.enum, fmt.Sprint(a))
		}
		if !all {
			n.enum = nil
		}
		sort.Strings(n.enum)
		n.pred = compilePredicate(v, 0)
		return nil
	}
	switch n.kinds {
	case cue.StructKind:
		return c.structFields(n, v, nix, depth)
	case cue.ListKind:
		n.elem = c.node(v.LookupPath(cue.MakePath(cue.AnyIndex)), nix, depth+1)
		return nil
	}
	switch basicType(v) {
	case "string", "int", "bool", "number", "float", "null":
		n.plain = true
	}
	n.pred = compilePredicate(v, 0)
	return nil
}

func (c *compiler) structFields(n *node, v cue.Value, nix bool, depth int) error {
	n.fields = map[string]*field{}
	it, err := v.Fields(cue.Optional(true), cue.Patterns(true))
	if err != nil {
		return fmt.Errorf("schema at %s: %w", v.Path(), err)
	}
	for it.Next() {
		sel := it.Selector()
		fv := it.Value()
		childNix := nix
		if a := fv.Attribute("nix"); a.Err() == nil {
			if val, _ := a.String(0); val == "allow" {
				childNix = true
			}
		}
		child := c.node(fv, childNix, depth+1)
		if sel.ConstraintType() == cue.PatternConstraint {
			p := &pattern{node: child}
			if re, ok := regexOf(sel.Pattern()); ok {
				p.expr = re
				p.re, err = regexp.Compile(re)
				if err != nil {
					return fmt.Errorf("schema at %s: key pattern %q: %w", v.Path(), re, err)
				}
			}
			n.patterns = append(n.patterns, p)
			continue
		}
		name := sel.Unquoted()
		n.fields[name] = &field{
			node:     child,
			required: sel.ConstraintType() == cue.RequiredConstraint,
			v:        fv,
		}
		n.names = append(n.names, name)
	}
	sort.Strings(n.names)
	n.open = len(n.patterns) == 0 && isOpen(v)

	return nil
}

// isOpen reports whether a struct accepts keys it does not name: it is
// written with `...`. The syntax decides, because a struct taken out of
// its definition (a pattern's value) no longer knows it was closed.
func isOpen(v cue.Value) bool {
	src := v.Source()
	if f, ok := src.(*ast.Field); ok {
		src = f.Value
	}
	if lit, ok := src.(*ast.StructLit); ok {
		for _, e := range lit.Elts {
			if _, ok := e.(*ast.Ellipsis); ok {
				return true
			}
		}
		return false
	}
	// No single literal (several declarations unified): ask CUE, probing
	// with a key no schema would name.
	return v.Allows(cue.Str("\x00probe"))
}

// regexOf returns the regular expression of a =~ constraint (possibly
// behind a reference), or false for anything else (string: any key).
func regexOf(v cue.Value) (string, bool) {
	op, args := exprOf(v)
	switch op {
	case cue.RegexMatchOp:
		if len(args) == 1 {
			s, err := args[0].String()
			return s, err == nil
		}
	case cue.AndOp:
		for _, a := range args {
			if re, ok := regexOf(a); ok {
				return re, true
			}
		}
	}
	return "", false
}

// defaultJSON returns the marked default of v as compact JSON.
func defaultJSON(v cue.Value) string {
	d, ok := v.Default()
	if !ok || !d.IsConcrete() {
		return ""
	}
	if k := d.Kind(); k == cue.ListKind || k == cue.StructKind {
		// An open list or struct "defaults" to empty; only report marked
		// composite defaults, which are fixed in length.
		if _, args := exprOf(v); len(args) < 2 {
			return ""
		}
	}
	b, err := d.MarshalJSON()
	if err != nil {
		return ""
	}
	return string(b)
}

// docOf returns the doc comment of a field as one paragraph of text.
func docOf(v cue.Value) string {
	var parts []string
	for _, cg := range v.Doc() {
		if t := strings.TrimSpace(cg.Text()); t != "" {
			parts = append(parts, t)
		}
	}
	return strings.Join(parts, "\n")
}

// lookup returns the node for key in a map node: the field, or the first
// pattern the key matches. ok is false when the key is not allowed.
func (n *node) lookup(key string) (child *node, ok bool) {
	if f := n.fields[key]; f != nil {
		return f.node.get(), true
	}
	for _, p := range n.patterns {
		if p.re == nil || p.re.MatchString(key) {
			return p.node.get(), true
		}
	}
	return nil, n.open
}

// exprOf is v.Expr with references resolved, so that
// `version?: #CUDAVersion` shows the disjunction of #CUDAVersion.
func exprOf(v cue.Value) (cue.Op, []cue.Value) {
	return cue.Dereference(v).Expr()
}
