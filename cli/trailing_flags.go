package cli

import (
	"strings"

	"github.com/urfave/cli/v2"
)

// argsAndTrailingFlags returns the positional arguments, applying flags
// written after them (`nix2gpu build app --system aarch64-linux`,
// `nix2gpu compile x.yaml --out dir`): urfave/cli stops parsing flags at
// the first argument. Any of the command's own flags is accepted, and
// which of them take a value is read from their definitions, so a new
// flag works after the arguments without being listed anywhere else.
// "--" ends the flags.
func argsAndTrailingFlags(c *cli.Context) ([]string, error) {
	type flagKind struct {
		name       string // the first name, which the command reads
		takesValue bool
	}
	kinds := map[string]flagKind{}
	for _, f := range c.Command.Flags {
		_, isBool := f.(*cli.BoolFlag)
		for _, n := range f.Names() {
			kinds[n] = flagKind{name: f.Names()[0], takesValue: !isBool}
		}
	}
	args := c.Args().Slice()
	var pos []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			pos = append(pos, args[i+1:]...)
			break
		}
		if !strings.HasPrefix(a, "-") || a == "-" {
			pos = append(pos, a)
			continue
		}
		name, val, hasVal := strings.Cut(strings.TrimLeft(a, "-"), "=")
		kind, ok := kinds[name]
		if !ok {
			return nil, exitf(ExitUsage, "flag provided but not defined: %s", a)
		}
		switch {
		case kind.takesValue && !hasVal:
			if i+1 >= len(args) {
				return nil, exitf(ExitUsage, "flag needs an argument: %s", a)
			}
			i++
			val = args[i]
		case !kind.takesValue && !hasVal:
			val = "true"
		}
		// Each name of a flag holds its own value, which urfave/cli
		// reconciles only while parsing; setting the first name, the one
		// the command reads, makes -f after the arguments count as --file.
		if err := c.Set(kind.name, val); err != nil {
			return nil, exitf(ExitUsage, "invalid value %q for flag %s: %v", val, a, err)
		}
	}
	return pos, nil
}

// argsAndOutput parses flags written after the arguments, then reads the
// output settings: in that order, so `nix2gpu build app --format json`
// sees its --format.
func argsAndOutput(c *cli.Context, env *Env) ([]string, *Output, error) {
	args, err := argsAndTrailingFlags(c)
	if err != nil {
		return nil, nil, err
	}
	out, err := outputOf(c, env)
	if err != nil {
		return nil, nil, err
	}
	return args, out, nil
}
