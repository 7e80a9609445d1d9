package cli

import "github.com/urfave/cli/v2"

func verifyCommand(env *Env) *cli.Command {
	return &cli.Command{
		Name:   "verify",
		Usage:  "check images and the GPU host against each other",
		Action: notYet("verify"),
	}
}
