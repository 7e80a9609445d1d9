package cli

import "github.com/urfave/cli/v2"

func validateCommand(env *Env) *cli.Command {
	return &cli.Command{
		Name:   "validate",
		Usage:  "check nix2gpu.yaml against the schema and semantic rules",
		Action: notYet("validate"),
	}
}
