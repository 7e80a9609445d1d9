package cli

import "github.com/urfave/cli/v2"

func buildCommand(env *Env) *cli.Command {
	return &cli.Command{
		Name:   "build",
		Usage:  "compile, then build the images with nix",
		Action: notYet("build"),
	}
}
