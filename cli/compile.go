package cli

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"

	"github.com/urfave/cli/v2"

	"github.com/nix2gpu/nix2gpu/compiler"
	"github.com/nix2gpu/nix2gpu/config"
	"github.com/nix2gpu/nix2gpu/diag"
	"github.com/nix2gpu/nix2gpu/emit"
	"github.com/nix2gpu/nix2gpu/workspace"
)

func compileCommand(env *Env) *cli.Command {
	return &cli.Command{
		Name:      "compile",
		Usage:     "validate, then write flake.nix and nix2gpu/",
		ArgsUsage: "[FILE]",
		Description: `Validates FILE (default: nix2gpu.yaml in the current directory) like
'nix2gpu validate', then writes the Nix flake it describes next to it:
flake.nix and the nix2gpu/ directory (the Nix library and one file per
container). Only files whose content changed are written, each atomically;
generated files that are no longer needed are removed. flake.lock is never
touched, and a flake.nix that nix2gpu did not generate is never overwritten:
use --out to write somewhere else.

With --check nothing is written: the command lists the files that are out of
date and exits 1 if there are any, which suits a pre-commit hook or CI.

Exit status: 0 when the flake is written or up to date, 1 when the config has
errors, the output is stale (--check) or a hand-written file is in the way,
2 on a usage error, 3 when the files cannot be written.

Examples:
   nix2gpu compile
   nix2gpu compile deploy/nix2gpu.yaml --out build/flake
   nix2gpu compile --check`,
		Flags: append(OutputFlags(),
			&cli.StringFlag{Name: "out", Usage: "write the flake into `DIR` (default: the directory of FILE)"},
			&cli.BoolFlag{Name: "check", Usage: "write nothing; exit 1 and list the stale files if the flake is out of date"},
		),
		Action: func(c *cli.Context) error {
			args, out, err := argsAndOutput(c, env)
			if err != nil {
				return err
			}
			if len(args) > 1 {
				return exitf(ExitUsage, "compile takes at most one FILE, got %d arguments", len(args))
			}
			var file string
			if len(args) == 1 {
				file = args[0]
			}
			if err := checkConfigReadable(env, file); err != nil {
				return err
			}
			p, f, ds := loadProject(env, file)
			if ds.HasErrors() || p == nil {
				if err := printDiagnostics(out, ds, f); err != nil {
					return exitf(ExitEnv, "writing diagnostics: %v", err)
				}
				return silentExit(ExitFindings)
			}
			projectDir := f.Dir
			dir := projectDir
			if o := c.String("out"); o != "" {
				dir = o
				if !filepath.IsAbs(dir) {
					dir = filepath.Join(env.Dir, dir)
				}
			}
			check := c.Bool("check")
			changes, err := writeFlake(p, dir, check)
			if err != nil {
				return err
			}
			return reportCompile(env, out, ds, f, changes, check, displayPath(env.Dir, dir), hasSecrets(p.Containers) && !samePath(dir, projectDir))
		},
	}
}

// compileResult is the --format json output of compile.
type compileResult struct {
	Dir         string          `json:"dir"`
	Check       bool            `json:"check"`
	UpToDate    bool            `json:"upToDate"`
	Changes     []compileChange `json:"changes"`
	Diagnostics json.RawMessage `json:"diagnostics"`
}

type compileChange struct {
	Path   string `json:"path"`
	Action string `json:"action"` // create, update, remove
}

func reportCompile(env *Env, out *Output, ds diag.Diagnostics, f *config.File, changes []workspace.Change, check bool, dir string, secretsElsewhere bool) error {
	if out.Format == diag.FormatJSON {
		var buf bytes.Buffer
		r, err := diag.NewRenderer(diag.FormatJSON, diag.Sources{f.Name: f.Source}, false)
		if err == nil {
			err = r.Render(&buf, ds)
		}
		if err != nil {
			return exitf(ExitEnv, "rendering diagnostics: %v", err)
		}
		res := compileResult{Dir: dir, Check: check, UpToDate: len(changes) == 0, Changes: []compileChange{}, Diagnostics: bytes.TrimSpace(buf.Bytes())}
		for _, ch := range changes {
			res.Changes = append(res.Changes, compileChange{Path: ch.Path, Action: ch.Kind.String()})
		}
		b, err := json.MarshalIndent(res, "", "  ")
		if err != nil {
			return exitf(ExitEnv, "encoding output: %v", err)
		}
		fmt.Fprintf(env.Stdout, "%s\n", b)
		if check && len(changes) > 0 {
			return silentExit(ExitFindings)
		}
		return nil
	}
	if err := printDiagnostics(out, ds, f); err != nil {
		return exitf(ExitEnv, "writing diagnostics: %v", err)
	}
	if secretsElsewhere {
		fmt.Fprintf(env.Stderr, "nix2gpu: note: the flake refers to secrets files relative to %s; copy them there\n", dir)
	}
	if len(changes) == 0 {
		if dir == "." {
			fmt.Fprintln(env.Stdout, "up to date")
		} else {
			fmt.Fprintf(env.Stdout, "up to date: %s\n", dir)
		}
		return nil
	}
	verbs := map[workspace.Kind][2]string{
		workspace.Create: {"would create", "created"},
		workspace.Update: {"stale", "updated"},
		workspace.Remove: {"would remove", "removed"},
	}
	for _, ch := range changes {
		v := verbs[ch.Kind][1]
		if check {
			v = verbs[ch.Kind][0]
		}
		fmt.Fprintf(env.Stdout, "%s %s\n", v, filepath.ToSlash(filepath.Join(dir, filepath.FromSlash(ch.Path))))
	}
	if check {
		fmt.Fprintf(env.Stderr, "nix2gpu: %s out of date; run 'nix2gpu compile'\n", plural(len(changes), "file"))
		return silentExit(ExitFindings)
	}
	return nil
}

// displayPath names path relative to the working directory cwd when it
// lies inside it, as the user would type it, and as it is otherwise.
func displayPath(cwd, path string) string {
	if rel, err := filepath.Rel(cwd, path); err == nil && filepath.IsLocal(rel) {
		return filepath.ToSlash(rel)
	} else if err == nil && rel == "." {
		return "."
	}
	return path
}

func samePath(a, b string) bool {
	return filepath.Clean(a) == filepath.Clean(b)
}

// writeFlake generates the flake and writes it to dir: only changed
// files, atomically, never over a hand-written file; stale generated files
// under the library directory are pruned. With check it writes nothing
// and reports what would change.
func writeFlake(p *compiler.Project, dir string, check bool) ([]workspace.Change, error) {
	files, err := emit.Generate(p)
	if err != nil {
		return nil, exitf(ExitFindings, "generating the flake: %v", err)
	}
	plan := workspace.Plan{
		Dir:       dir,
		Files:     files,
		Generated: emit.IsGenerated,
		Prune:     []string{emit.LibDir},
	}
	var changes []workspace.Change
	if check {
		changes, err = workspace.Check(plan)
	} else {
		changes, err = workspace.Apply(plan)
	}
	var conflict *workspace.ConflictError
	switch {
	case errors.As(err, &conflict):
		return nil, exitf(ExitFindings, "%v", err)
	case err != nil:
		return nil, exitf(ExitEnv, "%v", err)
	}
	return changes, nil
}
