package cli

import (
	"strings"

	"github.com/urfave/cli/v2"
)

// afterFileFlags applies flags written after the FILE argument
// (`nix2gpu compile x.yaml --out dir`), which urfave/cli leaves among the
// arguments, and returns the remaining arguments. Only the named flags
// are recognised; "--" ends flag handling.
func afterFileFlags(c *cli.Context, boolFlags, valueFlags []string) ([]string, error) {
	isBool := map[string]bool{}
	for _, f := range boolFlags {
		isBool[f] = true
	}
	isValue := map[string]bool{}
	for _, f := range valueFlags {
		isValue[f] = true
	}
	args := c.Args().Slice()
	var rest []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			rest = append(rest, args[i+1:]...)
			break
		}
		if !strings.HasPrefix(a, "-") || a == "-" {
			rest = append(rest, a)
			continue
		}
		name, value, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
		switch {
		case isBool[name]:
			if !hasValue {
				value = "true"
			}
		case isValue[name]:
			if !hasValue {
				if i+1 >= len(args) {
					return nil, exitf(ExitUsage, "flag needs an argument: %s", a)
				}
				i++
				value = args[i]
			}
		default:
			return nil, exitf(ExitUsage, "flag provided but not defined: %s", a)
		}
		if err := c.Set(name, value); err != nil {
			return nil, exitf(ExitUsage, "invalid value %q for flag %s: %v", value, a, err)
		}
	}
	return rest, nil
}
