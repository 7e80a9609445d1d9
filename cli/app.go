// Package cli implements the nix2gpu command line. It is the only package
// that prints and the only one that chooses exit codes; the work itself is
// done by the library packages it calls.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/urfave/cli/v2"
)

// Exit codes, as documented in the README and SPEC §4.
const (
	ExitOK       = 0 // success
	ExitFindings = 1 // invalid config, failed check, stale output
	ExitUsage    = 2 // usage error
	ExitEnv      = 3 // environment problem: nix missing, registry unreachable, no GPU driver
)

// Version is set at build time with -ldflags "-X github.com/nix2gpu/nix2gpu/cli.Version=…".
var Version = "0.1.0-dev"

// ExitError carries the exit code a command wants. Its message, when not
// empty, is printed to stderr by Run.
type ExitError struct {
	Code int
	Err  error
}

func (e *ExitError) Error() string {
	if e.Err == nil {
		return fmt.Sprintf("exit %d", e.Code)
	}
	return e.Err.Error()
}

func (e *ExitError) Unwrap() error { return e.Err }

// exitf returns an ExitError with a formatted message.
func exitf(code int, format string, args ...any) error {
	return &ExitError{Code: code, Err: fmt.Errorf(format, args...)}
}

// silentExit returns an ExitError whose output has already been printed.
func silentExit(code int) error { return &ExitError{Code: code} }

// Env is what a command may read from the process: streams, environment
// and working directory. Tests pass their own.
type Env struct {
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
	Getenv func(string) string // nil reads as an empty environment
	Dir    string
}

// Main runs the CLI with the process's arguments and streams and returns
// the exit code.
func Main() int {
	dir, _ := os.Getwd()
	return Run(context.Background(), os.Args, &Env{
		Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr,
		Getenv: os.Getenv, Dir: dir,
	})
}

// Run runs the CLI with args (args[0] is the program name).
func Run(ctx context.Context, args []string, env *Env) int {
	app := NewApp(env)
	unknown := false
	app.CommandNotFound = func(c *cli.Context, name string) {
		unknown = true
		fmt.Fprintf(env.Stderr, "nix2gpu: unknown command %q; run 'nix2gpu --help'\n", name)
	}
	err := app.RunContext(ctx, args)
	if err == nil && unknown {
		return ExitUsage
	}
	if err == nil {
		return ExitOK
	}
	var ee *ExitError
	if errors.As(err, &ee) {
		if ee.Err != nil {
			fmt.Fprintf(env.Stderr, "nix2gpu: %v\n", ee.Err)
		}
		return ee.Code
	}
	// Anything urfave/cli returns on its own is a usage problem: unknown
	// flag, missing argument, bad flag value.
	fmt.Fprintf(env.Stderr, "nix2gpu: %v\n", err)
	return ExitUsage
}

// NewApp builds the command tree.
func NewApp(env *Env) *cli.App {
	if env.Getenv == nil {
		env.Getenv = func(string) string { return "" }
	}
	app := &cli.App{
		Name:                 "nix2gpu",
		Usage:                "reproducible, GPU-ready OCI images from one validated YAML file",
		Version:              Version,
		Writer:               env.Stdout,
		ErrWriter:            env.Stderr,
		Reader:               env.Stdin,
		EnableBashCompletion: true,
		Suggest:              true,
		HideHelpCommand:      false,
		Flags:                globalFlags(),
		Before: func(c *cli.Context) error {
			_, err := outputOf(c, env)
			return err
		},
		ExitErrHandler: func(*cli.Context, error) {},
		OnUsageError: func(c *cli.Context, err error, _ bool) error {
			return &ExitError{Code: ExitUsage, Err: err}
		},
		Commands: []*cli.Command{
			initCommand(env),
			validateCommand(env),
			compileCommand(env),
			buildCommand(env),
			verifyCommand(env),
			pushCommand(env),
			schemaCommand(env),
			docsCommand(env),
			doctorCommand(env),
			completionCommand(env),
		},
	}
	return app
}
