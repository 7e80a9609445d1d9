package cueschema

import (
	"fmt"

	"cuelang.org/go/cue"

	"github.com/nix2gpu/nix2gpu/schema/internal/spec"
)

// scalarKinds are the kinds of data a leaf constraint can be asked about.
var scalarKinds = []cue.Kind{cue.NullKind, cue.BoolKind, cue.IntKind, cue.FloatKind, cue.StringKind}

// export numbers the built nodes breadth first from top (fields in name
// order), so the same schema always gives the same tree, and copies them
// into plain data.
func export(top *node) (*spec.Tree, error) {
	index := map[*node]int{}
	var order []*node
	add := func(n *node) int {
		if n == nil {
			return spec.None
		}
		n = n.get()
		if i, ok := index[n]; ok {
			return i
		}
		index[n] = len(order)
		order = append(order, n)
		return index[n]
	}
	add(top)
	t := &spec.Tree{Root: 0}
	res := regexps{index: map[string]int{}}
	// The definitions behind key patterns (the service types) keep their
	// own doc comment, for the options reference.
	var described []*node
	for i := 0; i < len(order); i++ {
		n := order[i]
		out := spec.Node{
			Kinds: kindOf(n.kinds),
			Any:   n.any,
			Nix:   n.nix,
			Map:   n.isMap,
			Open:  n.open,
			Elem:  spec.None,
			Plain: n.plain,
			Enum:  n.enum,
			Pred:  n.pred,
		}
		res.pred(n.pred)
		for _, name := range n.names {
			f := n.fields[name]
			out.Fields = append(out.Fields, spec.Field{
				Name:     name,
				Node:     add(f.node),
				Required: f.required,
				Doc:      docOf(f.v),
				Default:  defaultJSON(f.v),
			})
		}
		for _, p := range n.patterns {
			pat := spec.Pattern{Expr: p.expr, Node: add(p.node)}
			if p.expr != "" {
				pat.Re = res.intern(p.expr)
			}
			out.Patterns = append(out.Patterns, pat)
			described = append(described, p.node.get())
		}
		if n.elem != nil {
			out.Elem = add(n.elem)
		}
		for _, a := range n.alts {
			out.Alts = append(out.Alts, add(a))
		}
		leaf := !n.any && !n.isMap && n.elem == nil && n.alts == nil
		if leaf {
			if n.v.IsConcrete() {
				out.Concrete = fmt.Sprint(n.v)
			}
			if n.pred == nil {
				return nil, fmt.Errorf("schema at %s: constraint %v has no Go translation", n.v.Path(), n.v)
			}
			if !n.plain {
				for _, k := range scalarKinds {
					if n.kinds&k == 0 {
						continue
					}
					w := constraintWords(n.v, k)
					if w == "" && out.Concrete == "" && len(n.enum) == 0 && !trivialFor(n.pred, kindOf(k)) {
						// Validation would have nothing to say but "not
						// allowed here".
						return nil, fmt.Errorf("schema at %s: cannot put constraint %v into words", n.v.Path(), n.v)
					}
					if w != "" {
						out.Words = append(out.Words, spec.KindWords{Kind: kindOf(k), Words: w})
					}
				}
				out.TypeWords = constraintWords(n.v, n.kinds&^cue.NullKind)
			}
		}
		t.Nodes = append(t.Nodes, out)
	}
	for _, n := range described {
		t.Nodes[index[n]].Doc = docOf(n.v)
	}
	t.Regexps = res.list
	return t, nil
}

// regexps numbers the tree's regular expressions, each once, in the
// order the export meets them.
type regexps struct {
	index map[string]int
	list  []string
}

func (r *regexps) intern(expr string) int {
	i, ok := r.index[expr]
	if !ok {
		i = len(r.list)
		r.index[expr] = i
		r.list = append(r.list, expr)
	}
	return i
}

// pred numbers the expressions p and its arguments match.
func (r *regexps) pred(p *spec.Pred) {
	if p == nil {
		return
	}
	if p.Op == spec.OpMatch || p.Op == spec.OpNotMatch {
		p.Re = r.intern(p.Value)
	}
	for i := range p.Args {
		r.pred(&p.Args[i])
	}
}

// kindOf maps CUE's kinds onto spec's.
func kindOf(k cue.Kind) spec.Kind {
	var out spec.Kind
	for _, m := range []struct {
		c cue.Kind
		s spec.Kind
	}{
		{cue.NullKind, spec.Null}, {cue.BoolKind, spec.Bool}, {cue.IntKind, spec.Int},
		{cue.FloatKind, spec.Float}, {cue.StringKind, spec.String}, {cue.BytesKind, spec.Bytes},
		{cue.ListKind, spec.List}, {cue.StructKind, spec.Struct},
	} {
		if k&m.c != 0 {
			out |= m.s
		}
	}
	return out
}

// trivialFor reports whether p holds for every value of kind k, so that a
// value of that kind can never fail it.
func trivialFor(p *spec.Pred, k spec.Kind) bool {
	switch p.Op {
	case spec.OpKind:
		return p.Kinds&k != 0 && !p.Uint
	case spec.OpEqual:
		return k == spec.Null && p.Kinds == spec.Null
	case spec.OpOr:
		for i := range p.Args {
			if trivialFor(&p.Args[i], k) {
				return true
			}
		}
		return false
	case spec.OpAnd:
		for i := range p.Args {
			if !trivialFor(&p.Args[i], k) {
				return false
			}
		}
		return true
	}
	return false
}
