// Package nix2gpu holds the definition of the nix2gpu.yaml file format.
// The CUE files are embedded here, at the root of the module, because the
// format belongs to the project rather than to one Go package: the schema
// generator compiles them, package schema prints them, and tools can read
// nix2gpu.cue directly.
package nix2gpu

import "embed"

// SchemaFiles holds nix2gpu.cue and the CUE files of package schema (the
// generated services-flake definitions and nix2gpu's AI services). All
// belong to CUE package nix2gpu.
//
//go:embed nix2gpu.cue schema/services_gen.cue schema/ai_services.cue
var SchemaFiles embed.FS

// SchemaFileNames lists SchemaFiles in the order they are compiled.
func SchemaFileNames() []string {
	return []string{"nix2gpu.cue", "schema/ai_services.cue", "schema/services_gen.cue"}
}
