package schema

import (
	"cmp"
	"math/big"
	"strconv"
	"unicode/utf8"

	"github.com/nix2gpu/nix2gpu/config"
	"github.com/nix2gpu/nix2gpu/schema/internal/spec"
)

// holds reports whether the scalar d satisfies p. A nil p holds for
// everything (the node constrains only the kind).
func (s *Schema) holds(p *spec.Pred, d *config.Value) bool {
	if p == nil {
		return true
	}
	switch p.Op {
	case spec.OpKind:
		return kindOf(d)&p.Kinds != 0 && (!p.Uint || d.Int >= 0)
	case spec.OpEqual:
		return equals(p, d)
	case spec.OpAnd:
		for i := range p.Args {
			if !s.holds(&p.Args[i], d) {
				return false
			}
		}
		return true
	case spec.OpOr:
		for i := range p.Args {
			if s.holds(&p.Args[i], d) {
				return true
			}
		}
		return false
	case spec.OpMatch, spec.OpNotMatch:
		return d.Kind == config.String && s.regexp(p.Value).MatchString(d.Str) == (p.Op == spec.OpMatch)
	case spec.OpLess, spec.OpLessEq, spec.OpGreater, spec.OpGreaterEq:
		return compares(p, d)
	case spec.OpMinRunes:
		return d.Kind == config.String && int64(utf8.RuneCountInString(d.Str)) >= p.N
	case spec.OpMaxRunes:
		return d.Kind == config.String && int64(utf8.RuneCountInString(d.Str)) <= p.N
	}
	return false
}

func equals(p *spec.Pred, d *config.Value) bool {
	switch p.Kinds {
	case spec.Null:
		return d.Kind == config.Null
	case spec.Bool:
		return d.Kind == config.Bool && d.Bool == p.Bool
	case spec.String:
		return d.Kind == config.String && d.Str == p.Value
	case spec.Int:
		i, err := strconv.ParseInt(p.Value, 10, 64)
		return err == nil && d.Kind == config.Int && d.Int == i
	case spec.Float:
		f, err := strconv.ParseFloat(p.Value, 64)
		return err == nil && ((d.Kind == config.Float && d.Float == f) || (d.Kind == config.Int && float64(d.Int) == f))
	}
	return false
}

// compares checks a number against a bound, exactly: the bound is kept
// as CUE wrote it and compared as an arbitrary-precision number.
func compares(p *spec.Pred, d *config.Value) bool {
	if d.Kind == config.Int {
		// An integer against an integer bound (every bound the schema has)
		// compares exactly without arbitrary precision.
		if b, err := strconv.ParseInt(p.Value, 10, 64); err == nil {
			return holdsCmp(p.Op, cmp.Compare(d.Int, b))
		}
	}
	var bound, x big.Float
	if _, ok := bound.SetString(p.Value); !ok {
		return false
	}
	switch d.Kind {
	case config.Int:
		x.SetInt64(d.Int)
	case config.Float:
		x.SetFloat64(d.Float)
	default:
		return false
	}
	return holdsCmp(p.Op, x.Cmp(&bound))
}

// holdsCmp reports whether the comparison op holds for c, the sign of
// data compared with the bound.
func holdsCmp(op spec.Op, c int) bool {
	switch op {
	case spec.OpGreater:
		return c > 0
	case spec.OpGreaterEq:
		return c >= 0
	case spec.OpLess:
		return c < 0
	default:
		return c <= 0
	}
}
