package compiler

import "github.com/nix2gpu/nix2gpu/config"

// Merge deep-merges over on top of under, as `defaults` merge under each
// container: maps merge key by key, recursively; anything else (scalars,
// lists, and a map meeting a non-map) is taken from over. So `cuda: false`
// in a container wins over a `cuda:` map in defaults, and a container's
// `packages` list replaces the default one instead of extending it.
//
// Neither input is modified; values that are not merged are shared, so
// their ranges still point where the user wrote them.
func Merge(under, over *config.Value) *config.Value {
	if over == nil {
		return under
	}
	if under == nil || under.Kind != config.Map || over.Kind != config.Map {
		return over
	}
	out := &config.Value{Kind: config.Map, Range: over.Range, Tag: over.Tag}
	for _, uf := range under.Map {
		of := over.Field(uf.Key)
		if of == nil {
			out.Map = append(out.Map, uf)
			continue
		}
		out.Map = append(out.Map, &config.Field{Key: of.Key, KeyRange: of.KeyRange, Value: Merge(uf.Value, of.Value)})
	}
	for _, of := range over.Map {
		if under.Field(of.Key) == nil {
			out.Map = append(out.Map, of)
		}
	}
	return out
}
