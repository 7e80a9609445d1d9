package cli

import "github.com/urfave/cli/v2"

func initCommand(env *Env) *cli.Command {
	return &cli.Command{
		Name:   "init",
		Usage:  "write a commented nix2gpu.yaml",
		Action: notYet("init"),
	}
}
