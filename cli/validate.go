package cli

import (
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/nix2gpu/nix2gpu/diag"
)

func validateCommand(env *Env) *cli.Command {
	return &cli.Command{
		Name:      "validate",
		Usage:     "check nix2gpu.yaml against the schema and semantic rules",
		ArgsUsage: "[FILE]",
		Description: `Reads FILE (default: nix2gpu.yaml in the current directory) and reports
every problem at once, sorted by position: YAML syntax, the schema (unknown
or misspelt options, wrong types and values) and the checks the schema
cannot express (container names, ports, environment variable names, CUDA
versions and compute capabilities, attribute paths, home-manager modules,
secrets files, registries). Raw Nix written with the !nix tag is listed as
a note. Nix is not needed.

Text diagnostics go to stderr with the source line and a caret; with
--format json the diagnostics are a JSON array on stdout; with
--format github they are GitHub Actions annotations.

Exit status: 0 when the file is valid (warnings and notes allowed), 1 when
it has errors, 2 on a usage error, including a FILE that does not exist or
cannot be read (the command was pointed at the wrong place).

Examples:
   nix2gpu validate
   nix2gpu validate deploy/nix2gpu.yaml
   nix2gpu validate --format json | jq '.[] | select(.severity == "error")'`,
		Flags: OutputFlags(),
		Action: func(c *cli.Context) error {
			out, err := outputOf(c, env)
			if err != nil {
				return err
			}
			if c.NArg() > 1 {
				return exitf(ExitUsage, "validate takes at most one FILE, got %d arguments", c.NArg())
			}
			file := c.Args().First()
			if err := checkConfigReadable(env, file); err != nil {
				return err
			}
			p, f, ds := loadProject(env, file)
			if err := printDiagnostics(out, ds, f); err != nil {
				return exitf(ExitEnv, "writing diagnostics: %v", err)
			}
			if ds.HasErrors() {
				return silentExit(ExitFindings)
			}
			if out.Format == diag.FormatText {
				fmt.Fprintf(env.Stderr, "%s: ok (%s)\n", f.Name, summary(len(p.Containers), ds))
			}
			return nil
		},
	}
}

// summary is the parenthesised part of the success line:
// "2 containers, 1 warning".
func summary(containers int, ds diag.Diagnostics) string {
	s := plural(containers, "container")
	if n := ds.Count(diag.Warning); n > 0 {
		s += ", " + plural(n, "warning")
	}
	if n := ds.Count(diag.Note); n > 0 {
		s += ", " + plural(n, "note")
	}
	return s
}

func plural(n int, word string) string {
	if n == 1 {
		return fmt.Sprintf("1 %s", word)
	}
	return fmt.Sprintf("%d %ss", n, word)
}
