package schema

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"cuelang.org/go/cue"
	"cuelang.org/go/cue/cuecontext"

	"github.com/nix2gpu/nix2gpu/cuda"
)

// TestCUDAVersionsMatchTable keeps #CUDAVersion equal to the Go table.
func TestCUDAVersionsMatchTable(t *testing.T) {
	s := loadSchema(t)
	v := s.root.LookupPath(cue.ParsePath("#CUDAVersion"))
	n, err := compileNode(v, false, 0)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range n.enum {
		got = append(got, strings.Trim(e, `"`))
	}
	want := slices.Clone(cuda.Versions())
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("#CUDAVersion = %v, cuda.Versions() = %v", got, want)
	}
	d, ok := v.Default()
	if !ok {
		t.Fatal("#CUDAVersion has no default")
	}
	if def, _ := d.String(); def != cuda.DefaultVersion {
		t.Errorf("#CUDAVersion default = %q, cuda.DefaultVersion = %q", def, cuda.DefaultVersion)
	}
}

func TestJSONSchemaCoversEveryField(t *testing.T) {
	s := loadSchema(t)
	raw, err := s.JSONSchema()
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	if doc["$schema"] != "http://json-schema.org/draft-07/schema#" {
		t.Errorf("$schema = %v", doc["$schema"])
	}
	if strings.Contains(string(raw), "$defs") {
		t.Error("draft-07 output still mentions $defs")
	}
	defs, _ := doc["definitions"].(map[string]any)
	// Every field the validator knows appears as a property with a
	// description, in the document or one of its definitions.
	for _, name := range []string{"Container", "Services", "Svc_postgres", "Svc_comfyui", "Svc_vllm", "CUDA", "SSH", "Home", "Secret"} {
		if defs[name] == nil {
			t.Errorf("definitions lack %s", name)
		}
	}
	svcs := defs["Services"].(map[string]any)["properties"].(map[string]any)
	for _, name := range s.top.fields["defaults"].node.get().fields["services"].node.get().names {
		if svcs[name] == nil {
			t.Errorf("Services lacks %s", name)
		}
	}
	var walk func(path string, x any)
	walk = func(path string, x any) {
		m, ok := x.(map[string]any)
		if !ok {
			return
		}
		if props, ok := m["properties"].(map[string]any); ok {
			for k, p := range props {
				pm := p.(map[string]any)
				if d, _ := pm["description"].(string); d == "" {
					t.Errorf("%s.%s has no description", path, k)
				}
				walk(path+"."+k, p)
			}
		}
		for _, key := range []string{"items", "patternProperties", "definitions"} {
			switch c := m[key].(type) {
			case map[string]any:
				if key == "items" {
					walk(path+"[]", c)
					continue
				}
				for k, v := range c {
					walk(path+"."+k, v)
				}
			}
		}
	}
	walk("", doc)
	port := defs["Svc_vllm"].(map[string]any)["properties"].(map[string]any)["port"].(map[string]any)
	if port["default"] != float64(8000) {
		t.Errorf("vllm port default = %v, want 8000", port["default"])
	}
}

// TestCUEText checks that CUE() is one self-contained file that means
// the same as the embedded schema.
func TestCUEText(t *testing.T) {
	s := loadSchema(t)
	text := s.CUE()
	for _, want := range []string{"#Config:", "#Container:", "#Svc_postgres:", "#Svc_comfyui:"} {
		if !strings.Contains(text, want) {
			t.Errorf("CUE() lacks %q", want)
		}
	}
	if n := strings.Count(text, "\npackage "); n != 1 {
		t.Errorf("CUE() has %d package clauses, want 1", n)
	}
	ctx := cuecontext.New()
	v := ctx.CompileString(text)
	if err := v.Err(); err != nil {
		t.Fatalf("CUE() does not compile on its own: %v", err)
	}
	cfg := v.LookupPath(cue.ParsePath("#Config"))
	for i, src := range append(goodInputs(t), edgeInputs...) {
		f := parse(t, "nix2gpu.yaml", src)
		if hasNix(f.Root) {
			continue
		}
		err := cfg.Unify(ctx.Encode(f.Root.Interface())).Validate(cue.Concrete(true))
		if (err == nil) != (len(s.Validate(f)) == 0) {
			t.Errorf("input %d: exported CUE says %v, Validate found %d problems", i, err, len(s.Validate(f)))
		}
	}
}

// TestLeavesHaveGoPredicates keeps validation off the slow path: every
// scalar constraint of the schema must translate to a Go predicate.
func TestLeavesHaveGoPredicates(t *testing.T) {
	s := loadSchema(t)
	resolveAll(s.top, map[*node]bool{})
	if err := s.top.c.err; err != nil {
		t.Fatalf("building the validation tree: %v", err)
	}
	seen := map[*node]bool{}
	var walk func(n *node, path string)
	walk = func(n *node, path string) {
		if n == nil || seen[n] {
			return
		}
		seen[n] = true
		leaf := n.fields == nil && n.patterns == nil && n.elem == nil && n.alts == nil && !n.any && !n.open
		if leaf && n.pred == nil {
			t.Errorf("%s: constraint %v has no Go predicate", path, n.v)
		}
		for name, f := range n.fields {
			walk(f.node, path+"."+name)
		}
		for _, p := range n.patterns {
			walk(p.node, path+".<name>")
		}
		walk(n.elem, path+"[]")
		for _, a := range n.alts {
			walk(a, path+"|")
		}
	}
	walk(s.top, "")
}
