package precommit

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/nix2gpu/nix2gpu/templates"
)

// hook is the part of a .pre-commit-hooks.yaml entry the test reuses.
type hook struct {
	ID            string   `yaml:"id"`
	Name          string   `yaml:"name"`
	Entry         string   `yaml:"entry"`
	Language      string   `yaml:"language"`
	Files         string   `yaml:"files"`
	Types         []string `yaml:"types,omitempty"`
	PassFilenames *bool    `yaml:"pass_filenames,omitempty"`
}

// localConfig turns the published hooks into a `repo: local` config with
// language: system, so pre-commit runs the nix2gpu on PATH instead of
// building it from a clone (no network in tests). Entry, file patterns and
// types are the published ones, so what is tested is what users get.
func localConfig(t *testing.T) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", ".pre-commit-hooks.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var hooks []hook
	if err := yaml.Unmarshal(b, &hooks); err != nil {
		t.Fatalf(".pre-commit-hooks.yaml: %v", err)
	}
	ids := map[string]bool{}
	for i := range hooks {
		ids[hooks[i].ID] = true
		if hooks[i].Language != "golang" {
			t.Errorf("hook %s: language %q, want golang so pre-commit builds nix2gpu for users", hooks[i].ID, hooks[i].Language)
		}
		hooks[i].Language = "system"
	}
	for _, id := range []string{"nix2gpu-validate", "nix2gpu-compile-check"} {
		if !ids[id] {
			t.Errorf(".pre-commit-hooks.yaml lacks %s", id)
		}
	}
	out, err := yaml.Marshal(map[string]any{
		"repos": []any{map[string]any{"repo": "local", "hooks": hooks}},
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// sandbox is a temporary git repository with nix2gpu and pre-commit on
// PATH and every cache inside the test's directory.
type sandbox struct {
	t       *testing.T
	dir     string
	env     []string
	ctx     context.Context
	nix2gpu string // the freshly built binary
}

func newSandbox(t *testing.T) *sandbox {
	t.Helper()
	for _, tool := range []string{"git", "pre-commit"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not installed; the pre-commit hook test needs git and pre-commit", tool)
		}
	}
	root := t.TempDir()
	bin := buildNix2gpu(t)
	// The deadline bounds every command; it is not a timing assertion.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	t.Cleanup(cancel)
	s := &sandbox{t: t, dir: filepath.Join(root, "repo"), ctx: ctx, nix2gpu: filepath.Join(bin, "nix2gpu")}
	home := filepath.Join(root, "home")
	for _, d := range []string{s.dir, home} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	s.env = append(os.Environ(),
		"PATH="+bin+string(os.PathListSeparator)+os.Getenv("PATH"),
		"HOME="+home,
		"XDG_CACHE_HOME="+filepath.Join(root, "cache"),
		"PRE_COMMIT_HOME="+filepath.Join(root, "pre-commit"),
		"GIT_CONFIG_GLOBAL="+filepath.Join(home, ".gitconfig"),
		"GIT_CONFIG_NOSYSTEM=1",
		"GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.org",
		"GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.org",
		"NO_COLOR=1",
	)
	s.must("git", "init", "-q")
	s.write(".pre-commit-config.yaml", string(localConfig(t)))
	s.must("pre-commit", "install")
	return s
}

var (
	buildOnce sync.Once
	binDir    string
	buildErr  error
)

// buildNix2gpu builds the nix2gpu binary once for all tests and returns
// the directory holding it.
func buildNix2gpu(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "nix2gpu-precommit-")
		if err != nil {
			buildErr = err
			return
		}
		binDir = dir
		out, err := exec.Command("go", "build", "-o", filepath.Join(dir, "nix2gpu"), "../cmd/nix2gpu").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("building nix2gpu: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binDir
}

func TestMain(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// hookResult finds pre-commit's summary line for a hook name:
// "nix2gpu validate......Passed".
func hookResult(out, name string) string {
	re := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(name) + `\.*(?:\([^)]*\))?(Passed|Failed|Skipped)$`)
	if m := re.FindStringSubmatch(out); m != nil {
		return m[1]
	}
	return "missing"
}

func (s *sandbox) expect(out string, results map[string]string) {
	s.t.Helper()
	for name, want := range results {
		if got := hookResult(out, name); got != want {
			s.t.Errorf("hook %q: %s, want %s; output:\n%s", name, got, want, out)
		}
	}
}

func (s *sandbox) write(name, content string) {
	s.t.Helper()
	p := filepath.Join(s.dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		s.t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		s.t.Fatal(err)
	}
}

// run runs a command in the repository and returns its combined output
// and whether it succeeded.
func (s *sandbox) run(name string, args ...string) (string, bool) {
	s.t.Helper()
	if name == "nix2gpu" {
		// exec resolves names with this process's PATH, not cmd.Env's.
		name = s.nix2gpu
	}
	cmd := exec.CommandContext(s.ctx, name, args...)
	cmd.Dir = s.dir
	cmd.Env = s.env
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &out
	err := cmd.Run()
	if err != nil {
		if _, ok := err.(*exec.ExitError); !ok {
			s.t.Fatalf("%s %s: %v", name, strings.Join(args, " "), err)
		}
	}
	return out.String(), err == nil
}

func (s *sandbox) must(name string, args ...string) string {
	s.t.Helper()
	out, ok := s.run(name, args...)
	if !ok {
		s.t.Fatalf("%s %s failed:\n%s", name, strings.Join(args, " "), out)
	}
	return out
}

// commit stages everything and commits through the installed hook.
func (s *sandbox) commit(msg string) (string, bool) {
	s.t.Helper()
	s.must("git", "add", "-A")
	return s.run("git", "commit", "-q", "-m", msg)
}

func validConfig(t *testing.T) string {
	t.Helper()
	b, err := templates.Render("basic", templates.DefaultSchemaURL)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestHooks(t *testing.T) {
	s := newSandbox(t)
	valid := validConfig(t)

	// A valid file with up-to-date generated output commits.
	s.write("nix2gpu.yaml", valid)
	s.must("nix2gpu", "compile")
	out, ok := s.commit("valid project")
	if !ok {
		t.Fatalf("commit of a valid, compiled project failed:\n%s", out)
	}
	s.expect(out, map[string]string{"nix2gpu validate": "Passed", "nix2gpu compile --check": "Passed"})

	// An invalid file is refused with a positioned diagnostic.
	s.write("nix2gpu.yaml", strings.Replace(valid, "    tag: latest\n", "    tag: latest\n    enviroment: {}\n", 1))
	out, ok = s.commit("invalid project")
	if ok {
		t.Fatalf("commit of an invalid file succeeded:\n%s", out)
	}
	s.expect(out, map[string]string{"nix2gpu validate": "Failed"})
	if !strings.Contains(out, "\nnix2gpu.yaml:18:5: error: unknown field \"enviroment\"") {
		t.Errorf("validate did not print a positioned diagnostic:\n%s", out)
	}
	s.must("git", "reset", "-q", "--hard")

	// A valid change that was not compiled leaves the flake stale.
	s.write("nix2gpu.yaml", strings.Replace(valid, "    tag: latest\n", "    tag: v2\n", 1))
	out, ok = s.commit("stale output")
	if ok {
		t.Fatalf("commit with stale generated files succeeded:\n%s", out)
	}
	s.expect(out, map[string]string{"nix2gpu validate": "Passed", "nix2gpu compile --check": "Failed"})
	if !strings.Contains(out, "nix2gpu compile") {
		t.Errorf("compile-check does not say how to fix the stale output:\n%s", out)
	}
	s.must("nix2gpu", "compile")
	if out, ok := s.commit("recompiled"); !ok {
		t.Fatalf("commit after nix2gpu compile failed:\n%s", out)
	}

	// A hand edit of generated output is caught too, even when
	// nix2gpu.yaml is untouched.
	s.write("flake.nix", "# edited by hand\n")
	out, ok = s.commit("hand edit")
	if ok {
		t.Fatalf("commit of a hand-edited flake.nix succeeded:\n%s", out)
	}
	s.expect(out, map[string]string{"nix2gpu validate": "Skipped", "nix2gpu compile --check": "Failed"})
}

// Projects in subdirectories are found from the changed file's path.
func TestHooksSubdirectory(t *testing.T) {
	s := newSandbox(t)
	valid := validConfig(t)
	s.write("gpu/a/nix2gpu.yaml", valid)
	s.write("gpu/b/nix2gpu.yaml", strings.Replace(valid, "  app:\n", "  other:\n", 1))
	for _, p := range []string{"gpu/a/nix2gpu.yaml", "gpu/b/nix2gpu.yaml"} {
		s.must("nix2gpu", "compile", p)
	}
	if out, ok := s.commit("two projects"); !ok {
		t.Fatalf("commit of two valid projects failed:\n%s", out)
	}
	s.write("gpu/b/nix2gpu.yaml", strings.Replace(valid, "    tag: latest\n", "    tag: 1bad tag\n", 1))
	out, ok := s.commit("one invalid")
	if ok {
		t.Fatalf("commit with an invalid gpu/b/nix2gpu.yaml succeeded:\n%s", out)
	}
	s.expect(out, map[string]string{"nix2gpu validate": "Failed"})
	if !strings.Contains(out, "gpu/b/nix2gpu.yaml:") {
		t.Errorf("diagnostic does not name gpu/b/nix2gpu.yaml:\n%s", out)
	}
}
