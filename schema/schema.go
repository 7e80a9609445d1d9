// Package schema checks nix2gpu.yaml files against the definition of the
// format, nix2gpu.cue at the module root, and exports that definition as
// CUE text, JSON Schema and a Markdown options reference.
//
// The CUE is not evaluated at run time. `go generate` works out from it a
// validation tree (tree_gen.go) and the JSON Schema
// (nix2gpu.schema.json); the tests regenerate both from the CUE and fail
// when the committed files differ, and check that validation accepts
// exactly what unifying with the CUE definition accepts.
package schema

//go:generate go run ./internal/gensvc -in ../../shared/data/services-flake-options.json -out services_gen.cue
//go:generate go run ./internal/genschema -tree tree_gen.go -jsonschema nix2gpu.schema.json

import (
	_ "embed"
	"fmt"
	"regexp"
	"strings"
	"sync/atomic"

	"github.com/nix2gpu/nix2gpu"
	"github.com/nix2gpu/nix2gpu/schema/internal/spec"
)

//go:embed nix2gpu.schema.json
var jsonSchema []byte

// Schema is the format definition, ready to check files. It is safe for
// concurrent use.
type Schema struct {
	tree *spec.Tree
	res  []atomic.Pointer[regexp.Regexp] // tree.Regexps, each compiled on first use
}

// Load returns the built-in schema. The tree is static data, so this
// costs nothing; regular expressions are compiled when a check first
// needs them.
func Load() (*Schema, error) {
	return newSchema(&generatedTree)
}

func newSchema(t *spec.Tree) (*Schema, error) {
	if t.Root < 0 || t.Root >= len(t.Nodes) {
		return nil, fmt.Errorf("schema tree has no root node")
	}
	return &Schema{tree: t, res: make([]atomic.Pointer[regexp.Regexp], len(t.Regexps))}, nil
}

// node returns the node at index i, nil for spec.None.
func (s *Schema) node(i int) *spec.Node {
	if i < 0 || i >= len(s.tree.Nodes) {
		return nil
	}
	return &s.tree.Nodes[i]
}

// regexp returns the compiled expression at index i of the tree's
// Regexps. Two checks racing to compile one may both do so; either result
// serves. The generator has compiled every expression of the tree, so an
// error or a bad index means a corrupted tree; it matches nothing rather
// than panicking.
func (s *Schema) regexp(i int) *regexp.Regexp {
	if i >= 0 && i < len(s.res) {
		if re := s.res[i].Load(); re != nil {
			return re
		}
		if re, err := regexp.Compile(s.tree.Regexps[i]); err == nil {
			s.res[i].Store(re)
			return re
		}
	}
	return regexp.MustCompile(`[^\x00-\x{10FFFF}]`)
}

// JSONSchema returns the format as a JSON Schema (draft-07, the dialect
// every YAML language server understands), for editors.
func (s *Schema) JSONSchema() ([]byte, error) {
	return append([]byte(nil), jsonSchema...), nil
}

// CUE returns the CUE source of the schema as one self-contained file
// (package nix2gpu), ready for `cue vet -d '#Config'`: the embedded files
// in order, with one package clause and their imports merged.
func (s *Schema) CUE() string {
	var imports []string
	seen := map[string]bool{}
	var head string
	var bodies []string
	for i, name := range nix2gpu.SchemaFileNames() {
		data, err := nix2gpu.SchemaFiles.ReadFile(name)
		if err != nil {
			return "// cannot read " + name + ": " + err.Error() + "\n"
		}
		h, imps, body := splitCUE(string(data))
		if i == 0 {
			head = h
		}
		for _, imp := range imps {
			if !seen[imp] {
				seen[imp] = true
				imports = append(imports, imp)
			}
		}
		bodies = append(bodies, strings.Trim(body, "\n"))
	}
	var b strings.Builder
	b.WriteString(head)
	switch len(imports) {
	case 0:
	case 1:
		b.WriteString("\nimport " + imports[0] + "\n")
	default:
		b.WriteString("\nimport (\n")
		for _, imp := range imports {
			b.WriteString("\t" + imp + "\n")
		}
		b.WriteString(")\n")
	}
	for _, body := range bodies {
		b.WriteString("\n" + body + "\n")
	}
	return b.String()
}

// splitCUE cuts one CUE file of the schema into its head (comments and
// package clause), its import specs and the rest.
func splitCUE(src string) (head string, imports []string, body string) {
	lines := strings.SplitAfter(src, "\n")
	i := 0
	for ; i < len(lines); i++ {
		if strings.HasPrefix(lines[i], "package ") {
			head = strings.Join(lines[:i+1], "")
			i++
			break
		}
	}
	for ; i < len(lines); i++ {
		line := strings.TrimSpace(lines[i])
		switch {
		case line == "":
		case line == "import (":
			for i++; i < len(lines) && strings.TrimSpace(lines[i]) != ")"; i++ {
				if spec := strings.TrimSpace(lines[i]); spec != "" {
					imports = append(imports, spec)
				}
			}
		case strings.HasPrefix(line, "import "):
			imports = append(imports, strings.TrimSpace(strings.TrimPrefix(line, "import ")))
		default:
			return head, imports, strings.Join(lines[i:], "")
		}
	}
	return head, imports, ""
}
