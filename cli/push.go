package cli

import "github.com/urfave/cli/v2"

func pushCommand(env *Env) *cli.Command {
	return &cli.Command{
		Name:   "push",
		Usage:  "push images to their registries",
		Action: notYet("push"),
	}
}
