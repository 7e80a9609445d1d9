// Package cueschema compiles the CUE definition of the nix2gpu.yaml format
// (nix2gpu.cue at the module root and the CUE files of package schema) and
// derives from it what nix2gpu ships: the validation tree (package spec)
// and the JSON Schema for editors. It runs at
// `go generate` time and in tests, never in the nix2gpu binary, so that
// validating a file evaluates no CUE.
package cueschema

import (
	"fmt"
	"sync"

	"cuelang.org/go/cue"
	"cuelang.org/go/cue/build"
	"cuelang.org/go/cue/cuecontext"
	"cuelang.org/go/cue/parser"

	"github.com/nix2gpu/nix2gpu"
	"github.com/nix2gpu/nix2gpu/schema/internal/spec"
)

// Schema is the compiled CUE definition. It is safe for concurrent use.
type Schema struct {
	mu     sync.Mutex // CUE values are not safe for concurrent evaluation
	ctx    *cue.Context
	root   cue.Value // the whole package
	config cue.Value // #Config
}

// Load compiles the embedded CUE definition.
func Load() (*Schema, error) {
	ctx := cuecontext.New()
	inst := build.NewContext().NewInstance("", nil)
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
	}
	root := ctx.BuildInstance(inst)
	if err := root.Err(); err != nil {
		return nil, fmt.Errorf("compiling schema: %w", err)
	}
	if err := root.Validate(); err != nil {
		return nil, fmt.Errorf("schema does not validate: %w", err)
	}
	s := &Schema{ctx: ctx, root: root}
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
