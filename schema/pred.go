package schema

import (
	"cmp"
	"math"
	"math/big"
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
		return d.Kind == config.String && s.regexp(p.Re).MatchString(d.Str) == (p.Op == spec.OpMatch)
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
	case spec.Int, spec.Float:
		c, ok := compareNumber(p, d)
		return ok && c == 0 && (p.Kinds == spec.Float || d.Kind == config.Int)
	}
	return false
}

// compares checks a number against a bound.
func compares(p *spec.Pred, d *config.Value) bool {
	c, ok := compareNumber(p, d)
	return ok && holdsCmp(p.Op, c)
}

// compareNumber gives the sign of the numeric data d compared with the
// constant p holds, exactly: the generator keeps integer constants within
// ±spec.MaxExactInt, where every integer is a float64. ok is false for
// data that is not a number, and for NaN, which compares with nothing.
func compareNumber(p *spec.Pred, d *config.Value) (c int, ok bool) {
	switch {
	case d.Kind == config.Int && p.Kinds == spec.Int:
		return cmp.Compare(d.Int, p.N), true
	case d.Kind == config.Int:
		if d.Int > spec.MaxExactInt || d.Int < -spec.MaxExactInt {
			// Too large for a float64 to hold exactly; the rare case
			// pays for arbitrary precision.
			return new(big.Float).SetInt64(d.Int).Cmp(big.NewFloat(p.F)), true
		}
		return cmp.Compare(float64(d.Int), p.F), true
	case d.Kind == config.Float && !math.IsNaN(d.Float):
		bound := p.F
		if p.Kinds == spec.Int {
			bound = float64(p.N)
		}
		return cmp.Compare(d.Float, bound), true
	}
	return 0, false
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
