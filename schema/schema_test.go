package schema

import (
	"encoding/json"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"cuelang.org/go/cue"
	"cuelang.org/go/cue/cuecontext"

	"github.com/nix2gpu/nix2gpu/cuda"
	"github.com/nix2gpu/nix2gpu/schema/internal/spec"
)

// TestCUDAVersionsMatchTable keeps #CUDAVersion equal to the Go table.
func TestCUDAVersionsMatchTable(t *testing.T) {
	tree, def, err := loadCUE(t).Definition("#CUDAVersion")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range tree.Nodes[tree.Root].Enum {
		got = append(got, strings.Trim(e, `"`))
	}
	want := slices.Clone(cuda.Versions())
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("#CUDAVersion = %v, cuda.Versions() = %v", got, want)
	}
	if want := strconv.Quote(cuda.DefaultVersion); def != want {
		t.Errorf("#CUDAVersion default = %s, cuda.DefaultVersion = %s", def, want)
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
	defaults := s.node(s.node(s.tree.Root).Field("defaults").Node)
	for _, name := range s.node(defaults.Field("services").Node).Names() {
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

// TestTreeIsComplete checks the generated tree: every index points at a
// node, every leaf has a predicate, every regular expression compiles.
func TestTreeIsComplete(t *testing.T) {
	s := loadSchema(t)
	valid := func(i int) bool { return i >= 0 && i < len(s.tree.Nodes) }
	for i, n := range s.tree.Nodes {
		leaf := !n.Any && !n.IsMap() && n.Elem == spec.None && n.Alts == nil
		if leaf && n.Pred == nil {
			t.Errorf("node %d: scalar constraint without a predicate", i)
		}
		if (n.Fields != nil || n.Patterns != nil || n.Open) && !n.Map {
			t.Errorf("node %d: fields, patterns or ... without Map set", i)
		}
		for _, f := range n.Fields {
			if !valid(f.Node) {
				t.Errorf("node %d: field %s points at %d", i, f.Name, f.Node)
			}
		}
		for _, p := range n.Patterns {
			if !valid(p.Node) {
				t.Errorf("node %d: pattern points at %d", i, p.Node)
			}
			if p.Expr != "" && !refersTo(s.tree, p.Re, p.Expr) {
				t.Errorf("node %d: pattern %q refers to regexp %d", i, p.Expr, p.Re)
			}
		}
		checkPredRegexps(t, s.tree, i, n.Pred)
		for _, a := range n.Alts {
			if !valid(a) {
				t.Errorf("node %d: alternative points at %d", i, a)
			}
		}
		if n.Elem != spec.None && !valid(n.Elem) {
			t.Errorf("node %d: element points at %d", i, n.Elem)
		}
		if !slices.IsSortedFunc(n.Fields, func(a, b spec.Field) int { return strings.Compare(a.Name, b.Name) }) {
			t.Errorf("node %d: fields not sorted", i)
		}
	}
	seen := map[string]bool{}
	for i, expr := range s.tree.Regexps {
		if _, err := regexp.Compile(expr); err != nil {
			t.Errorf("regexp %d: %v", i, err)
		}
		if seen[expr] {
			t.Errorf("regexp %d: %q listed twice", i, expr)
		}
		seen[expr] = true
	}
}

// refersTo reports whether index i of the tree's Regexps holds expr.
func refersTo(tree *spec.Tree, i int, expr string) bool {
	return i >= 0 && i < len(tree.Regexps) && tree.Regexps[i] == expr
}

// checkPredRegexps checks that every match in p refers to its expression.
func checkPredRegexps(t *testing.T, tree *spec.Tree, node int, p *spec.Pred) {
	if p == nil {
		return
	}
	if (p.Op == spec.OpMatch || p.Op == spec.OpNotMatch) && !refersTo(tree, p.Re, p.Value) {
		t.Errorf("node %d: match %q refers to regexp %d", node, p.Value, p.Re)
	}
	for i := range p.Args {
		checkPredRegexps(t, tree, node, &p.Args[i])
	}
}
