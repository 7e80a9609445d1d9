// Package cueschema compiles the CUE definition of the nix2gpu.yaml format
// (nix2gpu.cue at the module root and the CUE files of package schema) and
// derives from it what nix2gpu ships: the validation tree (package spec),
// the JSON Schema for editors and the merged CUE text. It runs at
// `go generate` time and in tests, never in the nix2gpu binary, so that
// validating a file evaluates no CUE.
package cueschema

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
	"github.com/nix2gpu/nix2gpu/schema/internal/spec"
)

// Schema is the compiled CUE definition. It is safe for concurrent use.
type Schema struct {
	mu     sync.Mutex // CUE values are not safe for concurrent evaluation
	ctx    *cue.Context
	root   cue.Value   // the whole package
	config cue.Value   // #Config
	files  []*ast.File // the parsed CUE files, for CUE()
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
	return s, nil
}

// Accepts unifies data (as config.Value.Interface returns it) with
// #Config and reports the first problem, the way `cue vet` would.
func (s *Schema) Accepts(data any) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.config.Unify(s.ctx.Encode(data)).Validate(cue.Concrete(true))
}

// Tree works out the whole validation tree of #Config.
func (s *Schema) Tree() (*spec.Tree, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return buildTree(s.config)
}

// Definition works out the validation tree of one definition (#CUDAVersion)
// and returns it with the definition's default as JSON ("" when none).
func (s *Schema) Definition(name string) (*spec.Tree, string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v := s.root.LookupPath(cue.ParsePath(name))
	if !v.Exists() {
		return nil, "", fmt.Errorf("schema has no %s", name)
	}
	t, err := buildTree(v)
	if err != nil {
		return nil, "", err
	}
	def := ""
	if d, ok := v.Default(); ok && d.IsConcrete() {
		if b, err := d.MarshalJSON(); err == nil {
			def = string(b)
		}
	}
	return t, def, nil
}

// CUE returns the CUE source of the schema as one self-contained file
// (package nix2gpu), formatted by CUE.
func (s *Schema) CUE() (string, error) {
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
		return "", fmt.Errorf("formatting the merged schema: %w", err)
	}
	return string(out), nil
}
