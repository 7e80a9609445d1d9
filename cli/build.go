package cli

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/nix2gpu/nix2gpu/build"
	"github.com/nix2gpu/nix2gpu/compiler"
	"github.com/nix2gpu/nix2gpu/diag"
)

func buildCommand(env *Env) *cli.Command {
	return &cli.Command{
		Name:      "build",
		Usage:     "compile, then build the images with nix",
		ArgsUsage: "[CONTAINER...]",
		Description: `Compiles nix2gpu.yaml into the flake (as 'nix2gpu compile' does), then
runs 'nix build' for the named containers, or all of them, in one Nix
invocation so their derivations build in parallel. On a terminal one status
line shows derivations built, downloads and the current build's last log
line; otherwise (a pipe, CI, NO_COLOR) progress is plain lines on stderr.
The image store paths are printed on stdout, one "CONTAINER PATH" a line,
and each is linked as result-CONTAINER next to the flake (a garbage
collector root; 'nix2gpu verify' picks these up) unless --no-link is given.

A failed derivation is named with the last lines of its log (exit 1).
Without nix the exit code is 3.

Examples:
   nix2gpu build
   nix2gpu build comfyui --system aarch64-linux --builders 'ssh://gh200 aarch64-linux'
   nix2gpu build --format json | jq -r '.results[].path'`,
		Flags: append(buildFlags(), OutputFlags()...),
		Action: func(c *cli.Context) error {
			args, out, err := argsAndOutput(c, env)
			if err != nil {
				return err
			}
			_, dir, names, err := compileAndSelect(c, env, out, args)
			if err != nil {
				return err
			}
			results, err := buildSelected(c, env, dir, names)
			if err != nil {
				return err
			}
			return writeBuildResults(env.Stdout, out, results)
		},
	}
}

// buildFlags are shared by build and push, which builds before pushing.
func buildFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "file", Aliases: []string{"f"}, Usage: "the project file (default: nix2gpu.yaml)"},
		&cli.StringFlag{Name: "system", Usage: "build packages.`SYSTEM` (default: this machine's); passed to nix as --system unless --builders is given"},
		&cli.StringFlag{Name: "builders", Usage: "remote builders, passed to nix as --builders"},
		&cli.StringFlag{Name: "max-jobs", Usage: "parallel local builds, passed to nix as --max-jobs"},
		&cli.StringSliceFlag{Name: "override-input", Usage: "`NAME=URL`: use another flake input (repeatable), passed to nix"},
		&cli.BoolFlag{Name: "no-link", Usage: "leave no result-CONTAINER links (garbage collector roots) next to the flake"},
	}
}

// compileAndSelect compiles the project and resolves the containers to
// build: those named in args, or all of them. A --system the flake has no
// packages for is refused here, before nix runs. It returns the project,
// the directory holding flake.nix and the container names.
func compileAndSelect(c *cli.Context, env *Env, out *Output, args []string) (*compiler.Project, string, []string, error) {
	proj, dir, err := compileForBuild(env, out, c.String("file"))
	if err != nil {
		return nil, "", nil, err
	}
	names, err := selectContainers(proj, args)
	if err != nil {
		return nil, "", nil, err
	}
	if err := checkSystem(proj, c.String("system")); err != nil {
		return nil, "", nil, err
	}
	return proj, dir, names, nil
}

// containersByName indexes the project's containers by name.
func containersByName(p *compiler.Project) map[string]*compiler.Container {
	m := make(map[string]*compiler.Container, len(p.Containers))
	for _, ct := range p.Containers {
		m[ct.Name] = ct
	}
	return m
}

// buildSelected runs nix build for names with the command's flags,
// rendering progress on stderr.
func buildSelected(c *cli.Context, env *Env, dir string, names []string) ([]build.Result, error) {
	extra, err := overrideInputs(c.StringSlice("override-input"))
	if err != nil {
		return nil, err
	}
	progress := newBuildProgress(env)
	results, err := build.Build(c.Context, build.Options{
		Dir:        dir,
		Containers: names,
		System:     c.String("system"),
		Builders:   c.String("builders"),
		MaxJobs:    c.String("max-jobs"),
		ExtraArgs:  extra,
		OutLinks:   !c.Bool("no-link"),
		Progress:   progress.event,
	})
	progress.finish(err == nil)
	if err != nil {
		return nil, buildFailure(env.Stderr, err)
	}
	return results, nil
}

// compileForBuild is the one place build and push meet the compile
// pipeline: read, validate and compile the config, print its diagnostics,
// and write the generated flake next to it. It returns the project and the
// directory holding flake.nix.
func compileForBuild(env *Env, out *Output, file string) (*compiler.Project, string, error) {
	if err := checkConfigReadable(env, file); err != nil {
		return nil, "", err
	}
	proj, f, ds := loadProject(env, file)
	diagOut := out
	if out.Format == diag.FormatJSON && !ds.HasErrors() {
		// Warnings go to stderr as text, so stdout holds one JSON
		// document: the command's results.
		text := *out
		text.Format = diag.FormatText
		diagOut = &text
	}
	if err := printDiagnostics(diagOut, ds, f); err != nil {
		return nil, "", exitf(ExitEnv, "writing diagnostics: %v", err)
	}
	if ds.HasErrors() || proj == nil {
		return nil, "", silentExit(ExitFindings)
	}
	if _, err := writeFlake(proj, f.Dir, false); err != nil {
		return nil, "", err
	}
	return proj, f.Dir, nil
}

// selectContainers returns the requested names in order, or every
// container when none is named. An unknown name is a usage error with the
// closest known name as a hint.
func selectContainers(p *compiler.Project, args []string) ([]string, error) {
	all := make([]string, 0, len(p.Containers))
	for _, c := range p.Containers {
		all = append(all, c.Name)
	}
	if len(args) == 0 {
		return all, nil
	}
	known := map[string]bool{}
	for _, n := range all {
		known[n] = true
	}
	seen := map[string]bool{}
	var names []string
	for _, a := range args {
		if !known[a] {
			msg := fmt.Sprintf("unknown container %q", a)
			if hint := diag.DidYouMean(a, all); hint != "" {
				msg += " (" + hint + ")"
			}
			// all is in name order, as the project keeps its containers.
			return nil, exitf(ExitUsage, "%s; the project has: %s", msg, strings.Join(all, ", "))
		}
		if !seen[a] {
			seen[a] = true
			names = append(names, a)
		}
	}
	return names, nil
}

// checkSystem makes sure the flake has packages for the system to build:
// the one given with --system, or else this machine's.
func checkSystem(p *compiler.Project, system string) error {
	given := system != ""
	if !given {
		system = build.HostSystem()
	}
	if slices.Contains(p.Systems, system) {
		return nil
	}
	list := strings.Join(p.Systems, ", ")
	if !given {
		return exitf(ExitUsage, "this machine is %s but the project builds only %s; pass --system (with --builders for a machine that can build it)", system, list)
	}
	msg := fmt.Sprintf("--system %s is not in the project's systems (%s)", system, list)
	if hint := diag.DidYouMean(system, p.Systems); hint != "" {
		msg += "; " + hint
	}
	return exitf(ExitUsage, "%s", msg)
}

func overrideInputs(specs []string) ([]string, error) {
	var args []string
	for _, s := range specs {
		name, url, ok := strings.Cut(s, "=")
		if !ok || name == "" || url == "" {
			return nil, exitf(ExitUsage, "--override-input %q: want NAME=URL", s)
		}
		args = append(args, "--override-input", name, url)
	}
	return args, nil
}

// buildFailure prints what the user needs to fix a failed build and picks
// the exit code: 3 when nix is missing, 1 when a derivation failed.
func buildFailure(w io.Writer, err error) error {
	if errors.Is(err, build.ErrNixNotFound) {
		return exitf(ExitEnv, "nix is not installed or not on PATH (install Nix 2.8 or later with flakes): %v", err)
	}
	var be *build.Error
	if !errors.As(err, &be) {
		return &ExitError{Code: ExitFindings, Err: err}
	}
	if len(be.Log) > 0 {
		fmt.Fprintf(w, "last %d log lines of %s:\n", len(be.Log), build.DrvName(be.Drv))
		for _, l := range be.Log {
			fmt.Fprintf(w, "  > %s\n", l)
		}
	}
	// The first message is the error itself, printed last by Run; its
	// further lines (an evaluation error's location) and later messages
	// go here.
	for i, m := range be.Messages {
		lines := strings.Split(m, "\n")
		if i == 0 {
			lines = lines[1:]
		}
		for _, l := range lines {
			if strings.TrimSpace(l) != "" {
				fmt.Fprintf(w, "nix: %s\n", l)
			}
		}
	}
	if be.Drv != "" {
		fmt.Fprintf(w, "hint: 'nix log %s' prints the whole log\n", be.Drv)
	}
	return &ExitError{Code: ExitFindings, Err: err}
}

func writeBuildResults(w io.Writer, out *Output, results []build.Result) error {
	if out.Format == diag.FormatJSON {
		type result struct {
			Container string `json:"container"`
			System    string `json:"system"`
			Path      string `json:"path"`
		}
		rs := make([]result, len(results))
		for i, r := range results {
			rs[i] = result{r.Container, r.System, r.Path}
		}
		return writeJSON(w, struct {
			Results []result `json:"results"`
		}{rs})
	}
	for _, r := range results {
		fmt.Fprintf(w, "%s %s\n", r.Container, r.Path)
	}
	return nil
}

// buildProgress renders build events on stderr: one redrawn status line on
// a terminal, plain lines elsewhere so CI logs stay readable.
type buildProgress struct {
	w     io.Writer
	live  bool
	width int
	drawn string
	last  build.State
	// now, when set, limits redraws caused only by a new log line to one
	// per logLineInterval: a chatty compiler prints thousands of lines a
	// second, more than a terminal wants to repaint. Counters always
	// redraw at once.
	now       func() time.Time
	lastDrawn time.Time
}

const logLineInterval = 100 * time.Millisecond

func newBuildProgress(env *Env) *buildProgress {
	getenv := env.Getenv
	live := isTerminal(env.Stderr) && getenv("NO_COLOR") == "" && getenv("CI") == "" && getenv("TERM") != "dumb"
	width := 80
	if n, err := strconv.Atoi(getenv("COLUMNS")); err == nil && n > 0 {
		width = n
	}
	return &buildProgress{w: env.Stderr, live: live, width: width, now: time.Now}
}

func (p *buildProgress) event(e build.Event) {
	p.last = e.State
	if e.Kind == build.EventMessage && e.Level == 1 {
		p.clear()
		fmt.Fprintf(p.w, "warning: %s\n", strings.TrimPrefix(e.Text, "warning: "))
	}
	if p.live {
		if e.Kind == build.EventLogLine && p.now != nil && p.now().Sub(p.lastDrawn) < logLineInterval {
			return
		}
		// Width-1 keeps the cursor off the last column, where some
		// terminals wrap.
		if line := e.State.StatusLine(p.width - 1); line != p.drawn {
			fmt.Fprintf(p.w, "\r\x1b[K%s", line)
			p.drawn = line
			if p.now != nil {
				p.lastDrawn = p.now()
			}
		}
		return
	}
	switch e.Kind {
	case build.EventBuildStarted:
		fmt.Fprintf(p.w, "building %s\n", build.DrvName(e.Drv))
	case build.EventDownloadStarted:
		fmt.Fprintf(p.w, "fetching %s\n", build.StoreName(e.Text))
	}
}

func (p *buildProgress) clear() {
	if p.drawn != "" {
		fmt.Fprint(p.w, "\r\x1b[K")
		p.drawn = ""
	}
}

// finish leaves a summary line.
func (p *buildProgress) finish(ok bool) {
	p.clear()
	if !ok {
		return
	}
	if p.last.Builds == 0 && p.last.Copies == 0 {
		fmt.Fprintln(p.w, "done: everything was already built")
		return
	}
	fmt.Fprintf(p.w, "done: %s\n", p.last.Counts())
}
