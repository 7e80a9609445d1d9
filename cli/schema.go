package cli

import (
	"io"

	"github.com/urfave/cli/v2"

	"github.com/nix2gpu/nix2gpu/schema"
)

func schemaCommand(env *Env) *cli.Command {
	return &cli.Command{
		Name:  "schema",
		Usage: "print the schema (CUE or JSON Schema)",
		Description: `Prints the definition of the nix2gpu.yaml format. The CUE text is the
source of truth that validate checks against; the JSON Schema (draft-07) is
generated from it for editors: point yaml-language-server at it with a
modeline, as 'nix2gpu init' does.

This command's --format picks the schema language, not the output style:
cue (the default) or jsonschema.

Examples:
   nix2gpu schema > nix2gpu.cue
   nix2gpu schema --format jsonschema > nix2gpu.schema.json
   # in nix2gpu.yaml:
   # yaml-language-server: $schema=./nix2gpu.schema.json`,
		Flags: []cli.Flag{
			&cli.StringFlag{
				Name:  "format",
				Value: "cue",
				Usage: "schema language: cue or jsonschema",
			},
			&cli.BoolFlag{Name: "no-color", Usage: "accepted for symmetry; the schema is never coloured"},
		},
		Action: func(c *cli.Context) error {
			if c.NArg() > 0 {
				return exitf(ExitUsage, "schema takes no arguments, got %q", c.Args().First())
			}
			format := c.String("format")
			switch format {
			case "cue", "jsonschema", "json":
			default:
				return exitf(ExitUsage, "unknown schema --format %q (want cue or jsonschema)", format)
			}
			s, err := schema.Load()
			if err != nil {
				return exitf(ExitEnv, "internal error: %v", err)
			}
			if format == "cue" {
				return writeOut(env.Stdout, []byte(s.CUE()))
			}
			js, err := s.JSONSchema()
			if err != nil {
				return exitf(ExitEnv, "internal error: %v", err)
			}
			return writeOut(env.Stdout, js)
		},
	}
}

// writeOut writes a document to stdout; a failed write (closed pipe, full
// disk) is an environment problem.
func writeOut(w io.Writer, b []byte) error {
	if _, err := w.Write(b); err != nil {
		return exitf(ExitEnv, "writing output: %v", err)
	}
	return nil
}
