// Package config reads nix2gpu.yaml into a tree of values that remember
// where in the file each one came from. It enforces input limits and the
// YAML rules nix2gpu adds (no duplicate keys, one document, UTF-8, no tabs
// in indentation) and knows nothing about the schema.
package config

import (
	"strconv"
	"strings"

	"github.com/nix2gpu/nix2gpu/diag"
)

// Kind is the type of a Value.
type Kind int

const (
	Null Kind = iota
	Bool
	Int
	Float
	String
	List
	Map
)

func (k Kind) String() string {
	return [...]string{"null", "bool", "int", "float", "string", "list", "map"}[k]
}

// NixTag marks a string whose content is raw Nix code. It is the only way
// to put Nix code into the generated flake.
const NixTag = "!nix"

// Value is one node of the document. Scalars keep their parsed value;
// lists and maps keep their children in file order.
type Value struct {
	Kind  Kind
	Tag   string // NixTag for raw Nix; "" otherwise
	Bool  bool
	Int   int64
	Float float64
	Str   string // the string value; for other scalars, the source text
	List  []*Value
	Map   []*Field
	Range diag.Range
}

// Field is one key/value pair of a map.
type Field struct {
	Key      string
	KeyRange diag.Range
	Value    *Value
}

// IsNix reports whether v is a `!nix` raw expression.
func (v *Value) IsNix() bool { return v != nil && v.Tag == NixTag }

// Field returns the field named key, or nil.
func (v *Value) Field(key string) *Field {
	if v == nil || v.Kind != Map {
		return nil
	}
	for _, f := range v.Map {
		if f.Key == key {
			return f
		}
	}
	return nil
}

// Get returns the value of key in a map, or nil.
func (v *Value) Get(key string) *Value {
	if f := v.Field(key); f != nil {
		return f.Value
	}
	return nil
}

// Lookup follows path (map keys, or decimal indices for lists) and returns
// the value there, or nil.
func (v *Value) Lookup(path ...string) *Value {
	for _, p := range path {
		if v == nil {
			return nil
		}
		switch v.Kind {
		case Map:
			v = v.Get(p)
		case List:
			i, err := strconv.Atoi(p)
			if err != nil || i < 0 || i >= len(v.List) {
				return nil
			}
			v = v.List[i]
		default:
			return nil
		}
	}
	return v
}

// Locate returns the most precise range for path: the key of the last map
// field when keyOnly is set and the field exists, otherwise the value
// itself, falling back to the deepest ancestor that exists. Diagnostics
// about a missing field point at the map that lacks it.
func (v *Value) Locate(path []string, keyOnly bool) diag.Range {
	cur := v
	best := v.Range
	for i, p := range path {
		if cur == nil {
			break
		}
		switch cur.Kind {
		case Map:
			f := cur.Field(p)
			if f == nil {
				return best
			}
			if keyOnly && i == len(path)-1 {
				return f.KeyRange
			}
			cur = f.Value
		case List:
			n, err := strconv.Atoi(p)
			if err != nil || n < 0 || n >= len(cur.List) {
				return best
			}
			cur = cur.List[n]
		default:
			return best
		}
		best = cur.Range
	}
	return best
}

// Keys returns the keys of a map in file order.
func (v *Value) Keys() []string {
	if v == nil || v.Kind != Map {
		return nil
	}
	keys := make([]string, len(v.Map))
	for i, f := range v.Map {
		keys[i] = f.Key
	}
	return keys
}

// Interface converts v into plain Go values (nil, bool, int64, float64,
// string, []any, map[string]any), for encoders that want them. Raw Nix
// values become their source string.
func (v *Value) Interface() any {
	if v == nil {
		return nil
	}
	switch v.Kind {
	case Null:
		return nil
	case Bool:
		return v.Bool
	case Int:
		return v.Int
	case Float:
		return v.Float
	case String:
		return v.Str
	case List:
		out := make([]any, len(v.List))
		for i, e := range v.List {
			out[i] = e.Interface()
		}
		return out
	default:
		out := make(map[string]any, len(v.Map))
		for _, f := range v.Map {
			out[f.Key] = f.Value.Interface()
		}
		return out
	}
}

// PathString joins a path for messages: containers.app.env.FOO, with
// list indices in brackets.
func PathString(path []string) string {
	var b strings.Builder
	for i, p := range path {
		if _, err := strconv.Atoi(p); err == nil && i > 0 {
			b.WriteString("[" + p + "]")
			continue
		}
		if i > 0 {
			b.WriteByte('.')
		}
		b.WriteString(p)
	}
	return b.String()
}
