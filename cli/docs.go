package cli

import "github.com/urfave/cli/v2"

func docsCommand(env *Env) *cli.Command {
	return &cli.Command{
		Name:   "docs",
		Usage:  "print the options reference (Markdown)",
		Action: notYet("docs"),
	}
}
