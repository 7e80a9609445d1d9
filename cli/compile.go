package cli

import "github.com/urfave/cli/v2"

func compileCommand(env *Env) *cli.Command {
	return &cli.Command{
		Name:   "compile",
		Usage:  "validate, then write flake.nix and nix2gpu/",
		Action: notYet("compile"),
	}
}
