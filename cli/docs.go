package cli

import (
	"github.com/urfave/cli/v2"

	"github.com/nix2gpu/nix2gpu/schema"
)

func docsCommand(env *Env) *cli.Command {
	return &cli.Command{
		Name:  "docs",
		Usage: "print the options reference (Markdown)",
		Description: `Prints the reference of every nix2gpu.yaml option as Markdown: name, type,
default and description, then one section per service type with its
options. It is generated from the same schema validate uses, so it always
matches this binary.

Examples:
   nix2gpu docs > docs/reference.md
   nix2gpu docs | grep -A3 'ssh.port'`,
		Flags: OutputFlags(),
		Action: func(c *cli.Context) error {
			if c.NArg() > 0 {
				return exitf(ExitUsage, "docs takes no arguments, got %q", c.Args().First())
			}
			s, err := schema.Load()
			if err != nil {
				return exitf(ExitEnv, "internal error: %v", err)
			}
			md, err := s.Docs()
			if err != nil {
				return exitf(ExitEnv, "internal error: %v", err)
			}
			return writeOut(env.Stdout, []byte(md))
		},
	}
}
