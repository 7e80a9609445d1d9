// Package layout holds tests that keep the package structure honest: data
// flows one way through the pipeline, only the CLI prints, and the pure
// stages never run programs or touch the network.
package layout

import (
	"bufio"
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
)

const module = "github.com/nix2gpu/nix2gpu"

type pkg struct {
	path    string // relative to the module: "emit", "cli", ""
	dir     string
	imports []string
}

func listPackages(t *testing.T) []pkg {
	t.Helper()
	pkgs, err := goList()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	return pkgs
}

// goList lists the module's packages once for all the tests.
var goList = sync.OnceValues(func() ([]pkg, error) {
	cmd := exec.Command("go", "list", "-f", "{{.ImportPath}}|{{.Dir}}|{{join .Imports \" \"}}", module+"/...")
	cmd.Dir = "../.."
	out, err := cmd.Output()
	if err != nil {
		return nil, err
	}
	var pkgs []pkg
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		parts := strings.SplitN(sc.Text(), "|", 3)
		p := pkg{path: strings.TrimPrefix(strings.TrimPrefix(parts[0], module), "/"), dir: parts[1]}
		if parts[2] != "" {
			p.imports = strings.Fields(parts[2])
		}
		pkgs = append(pkgs, p)
	}
	return pkgs, nil
})

func top(path string) string {
	first, _, _ := strings.Cut(path, "/")
	return first
}

// allowed lists, for each top-level package, the project packages it may
// import. Anything not listed may import only what its row says.
var allowed = map[string][]string{
	"diag":     {},
	"cuda":     {},
	"config":   {"diag"},
	"schema":   {"", "config", "diag", "cuda", "schema"},
	"compiler": {"config", "diag", "cuda", "compiler"},
	"emit":     {"compiler", "diag", "emit"},
	"build":    {"diag", "build"},
	"image":    {"image"},
	"verify":   {"image", "cuda", "diag", "verify"},
	"push":     {"image", "push"},
}

func TestPipelineFlowsOneWay(t *testing.T) {
	for _, p := range listPackages(t) {
		rules, ok := allowed[top(p.path)]
		if !ok {
			continue
		}
		for _, imp := range p.imports {
			if !strings.HasPrefix(imp, module) {
				continue
			}
			rel := strings.TrimPrefix(strings.TrimPrefix(imp, module), "/")
			if strings.HasPrefix(rel, "internal/") {
				continue
			}
			okImp := false
			for _, a := range rules {
				if top(rel) == a || rel == a {
					okImp = true
				}
			}
			if !okImp {
				t.Errorf("%s imports %s; the pipeline allows %s to import only %v", p.path, rel, top(p.path), rules)
			}
		}
	}
}

// The stages that turn a file into Nix text are pure: no programs, no
// network, so they are fast, deterministic and safe on hostile input.
func TestPureStagesDoNoIO(t *testing.T) {
	forbidden := []string{"os/exec", "net", "net/http", "syscall"}
	for _, p := range listPackages(t) {
		switch top(p.path) {
		case "diag", "config", "compiler", "emit", "cuda":
		default:
			continue
		}
		for _, imp := range p.imports {
			for _, f := range forbidden {
				if imp == f {
					t.Errorf("%s imports %s", p.path, imp)
				}
			}
		}
	}
}

var printRE = regexp.MustCompile(`\bos\.(Stdout|Stderr)\b|\bfmt\.Print|\blog\.(Print|Fatal)`)

// Only the CLI prints: library packages return values and errors.
func TestOnlyCLIPrints(t *testing.T) {
	for _, p := range listPackages(t) {
		switch {
		case p.path == "cli", strings.HasPrefix(p.path, "cmd/"), strings.HasPrefix(p.path, "internal/"),
			strings.HasPrefix(p.path, "bench"), strings.Contains(p.path, "/internal/"):
			continue
		}
		files, _ := filepath.Glob(filepath.Join(p.dir, "*.go"))
		for _, f := range files {
			if strings.HasSuffix(f, "_test.go") {
				continue
			}
			src, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			if printRE.Match(src) {
				t.Errorf("%s prints (%s); return data and let cli/ print it", filepath.Base(f), printRE.Find(src))
			}
		}
	}
}
