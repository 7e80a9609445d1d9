package cli

import "github.com/urfave/cli/v2"

func doctorCommand(env *Env) *cli.Command {
	return &cli.Command{
		Name:   "doctor",
		Usage:  "report on nix, GPU, container runtime and registry credentials",
		Action: notYet("doctor"),
	}
}
