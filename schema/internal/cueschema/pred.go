package cueschema

import (
	"fmt"
	"math"
	"regexp"
	"strings"

	"cuelang.org/go/cue"
	"cuelang.org/go/cue/ast"

	"github.com/nix2gpu/nix2gpu/schema/internal/spec"
)

// compilePredicate translates the scalar constraint v into a spec.Pred,
// or returns nil when it cannot (the test of the generated tree then
// fails, so no constraint is silently dropped).
func compilePredicate(v cue.Value, depth int) *spec.Pred {
	if depth > 16 {
		return nil
	}
	if v.IsConcrete() {
		return concretePredicate(v)
	}
	op, args := exprOf(v)
	switch op {
	case cue.NoOp:
		if len(args) == 1 && !args[0].IsConcrete() {
			if p := kindPredicate(args[0]); p != nil {
				return p
			}
			if !sameSource(args[0], v) {
				return compilePredicate(args[0], depth+1)
			}
		}
		return kindPredicate(v)
	case cue.AndOp, cue.OrOp:
		p := &spec.Pred{Op: spec.OpAnd}
		if op == cue.OrOp {
			p.Op = spec.OpOr
		}
		for _, a := range args {
			ap := compilePredicate(a, depth+1)
			if ap == nil {
				return nil
			}
			p.Args = append(p.Args, *ap)
		}
		return p
	case cue.RegexMatchOp, cue.NotRegexMatchOp:
		if len(args) != 1 {
			return nil
		}
		s, err := args[0].String()
		if err != nil {
			return nil
		}
		if _, err := regexp.Compile(s); err != nil {
			return nil
		}
		if op == cue.RegexMatchOp {
			return &spec.Pred{Op: spec.OpMatch, Value: s}
		}
		return &spec.Pred{Op: spec.OpNotMatch, Value: s}
	case cue.GreaterThanOp, cue.GreaterThanEqualOp, cue.LessThanOp, cue.LessThanEqualOp:
		if len(args) != 1 || args[0].Kind()&cue.NumberKind == 0 {
			return nil
		}
		p := numberPredicate(args[0])
		if p == nil {
			return nil
		}
		p.Op = map[cue.Op]spec.Op{
			cue.GreaterThanOp:      spec.OpGreater,
			cue.GreaterThanEqualOp: spec.OpGreaterEq,
			cue.LessThanOp:         spec.OpLess,
			cue.LessThanEqualOp:    spec.OpLessEq,
		}[op]
		return p
	case cue.CallOp:
		if len(args) != 2 {
			return nil
		}
		n, err := args[1].Int64()
		if err != nil {
			return nil
		}
		fn := fmt.Sprint(args[0])
		switch {
		case strings.HasSuffix(fn, "MinRunes"):
			return &spec.Pred{Op: spec.OpMinRunes, N: n}
		case strings.HasSuffix(fn, "MaxRunes"):
			return &spec.Pred{Op: spec.OpMaxRunes, N: n}
		}
	}
	return nil
}

// kindPredicate handles the basic types (string, int, uint, ...).
func kindPredicate(v cue.Value) *spec.Pred {
	switch basicType(v) {
	case "string":
		return &spec.Pred{Op: spec.OpKind, Kinds: spec.String}
	case "int":
		return &spec.Pred{Op: spec.OpKind, Kinds: spec.Int}
	case "uint":
		return &spec.Pred{Op: spec.OpKind, Kinds: spec.Int, Uint: true}
	case "number":
		return &spec.Pred{Op: spec.OpKind, Kinds: spec.Number}
	case "float":
		return &spec.Pred{Op: spec.OpKind, Kinds: spec.Float}
	case "bool":
		return &spec.Pred{Op: spec.OpKind, Kinds: spec.Bool}
	case "null":
		return &spec.Pred{Op: spec.OpKind, Kinds: spec.Null}
	}
	return nil
}

func concretePredicate(v cue.Value) *spec.Pred {
	switch v.Kind() {
	case cue.NullKind:
		return &spec.Pred{Op: spec.OpEqual, Kinds: spec.Null}
	case cue.BoolKind:
		b, _ := v.Bool()
		return &spec.Pred{Op: spec.OpEqual, Kinds: spec.Bool, Bool: b}
	case cue.StringKind:
		s, _ := v.String()
		return &spec.Pred{Op: spec.OpEqual, Kinds: spec.String, Value: s}
	case cue.IntKind, cue.FloatKind:
		p := numberPredicate(v)
		if p != nil {
			p.Op = spec.OpEqual
		}
		return p
	}
	return nil
}

// numberPredicate holds the constant number v, parsed once here rather
// than at every check: an integer in N, where it must be small enough to
// compare exactly with float data, or else a float in F. The caller sets
// the operator. It is nil for what cannot be held exactly.
func numberPredicate(v cue.Value) *spec.Pred {
	if v.Kind() == cue.IntKind {
		i, err := v.Int64()
		if err != nil || i > spec.MaxExactInt || i < -spec.MaxExactInt {
			return nil
		}
		return &spec.Pred{Kinds: spec.Int, N: i}
	}
	f, err := v.Float64()
	if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
		return nil
	}
	return &spec.Pred{Kinds: spec.Float, F: f}
}

// basicType returns the name of the basic type v is written as (string,
// int, ...), or "" when v is anything else. It reads the syntax rather
// than formatting the value, which is slow.
func basicType(v cue.Value) string {
	if v.IsConcrete() {
		return ""
	}
	switch x := v.Source().(type) {
	case *ast.Ident:
		return x.Name
	case *ast.Field:
		if id, ok := x.Value.(*ast.Ident); ok {
			return id.Name
		}
	}
	return ""
}

// sameSource reports whether a and b come from the same syntax, which is
// how Expr says "nothing further to unpack".
func sameSource(a, b cue.Value) bool {
	sa, sb := a.Source(), b.Source()
	return sa != nil && sa == sb
}
