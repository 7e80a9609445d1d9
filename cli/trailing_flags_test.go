package cli

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/urfave/cli/v2"
)

// trailingResult is what a command saw after argsAndTrailingFlags.
type trailingResult struct {
	args  []string
	out   string
	check bool
	hosts []string
}

func runTrailing(t *testing.T, args ...string) (trailingResult, error) {
	t.Helper()
	var got trailingResult
	app := &cli.App{
		Name: "t",
		Commands: []*cli.Command{{
			Name: "x",
			Flags: []cli.Flag{
				&cli.StringFlag{Name: "out", Aliases: []string{"o"}},
				&cli.BoolFlag{Name: "check"},
				&cli.StringSliceFlag{Name: "host"},
			},
			Action: func(c *cli.Context) error {
				pos, err := argsAndTrailingFlags(c)
				if err != nil {
					return err
				}
				got = trailingResult{pos, c.String("out"), c.Bool("check"), c.StringSlice("host")}
				return nil
			},
		}},
	}
	err := app.Run(append([]string{"t", "x"}, args...))
	return got, err
}

func TestArgsAndTrailingFlags(t *testing.T) {
	for _, c := range []struct {
		args []string
		want trailingResult
	}{
		{[]string{"a", "--out", "d", "b", "--check"}, trailingResult{args: []string{"a", "b"}, out: "d", check: true}},
		{[]string{"a", "-o=d"}, trailingResult{args: []string{"a"}, out: "d"}},
		{[]string{"--check", "a", "--check=false"}, trailingResult{args: []string{"a"}}},
		{[]string{"a", "--host", "h1", "--host=h2"}, trailingResult{args: []string{"a"}, hosts: []string{"h1", "h2"}}},
		{[]string{"a", "--", "--check", "-"}, trailingResult{args: []string{"a", "--check", "-"}}},
	} {
		got, err := runTrailing(t, c.args...)
		if err != nil {
			t.Errorf("%q: %v", c.args, err)
			continue
		}
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("%q: got %+v, want %+v", c.args, got, c.want)
		}
	}
}

func TestArgsAndTrailingFlagsErrors(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"a", "--bogus"}, "flag provided but not defined: --bogus"},
		{[]string{"a", "--out"}, "flag needs an argument: --out"},
		{[]string{"a", "--check=maybe"}, `invalid value "maybe" for flag --check`},
	} {
		_, err := runTrailing(t, c.args...)
		var ee *ExitError
		if !errors.As(err, &ee) || ee.Code != ExitUsage || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: got %v, want a usage error containing %q", c.args, err, c.want)
		}
	}
}
