// Package build runs `nix build` on a generated flake and turns Nix's
// structured log (--log-format internal-json) into progress events and,
// when a derivation fails, into an error that names it and carries the end
// of its log. It never prints; the caller renders the events.
package build

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
)

// ErrNixNotFound is returned (wrapped) when the nix binary cannot be run.
var ErrNixNotFound = errors.New("nix not found")

// Options says what to build and how.
type Options struct {
	// Dir is the directory holding the generated flake.nix.
	Dir string
	// Containers are the names to build, in order; the caller knows the
	// project's containers, the build package does not read the config.
	Containers []string
	// System selects packages.<System>; empty means the host's system. A
	// non-empty value is also passed to nix as --system, unless Builders is
	// set: --system tells nix the local machine builds that system, and
	// with remote builders it must instead send those derivations away.
	System string
	// Builders and MaxJobs are passed to nix as --builders and --max-jobs
	// when not empty, so remote builders share the work.
	Builders, MaxJobs string
	// Nix is the nix binary; empty means "nix" from PATH.
	Nix string
	// ExtraArgs are appended to the nix command line (e.g. --override-input).
	ExtraArgs []string
	// OutLinks, when true, leaves a result-<container> symlink in Dir for
	// each image, registered with Nix as a garbage collector root, so the
	// image stays until the link goes and other commands (verify, push)
	// find it without building.
	OutLinks bool
	// Progress, when not nil, receives every event, in order, from the
	// goroutine that called Build.
	Progress func(Event)
}

// Result is one built image.
type Result struct {
	Container string
	System    string
	// Path is the image's store path: a docker archive, or for
	// nix2container a JSON description of the image.
	Path string
}

// Error is a failed build: which derivation failed, Nix's message, and the
// last lines that derivation's builder printed.
type Error struct {
	// Drv is the failing derivation, when Nix said which.
	Drv string
	// Messages are Nix's error messages.
	Messages []string
	// Log is the end of the failing derivation's build log.
	Log []string
	// ExitCode is nix's exit status.
	ExitCode int
}

func (e *Error) Error() string {
	var b strings.Builder
	if e.Drv != "" {
		fmt.Fprintf(&b, "building %s failed", DrvName(e.Drv))
	} else {
		b.WriteString("nix build failed")
	}
	if len(e.Messages) > 0 {
		b.WriteString(": ")
		// Nix reports the root cause first and its consequences
		// ("1 dependencies of … failed") after it.
		b.WriteString(firstLine(e.Messages[0]))
	} else {
		fmt.Fprintf(&b, " (exit status %d)", e.ExitCode)
	}
	return b.String()
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	return s
}

// HostSystem returns the Nix system name of the machine running nix2gpu,
// such as "x86_64-linux".
func HostSystem() string {
	arch := runtime.GOARCH
	switch arch {
	case "amd64":
		arch = "x86_64"
	case "arm64":
		arch = "aarch64"
	case "386":
		arch = "i686"
	}
	return arch + "-" + runtime.GOOS
}

// system is the system to build for: Options.System, else this machine's.
func (o Options) system() string {
	if o.System != "" {
		return o.System
	}
	return HostSystem()
}

// Args returns the nix command line (without the binary) Build runs.
func Args(opts Options) []string {
	system := opts.system()
	// --json rather than --print-out-paths: the latter needs Nix 2.9+ and
	// Debian ships 2.8.
	args := []string{
		"build",
		"--extra-experimental-features", "nix-command flakes",
		"--log-format", "internal-json", "-v",
		"--json",
		// No result symlinks: the caller gets the paths, and links named
		// result, result-1, … would not say which container is which.
		"--no-link",
	}
	if opts.System != "" && opts.Builders == "" {
		args = append(args, "--system", opts.System)
	}
	if opts.Builders != "" {
		args = append(args, "--builders", opts.Builders)
	}
	if opts.MaxJobs != "" {
		args = append(args, "--max-jobs", opts.MaxJobs)
	}
	args = append(args, opts.ExtraArgs...)
	for _, c := range opts.Containers {
		args = append(args, flakeRef(opts.Dir)+"#packages."+system+"."+attrName(c))
	}
	return args
}

// attrName quotes a container name for an installable's attribute path
// when it holds a dot, which would otherwise split it ("my.app" is one
// attribute, not two). Container names never hold quotes.
func attrName(name string) string {
	if strings.ContainsAny(name, `."`) {
		return strconv.Quote(name)
	}
	return name
}

// flakeRef names the flake in dir as a path: flake. The default for "."
// inside a git work tree is a git flake, which sees only files git
// tracks, and the files nix2gpu just generated may not be added yet.
func flakeRef(dir string) string {
	if dir == "" {
		dir = "."
	}
	if abs, err := filepath.Abs(dir); err == nil {
		dir = abs
	}
	return "path:" + dir
}

// Build builds every container in opts.Containers with one nix invocation,
// so Nix schedules all their derivations together, and returns one Result
// per container in the same order.
func Build(ctx context.Context, opts Options) ([]Result, error) {
	if len(opts.Containers) == 0 {
		return nil, errors.New("build: no containers to build")
	}
	bin := opts.Nix
	if bin == "" {
		bin = "nix"
	}
	path, err := exec.LookPath(bin)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNixNotFound, err)
	}
	system := opts.system()

	cmd := exec.CommandContext(ctx, path, Args(opts)...)
	cmd.Dir = opts.Dir
	var stdout bytes.Buffer
	cmd.Stdout = &stdout
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNixNotFound, err)
	}
	p := NewParser()
	readErr := readLines(stderr, func(line []byte) {
		if ev, ok := p.Feed(line); ok && opts.Progress != nil {
			opts.Progress(ev)
		}
	})
	waitErr := cmd.Wait()
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	if waitErr != nil {
		var ee *exec.ExitError
		if !errors.As(waitErr, &ee) {
			return nil, fmt.Errorf("running nix: %w", waitErr)
		}
		be := &Error{Drv: p.FailedDrv(), Messages: p.Errors(), ExitCode: ee.ExitCode()}
		if be.Drv != "" {
			be.Log = p.Tail(be.Drv)
		}
		return nil, be
	}
	if readErr != nil {
		return nil, fmt.Errorf("reading nix's log: %w", readErr)
	}
	paths, err := parseOutputs(stdout.Bytes())
	if err != nil {
		return nil, err
	}
	if len(paths) != len(opts.Containers) {
		return nil, fmt.Errorf("nix reported %d results for %d containers", len(paths), len(opts.Containers))
	}
	res := make([]Result, len(paths))
	for i, c := range opts.Containers {
		res[i] = Result{Container: c, System: system, Path: paths[i]}
	}
	if opts.OutLinks {
		for _, r := range res {
			if err := outLink(ctx, path, opts.Dir, r); err != nil {
				return nil, err
			}
		}
	}
	return res, nil
}

// OutLink is the name of the result link of a container in the flake's
// directory.
func OutLink(container string) string { return "result-" + container }

// outLink makes Dir/result-<container> a garbage collector root of the
// built path. One nix invocation per link: with several installables
// nix names its links result, result-1, … instead, and renaming them
// would orphan the roots. The path is already built, so each call only
// registers the root.
func outLink(ctx context.Context, nix, dir string, r Result) error {
	link := filepath.Join(dir, OutLink(r.Container))
	// Named relative to the command's directory, so a relative dir is
	// not joined twice.
	cmd := exec.CommandContext(ctx, nix, "build",
		"--extra-experimental-features", "nix-command flakes",
		"--out-link", OutLink(r.Container), r.Path)
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("linking %s to %s: %w: %s", link, r.Path, err, bytes.TrimSpace(out))
	}
	return nil
}

// parseOutputs reads `nix build --json`: one object per installable, in
// order, each with the store paths of its outputs.
func parseOutputs(out []byte) ([]string, error) {
	var items []struct {
		DrvPath string            `json:"drvPath"`
		Outputs map[string]string `json:"outputs"`
	}
	if err := json.Unmarshal(bytes.TrimSpace(out), &items); err != nil {
		return nil, fmt.Errorf("reading nix build --json output: %w", err)
	}
	paths := make([]string, 0, len(items))
	for _, it := range items {
		p, ok := it.Outputs["out"]
		if !ok {
			return nil, fmt.Errorf("nix build: %s has no \"out\" output", it.DrvPath)
		}
		paths = append(paths, p)
	}
	return paths, nil
}

// maxLine bounds one log line; builders can print megabytes without a
// newline, and the rest of such a line is dropped rather than buffered.
const maxLine = 64 << 10

// readLines calls f for every line of r, cut to maxLine bytes. It keeps
// reading to the end even when lines are too long, so nix never blocks on
// a full pipe.
func readLines(r io.Reader, f func([]byte)) error {
	br := bufio.NewReaderSize(r, maxLine)
	var line []byte
	for {
		chunk, isPrefix, err := br.ReadLine()
		if len(chunk) > 0 && len(line) < maxLine {
			line = append(line, chunk[:min(len(chunk), maxLine-len(line))]...)
		}
		if err != nil {
			if len(line) > 0 {
				f(line)
			}
			if err == io.EOF {
				return nil
			}
			return err
		}
		if !isPrefix {
			f(line)
			line = line[:0]
		}
	}
}
