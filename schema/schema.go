// Package schema checks nix2gpu.yaml files against the CUE definition of
// the format (nix2gpu.cue at the module root) and exports that definition
// as CUE text, JSON Schema and a Markdown options reference.
package schema

//go:generate go run ./internal/gensvc -in ../../shared/data/services-flake-options.json -out services_gen.cue

import (
	"fmt"
	"strings"
	"sync"

	"cuelang.org/go/cue"
	"cuelang.org/go/cue/build"
	"cuelang.org/go/cue/cuecontext"
	"cuelang.org/go/cue/parser"

	"github.com/nix2gpu/nix2gpu"
)

// Schema is the compiled format definition. Compile it once with Load and
// reuse it: validation only walks the precompiled tree. A Schema is safe
// for concurrent use.
type Schema struct {
	mu     sync.Mutex // CUE values are not safe for concurrent evaluation
	ctx    *cue.Context
	root   cue.Value // the whole package
	config cue.Value // #Config
	src    string    // the CUE sources, concatenated for CUE()
	top    *node     // validation tree for #Config
}

// Load compiles the embedded CUE definition.
func Load() (*Schema, error) {
	ctx := cuecontext.New()
	inst := build.NewContext().NewInstance("", nil)
	var src strings.Builder
	for i, name := range nix2gpu.SchemaFileNames() {
		data, err := nix2gpu.SchemaFiles.ReadFile(name)
		if err != nil {
			return nil, fmt.Errorf("reading embedded %s: %w", name, err)
		}
		f, err := parser.ParseFile(name, data, parser.ParseComments)
		if err != nil {
			return nil, fmt.Errorf("parsing embedded %s: %w", name, err)
		}
		if err := inst.AddSyntax(f); err != nil {
			return nil, fmt.Errorf("adding %s: %w", name, err)
		}
		if i > 0 {
			src.WriteString("\n")
		}
		fmt.Fprintf(&src, "// -- %s --\n\n", name)
		src.Write(data)
	}
	root := ctx.BuildInstance(inst)
	if err := root.Err(); err != nil {
		return nil, fmt.Errorf("compiling schema: %w", err)
	}
	if err := root.Validate(); err != nil {
		return nil, fmt.Errorf("schema does not validate: %w", err)
	}
	s := &Schema{ctx: ctx, root: root, src: src.String()}
	s.config = root.LookupPath(cue.ParsePath("#Config"))
	if !s.config.Exists() {
		return nil, fmt.Errorf("schema has no #Config")
	}
	top, err := s.compile()
	if err != nil {
		return nil, err
	}
	s.top = top
	return s, nil
}

// CUE returns the CUE source of the schema, all files in one text.
func (s *Schema) CUE() string { return s.src }
