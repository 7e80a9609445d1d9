package cueschema

import (
	"fmt"
	"regexp"
	"sort"
	"strings"

	"cuelang.org/go/cue"
	"cuelang.org/go/cue/ast"

	"github.com/nix2gpu/nix2gpu/schema/internal/spec"
)

// node is the validation view of one place in the schema while it is
// being worked out from its CUE value; export turns the finished nodes
// into the plain data of package spec.
type node struct {
	c       *compiler
	pending bool // not built yet; use get
	depth   int

	v     cue.Value
	kinds cue.Kind // the kinds data may have here
	any   bool     // accepts anything
	nix   bool     // raw Nix (!nix) accepted here and below

	// Maps.
	isMap    bool
	fields   map[string]*field
	names    []string // field names, sorted
	patterns []*pattern
	open     bool // `...`: other keys allowed, unchecked

	// Lists.
	elem *node

	// Disjunctions of differently shaped alternatives (#CUDA | false).
	alts []*node

	// Scalars.
	plain bool       // only a kind, no further constraint
	enum  []string   // concrete alternatives, rendered as CUE
	pred  *spec.Pred // the constraint; nil: not translatable
}

type field struct {
	node     *node
	required bool
	v        cue.Value // the field's value, for its doc comment and default
}

// pattern is a key constraint of a map ([#EnvName]: string).
type pattern struct {
	expr string // the regular expression; "" for any key
	node *node
}

// maxSchemaDepth stops a runaway compile on a recursive definition.
const maxSchemaDepth = 32

// buildTree works out every node below v and exports them.
func buildTree(v cue.Value) (*spec.Tree, error) {
	c := &compiler{memo: map[string]*node{}}
	top := c.node(v, false, 0)
	resolveAll(top, map[*node]bool{})
	if c.err != nil {
		return nil, c.err
	}
	return export(top.get())
}

// compiler builds the node tree. Definitions used in several places
// (#Container under containers and defaults, the service types) are
// built once and shared.
type compiler struct {
	memo map[string]*node
	err  error // the first schema problem met while building
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
	n.isMap = true
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
				if _, err := regexp.Compile(re); err != nil {
					return fmt.Errorf("schema at %s: key pattern %q: %w", v.Path(), re, err)
				}
				p.expr = re
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

// exprOf is v.Expr with references resolved, so that
// `version?: #CUDAVersion` shows the disjunction of #CUDAVersion.
func exprOf(v cue.Value) (cue.Op, []cue.Value) {
	return cue.Dereference(v).Expr()
}
