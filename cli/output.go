package cli

import (
	"encoding/json"
	"io"
	"os"

	"github.com/urfave/cli/v2"

	"github.com/nix2gpu/nix2gpu/diag"
)

// writeJSON prints v as indented JSON, the form of the build, push and
// verify reports under --format json. Requirement strings are full of <
// and >, so nothing is escaped for HTML: the output is read by programs
// and people, not embedded in a page.
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// globalFlags are accepted before the command and, through OutputFlags,
// after it: `nix2gpu --format json validate` and `nix2gpu validate --format json`.
func globalFlags() []cli.Flag { return OutputFlags() }

// OutputFlags returns the output flags every command accepts.
func OutputFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{
			Name:    "format",
			Value:   "text",
			Usage:   "output format: text, json or github (diagnostics as GitHub Actions annotations)",
			EnvVars: []string{"NIX2GPU_FORMAT"},
		},
		&cli.BoolFlag{
			Name:  "no-color",
			Usage: "never colour output (NO_COLOR in the environment does the same)",
		},
	}
}

// Output holds the per-invocation output settings derived from the global
// flags and the environment.
type Output struct {
	Format diag.Format
	Color  bool
	env    *Env
}

// outputOf reads --format and colour settings. Colour is used only when
// stdout is a terminal, NO_COLOR is unset and --no-color is not given.
func outputOf(c *cli.Context, env *Env) (*Output, error) {
	f := diag.FormatText
	noColor := false
	// The innermost context where the flag was given wins, so a flag after
	// the command overrides one before it.
	for _, ctx := range c.Lineage() {
		if ctx.IsSet("format") {
			f = diag.Format(ctx.String("format"))
			break
		}
	}
	for _, ctx := range c.Lineage() {
		if ctx.IsSet("no-color") {
			noColor = ctx.Bool("no-color")
			break
		}
	}
	switch f {
	case diag.FormatText, diag.FormatJSON, diag.FormatGitHub:
	default:
		return nil, exitf(ExitUsage, "unknown --format %q (want text, json or github)", f)
	}
	color := !noColor && env.Getenv("NO_COLOR") == "" && isTerminal(env.Stdout)
	return &Output{Format: f, Color: color, env: env}, nil
}

// isTerminal reports whether w is a character device (a terminal).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	if err != nil {
		return false
	}
	return fi.Mode()&os.ModeCharDevice != 0
}

// Diagnostics renders ds in the chosen format. Text and github go to
// stderr, JSON to stdout so it can be piped.
func (o *Output) Diagnostics(ds diag.Diagnostics, src diag.Sources) error {
	w := o.env.Stderr
	if o.Format == diag.FormatJSON {
		w = o.env.Stdout
	}
	r, err := diag.NewRenderer(o.Format, src, o.Color)
	if err != nil {
		return err
	}
	return r.Render(w, ds)
}
