package schema

import (
	"cuelang.org/go/cue/ast"
	"fmt"
	"math/big"
	"regexp"
	"strings"
	"unicode/utf8"

	"cuelang.org/go/cue"

	"github.com/nix2gpu/nix2gpu/config"
)

// predicate is a scalar constraint of the schema translated to Go, so
// that validating a large file does not evaluate CUE once per value.
// compilePredicate returns nil for constraints it cannot translate; those
// are checked by unifying with CUE.
type predicate func(d *config.Value) bool

func compilePredicate(v cue.Value, depth int) predicate {
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
		ps := make([]predicate, len(args))
		for i, a := range args {
			if ps[i] = compilePredicate(a, depth+1); ps[i] == nil {
				return nil
			}
		}
		if op == cue.AndOp {
			return func(d *config.Value) bool {
				for _, p := range ps {
					if !p(d) {
						return false
					}
				}
				return true
			}
		}
		return func(d *config.Value) bool {
			for _, p := range ps {
				if p(d) {
					return true
				}
			}
			return false
		}
	case cue.RegexMatchOp, cue.NotRegexMatchOp:
		if len(args) != 1 {
			return nil
		}
		s, err := args[0].String()
		if err != nil {
			return nil
		}
		re, err := regexp.Compile(s)
		if err != nil {
			return nil
		}
		want := op == cue.RegexMatchOp
		return func(d *config.Value) bool { return d.Kind == config.String && re.MatchString(d.Str) == want }
	case cue.GreaterThanOp, cue.GreaterThanEqualOp, cue.LessThanOp, cue.LessThanEqualOp:
		if len(args) != 1 || args[0].Kind()&cue.NumberKind == 0 {
			return nil
		}
		var bound big.Float
		if _, ok := bound.SetString(fmt.Sprint(args[0])); !ok {
			return nil
		}
		return func(d *config.Value) bool {
			var x big.Float
			switch d.Kind {
			case config.Int:
				x.SetInt64(d.Int)
			case config.Float:
				x.SetFloat64(d.Float)
			default:
				return false
			}
			c := x.Cmp(&bound)
			switch op {
			case cue.GreaterThanOp:
				return c > 0
			case cue.GreaterThanEqualOp:
				return c >= 0
			case cue.LessThanOp:
				return c < 0
			default:
				return c <= 0
			}
		}
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
			return func(d *config.Value) bool { return d.Kind == config.String && utf8.RuneCountInString(d.Str) >= int(n) }
		case strings.HasSuffix(fn, "MaxRunes"):
			return func(d *config.Value) bool { return d.Kind == config.String && utf8.RuneCountInString(d.Str) <= int(n) }
		}
	}
	return nil
}

// kindPredicate handles the basic types (string, int, uint, ...).
func kindPredicate(v cue.Value) predicate {
	switch basicType(v) {
	case "string":
		return func(d *config.Value) bool { return d.Kind == config.String }
	case "int":
		return func(d *config.Value) bool { return d.Kind == config.Int }
	case "uint":
		return func(d *config.Value) bool { return d.Kind == config.Int && d.Int >= 0 }
	case "number":
		return func(d *config.Value) bool { return d.Kind == config.Int || d.Kind == config.Float }
	case "float":
		return func(d *config.Value) bool { return d.Kind == config.Float }
	case "bool":
		return func(d *config.Value) bool { return d.Kind == config.Bool }
	case "null":
		return func(d *config.Value) bool { return d.Kind == config.Null }
	}
	return nil
}

func concretePredicate(v cue.Value) predicate {
	switch v.Kind() {
	case cue.NullKind:
		return func(d *config.Value) bool { return d.Kind == config.Null }
	case cue.BoolKind:
		b, _ := v.Bool()
		return func(d *config.Value) bool { return d.Kind == config.Bool && d.Bool == b }
	case cue.StringKind:
		s, _ := v.String()
		return func(d *config.Value) bool { return d.Kind == config.String && d.Str == s }
	case cue.IntKind:
		i, err := v.Int64()
		if err != nil {
			return nil
		}
		return func(d *config.Value) bool { return d.Kind == config.Int && d.Int == i }
	case cue.FloatKind:
		f, err := v.Float64()
		if err != nil {
			return nil
		}
		return func(d *config.Value) bool {
			return (d.Kind == config.Float && d.Float == f) || (d.Kind == config.Int && float64(d.Int) == f)
		}
	}
	return nil
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
