package cueschema

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	"cuelang.org/go/cue"
	"cuelang.org/go/cue/ast"
	"cuelang.org/go/cue/ast/astutil"
	"cuelang.org/go/cue/build"
	"cuelang.org/go/cue/parser"
	"cuelang.org/go/cue/token"
	"cuelang.org/go/encoding/jsonschema"

	"github.com/nix2gpu/nix2gpu"
)

// JSONSchema returns the format as a JSON Schema (draft-07, the dialect
// every YAML language server understands), for editors.
//
// CUE's encoder does the translation. It ignores default markers and, for
// `*d | T`, keeps only the kind of T, so the encoder is given a copy of the
// schema without default markers; the defaults are then written back as
// `default` keywords from the real schema.
func (s *Schema) JSONSchema() ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	plain, err := s.withoutDefaults()
	if err != nil {
		return nil, err
	}
	expr, err := jsonschema.Generate(plain.LookupPath(cue.MakePath(cue.Def("#Config"))), nil)
	if err != nil {
		return nil, fmt.Errorf("generating JSON Schema: %w", err)
	}
	raw, err := s.ctx.BuildExpr(expr).MarshalJSON()
	if err != nil {
		return nil, fmt.Errorf("encoding JSON Schema: %w", err)
	}
	var doc map[string]any
	if err := json.Unmarshal(raw, &doc); err != nil {
		return nil, fmt.Errorf("decoding generated JSON Schema: %w", err)
	}
	// Defaults, walking the generated document beside the CUE values.
	injectDefaults(doc, s.config)
	if defs, ok := doc["$defs"].(map[string]any); ok {
		for name, d := range defs {
			if m, ok := d.(map[string]any); ok {
				injectDefaults(m, s.root.LookupPath(cue.MakePath(cue.Def("#"+name))))
			}
		}
	}
	simplify(doc)
	toDraft07(doc)
	doc["$schema"] = "http://json-schema.org/draft-07/schema#"
	doc["title"] = "nix2gpu.yaml"
	var out bytes.Buffer
	enc := json.NewEncoder(&out)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}

// withoutDefaults compiles the schema again with every `*` default marker
// removed.
func (s *Schema) withoutDefaults() (cue.Value, error) {
	inst := build.NewContext().NewInstance("", nil)
	for _, name := range nix2gpu.SchemaFileNames() {
		data, err := nix2gpu.SchemaFiles.ReadFile(name)
		if err != nil {
			return cue.Value{}, err
		}
		f, err := parser.ParseFile(name, data, parser.ParseComments)
		if err != nil {
			return cue.Value{}, err
		}
		astutil.Apply(f, nil, func(c astutil.Cursor) bool {
			if u, ok := c.Node().(*ast.UnaryExpr); ok && u.Op == token.MUL {
				c.Replace(u.X)
			}
			return true
		})
		if err := inst.AddSyntax(f); err != nil {
			return cue.Value{}, err
		}
	}
	v := s.ctx.BuildInstance(inst)
	return v, v.Err()
}

// injectDefaults adds `default` to every property of js whose CUE field in
// v has a default, recursing into inline object and array schemas.
// Properties that are references are handled where their definition is.
func injectDefaults(js map[string]any, v cue.Value) {
	if !v.Exists() {
		return
	}
	if props, ok := js["properties"].(map[string]any); ok {
		for name, p := range props {
			pm, ok := p.(map[string]any)
			if !ok {
				continue
			}
			fv := lookupField(v, name)
			if !fv.Exists() {
				continue
			}
			if d, ok := defaultOf(fv); ok {
				pm["default"] = d
				if defaultRedundant(fv) {
					dropConst(pm, d)
				}
			}
			injectDefaults(pm, fv)
		}
	}
	if items, ok := js["items"].(map[string]any); ok {
		injectDefaults(items, v.LookupPath(cue.MakePath(cue.AnyIndex)))
	}
	if ap, ok := js["additionalProperties"].(map[string]any); ok {
		injectDefaults(ap, patternValue(v))
	}
	if pp, ok := js["patternProperties"].(map[string]any); ok && len(pp) == 1 {
		for _, p := range pp {
			if pm, ok := p.(map[string]any); ok {
				injectDefaults(pm, patternValue(v))
			}
		}
	}
}

// lookupField finds a regular, optional or required field.
func lookupField(v cue.Value, name string) cue.Value {
	for _, sel := range []cue.Selector{cue.Str(name), cue.Str(name).Optional(), cue.Str(name).Required()} {
		if fv := v.LookupPath(cue.MakePath(sel)); fv.Exists() {
			return fv
		}
	}
	return cue.Value{}
}

// patternValue returns the value of the first pattern constraint of v.
func patternValue(v cue.Value) cue.Value {
	it, err := v.Fields(cue.Optional(true), cue.Patterns(true))
	if err != nil {
		return cue.Value{}
	}
	for it.Next() {
		if it.Selector().ConstraintType() == cue.PatternConstraint {
			return it.Value()
		}
	}
	return cue.Value{}
}

// defaultOf returns the marked default of v as plain JSON data.
func defaultOf(v cue.Value) (any, bool) {
	j := defaultJSON(v)
	if j == "" {
		return nil, false
	}
	var x any
	if json.Unmarshal([]byte(j), &x) != nil {
		return nil, false
	}
	return x, true
}

// defaultRedundant reports whether the default of a `*d | T` field is
// also allowed by T, so that the schema need not list it separately.
func defaultRedundant(v cue.Value) bool {
	d, ok := v.Default()
	if !ok {
		return false
	}
	op, args := v.Expr()
	switch op {
	case cue.NoOp, cue.OrOp:
	default:
		return false
	}
	dj, _ := d.MarshalJSON()
	for _, a := range args {
		if aj, err := a.MarshalJSON(); err == nil && bytes.Equal(aj, dj) {
			continue // the default itself
		}
		if a.Unify(d).Validate(cue.Concrete(true)) == nil {
			return true
		}
	}
	return false
}

// dropConst removes the {"const": d} branch of an anyOf. Editors report a
// wrong type against the first branch ("Value must be 50."), so the
// default, which is already in "default", must not be a branch of its own.
func dropConst(m map[string]any, d any) {
	branches, ok := m["anyOf"].([]any)
	if !ok {
		return
	}
	want, _ := json.Marshal(map[string]any{"const": d})
	var kept []any
	for _, b := range branches {
		got, _ := json.Marshal(b)
		if !bytes.Equal(got, want) {
			kept = append(kept, b)
		}
	}
	if len(kept) == len(branches) {
		return
	}
	delete(m, "anyOf")
	if len(kept) == 1 {
		if one, ok := kept[0].(map[string]any); ok {
			for k, v := range one {
				if _, taken := m[k]; !taken {
					m[k] = v
				}
			}
			return
		}
	}
	m["anyOf"] = kept
}

// simplify merges allOf lists whose members constrain different keywords
// ({type: number} and {type: integer, minimum: 1}) into their parent, so
// editors report the precise type. It works in place.
func simplify(x any) {
	switch t := x.(type) {
	case map[string]any:
		for _, v := range t {
			simplify(v)
		}
		all, ok := t["allOf"].([]any)
		if !ok {
			return
		}
		merged := map[string]any{}
		for _, a := range all {
			am, ok := a.(map[string]any)
			if !ok {
				return
			}
			for k, v := range am {
				prev, seen := merged[k]
				switch {
				case !seen:
					merged[k] = v
				case k == "type" && isNumberType(prev) && isNumberType(v):
					if prev == "integer" || v == "integer" {
						merged[k] = "integer"
					}
				default:
					got, _ := json.Marshal(prev)
					want, _ := json.Marshal(v)
					if !bytes.Equal(got, want) {
						return // a real conflict: keep allOf
					}
				}
			}
		}
		for k := range merged {
			if _, taken := t[k]; taken {
				return
			}
		}
		delete(t, "allOf")
		for k, v := range merged {
			t[k] = v
		}
	case []any:
		for _, v := range t {
			simplify(v)
		}
	}
}

func isNumberType(v any) bool { return v == "number" || v == "integer" }

// toDraft07 renames $defs to definitions and rewrites references, in place.
func toDraft07(x any) {
	switch t := x.(type) {
	case map[string]any:
		if d, ok := t["$defs"]; ok {
			t["definitions"] = d
			delete(t, "$defs")
		}
		if r, ok := t["$ref"].(string); ok {
			t["$ref"] = strings.Replace(r, "#/$defs/", "#/definitions/", 1)
		}
		for _, v := range t {
			toDraft07(v)
		}
	case []any:
		for _, v := range t {
			toDraft07(v)
		}
	}
}
