package cueschema

import (
	"fmt"
	"strings"

	"cuelang.org/go/cue"
)

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
