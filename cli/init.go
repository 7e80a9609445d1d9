package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/nix2gpu/nix2gpu/diag"
	"github.com/nix2gpu/nix2gpu/templates"
)

func initCommand(env *Env) *cli.Command {
	return &cli.Command{
		Name:      "init",
		Usage:     "write a commented nix2gpu.yaml",
		ArgsUsage: "[FILE]",
		Description: `Writes a commented nix2gpu.yaml from a template, in the current directory
or at FILE. A FILE that is a directory, or has no .yaml or .yml extension,
names a project directory: it is created and gets a nix2gpu.yaml. Its first line is the
yaml-language-server modeline that gives editors completion and hover from
nix2gpu's JSON Schema. An existing file is never overwritten.

Templates:` + templateSummary() + `

Examples:
   nix2gpu init
   nix2gpu init --template comfyui
   nix2gpu init --template home devbox
   nix2gpu init --template services --schema schema/nix2gpu.schema.json gpu/nix2gpu.yaml
   nix2gpu init --list`,
		Flags: append(OutputFlags(),
			&cli.StringFlag{
				Name:    "template",
				Aliases: []string{"t"},
				Value:   templates.Default,
				Usage:   "template to start from: " + strings.Join(templates.Names(), ", "),
			},
			&cli.StringFlag{
				Name:  "schema",
				Usage: "JSON Schema for the modeline: a URL, or a local path (written relative to FILE)",
				Value: templates.DefaultSchemaURL,
			},
			&cli.BoolFlag{
				Name:  "list",
				Usage: "list the templates and exit",
			},
		),
		Action: func(c *cli.Context) error {
			out, err := outputOf(c, env)
			if err != nil {
				return err
			}
			if c.Bool("list") {
				return listTemplates(env, out)
			}
			if c.NArg() > 1 {
				return exitf(ExitUsage, "init takes at most one FILE, got %d arguments", c.NArg())
			}
			target := filepath.Join(env.Dir, DefaultConfigFile)
			if c.NArg() == 1 {
				target = c.Args().First()
				if !filepath.IsAbs(target) {
					target = filepath.Join(env.Dir, target)
				}
				if isDirTarget(c.Args().First(), target) {
					target = filepath.Join(target, DefaultConfigFile)
				}
			}
			ref, err := schemaRef(c.String("schema"), env.Dir, filepath.Dir(target))
			if err != nil {
				return exitf(ExitUsage, "--schema: %v", err)
			}
			name := c.String("template")
			text, err := templates.Render(name, ref)
			if err != nil {
				return exitf(ExitUsage, "%v", err)
			}
			shown := displayPath(env.Dir, target)
			if err := writeNew(target, text); err != nil {
				if errors.Is(err, fs.ErrExist) {
					return exitf(ExitFindings, "%s already exists; not overwriting it (remove it, or name another FILE: nix2gpu init other.yaml)", shown)
				}
				return exitf(ExitEnv, "writing %s: %v", shown, err)
			}
			if out.Format == diag.FormatJSON {
				return json.NewEncoder(env.Stdout).Encode(map[string]string{
					"file": shown, "template": name, "schema": ref,
				})
			}
			fmt.Fprintf(env.Stdout, "wrote %s from the %s template\nnext: edit it, then run %s\n", shown, name, validateHint(shown))
			return nil
		},
	}
}

func templateSummary() string {
	var parts []string
	for _, t := range templates.List() {
		parts = append(parts, fmt.Sprintf("\n   %-9s %s", t.Name, t.Description))
	}
	return strings.Join(parts, "")
}

func listTemplates(env *Env, out *Output) error {
	if out.Format == diag.FormatJSON {
		return json.NewEncoder(env.Stdout).Encode(templates.List())
	}
	for _, t := range templates.List() {
		def := ""
		if t.Name == templates.Default {
			def = " (default)"
		}
		fmt.Fprintf(env.Stdout, "%-9s %s%s\n", t.Name, t.Description, def)
	}
	return nil
}

// isDirTarget reports whether the FILE argument names a directory to hold
// nix2gpu.yaml rather than the file itself.
func isDirTarget(arg, path string) bool {
	if fi, err := os.Stat(path); err == nil {
		return fi.IsDir()
	}
	if strings.HasSuffix(arg, "/") {
		return true
	}
	ext := strings.ToLower(filepath.Ext(path))
	return ext != ".yaml" && ext != ".yml"
}

// schemaRef turns the --schema value into what the modeline holds. URLs
// stay as they are; a local path is made relative to the directory of the
// written file, because the language server resolves it from there.
func schemaRef(v, cwd, fileDir string) (string, error) {
	if v == "" {
		return "", errors.New("empty")
	}
	if strings.Contains(v, "://") {
		return v, nil
	}
	abs := v
	if !filepath.IsAbs(abs) {
		abs = filepath.Join(cwd, abs)
	}
	rel, err := filepath.Rel(fileDir, abs)
	if err != nil {
		return filepath.ToSlash(abs), nil
	}
	return filepath.ToSlash(rel), nil
}

// writeNew creates path with content and fails with fs.ErrExist if it is
// already there; O_EXCL makes the check and the creation one step.
func writeNew(path string, content []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	if _, err := f.Write(content); err != nil {
		f.Close()
		os.Remove(path)
		return err
	}
	if err := f.Close(); err != nil {
		os.Remove(path)
		return err
	}
	return nil
}

// validateHint is the command that checks the written file; the FILE
// argument is left out for the default file in the working directory.
func validateHint(shown string) string {
	if shown == DefaultConfigFile {
		return "nix2gpu validate"
	}
	return "nix2gpu validate " + shown
}
