// Package schema checks nix2gpu.yaml files against the CUE definition of
// the format (nix2gpu.cue at the module root) and exports that definition
// as CUE text, JSON Schema and a Markdown options reference.
package schema

//go:generate go run ./internal/gensvc -in ../../shared/data/services-flake-options.json -out services_gen.cue

import (
	"fmt"
	"sync"

	"cuelang.org/go/cue"
	"cuelang.org/go/cue/ast"
	"cuelang.org/go/cue/build"
	"cuelang.org/go/cue/cuecontext"
	"cuelang.org/go/cue/format"
	"cuelang.org/go/cue/parser"

	"github.com/nix2gpu/nix2gpu"
)

// Schema is the compiled format definition. Compile it once with Load and
// reuse it: validation only walks the precompiled tree. A Schema is safe
// for concurrent use.
type Schema struct {
	mu     sync.Mutex // CUE values are not safe for concurrent evaluation
	ctx    *cue.Context
	root   cue.Value   // the whole package
	config cue.Value   // #Config
	files  []*ast.File // the parsed CUE files, for CUE()
	top    *node       // validation tree for #Config
}

// Load compiles the embedded CUE definition.
func Load() (*Schema, error) {
	ctx := cuecontext.New()
	inst := build.NewContext().NewInstance("", nil)
	var files []*ast.File
	for _, name := range nix2gpu.SchemaFileNames() {
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
		files = append(files, f)
	}
	root := ctx.BuildInstance(inst)
	if err := root.Err(); err != nil {
		return nil, fmt.Errorf("compiling schema: %w", err)
	}
	if err := root.Validate(); err != nil {
		return nil, fmt.Errorf("schema does not validate: %w", err)
	}
	s := &Schema{ctx: ctx, root: root, files: files}
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

// CUE returns the CUE source of the schema as one self-contained file
// (package nix2gpu), ready for `cue vet -d '#Config'`.
func (s *Schema) CUE() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	merged := &ast.File{}
	imports := &ast.ImportDecl{}
	seen := map[string]bool{}
	var decls []ast.Decl
	for i, f := range s.files {
		for _, d := range f.Decls {
			switch d := d.(type) {
			case *ast.Package:
				if i == 0 {
					merged.Decls = append(merged.Decls, d)
				}
			case *ast.ImportDecl:
				for _, spec := range d.Specs {
					if !seen[spec.Path.Value] {
						seen[spec.Path.Value] = true
						imports.Specs = append(imports.Specs, spec)
					}
				}
			default:
				decls = append(decls, d)
			}
		}
	}
	if len(imports.Specs) > 0 {
		merged.Decls = append(merged.Decls, imports)
	}
	merged.Decls = append(merged.Decls, decls...)
	out, err := format.Node(merged)
	if err != nil {
		// The files parsed and compiled, so formatting cannot fail; keep
		// the reason visible rather than printing nothing.
		return "// cannot format schema: " + err.Error() + "\n"
	}
	return string(out)
}
