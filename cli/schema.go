package cli

import "github.com/urfave/cli/v2"

func schemaCommand(env *Env) *cli.Command {
	return &cli.Command{
		Name:   "schema",
		Usage:  "print the schema (CUE or JSON Schema)",
		Action: notYet("schema"),
	}
}
