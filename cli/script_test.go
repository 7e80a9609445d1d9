package cli_test

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/nix2gpu/nix2gpu/cli"
)

func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"nix2gpu": func() { os.Exit(cli.Main()) },
	})
}

// TestScripts runs every testdata/script/<group>/*.txtar as an end-to-end
// test of the real CLI. Each group is a subtest, so
// `go test ./cli -run TestScripts/validate` runs one group.
// Set UPDATE_SCRIPTS=1 to rewrite cmp expectations after a deliberate change.
func TestScripts(t *testing.T) {
	root := filepath.Join("..", "testdata", "script")
	groups, err := os.ReadDir(root)
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range groups {
		if !g.IsDir() {
			continue
		}
		dir := filepath.Join(root, g.Name())
		t.Run(g.Name(), func(t *testing.T) {
			t.Parallel()
			testscript.Run(t, scriptParams(dir))
		})
	}
}

func scriptParams(dir string) testscript.Params {
	repo, _ := filepath.Abs(filepath.Join(".."))
	return testscript.Params{
		Dir:                 dir,
		UpdateScripts:       os.Getenv("UPDATE_SCRIPTS") != "",
		RequireExplicitExec: true,
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"exits":    cmdExits,
			"registry": registryCommand(),
		},
		Setup: func(e *testscript.Env) error {
			e.Setenv("NO_COLOR", "1")
			e.Setenv("REPO", repo)
			// TESTBIN is the directory holding the nix2gpu test binary, so a
			// script can set a PATH of only its own fakes plus nix2gpu:
			//	env PATH=$WORK/bin${:}$TESTBIN
			if p, err := exec.LookPath("nix2gpu"); err == nil {
				e.Setenv("TESTBIN", filepath.Dir(p))
			}
			return nil
		},
	}
}

// cmdExits runs a command and asserts its exact exit status:
//
//	exits 1 nix2gpu validate bad.yaml
//
// stdout and stderr stay available to the following stdout/stderr/cmp lines.
func cmdExits(ts *testscript.TestScript, neg bool, args []string) {
	if neg {
		ts.Fatalf("unsupported: ! exits")
	}
	if len(args) < 2 {
		ts.Fatalf("usage: exits CODE command [args...]")
	}
	want, err := strconv.Atoi(args[0])
	if err != nil {
		ts.Fatalf("exits: bad code %q", args[0])
	}
	got := 0
	if err := ts.Exec(args[1], args[2:]...); err != nil {
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			ts.Fatalf("exits: %v", err)
		}
		got = ee.ExitCode()
	}
	if got != want {
		ts.Fatalf("exit status %d, want %d", got, want)
	}
}
