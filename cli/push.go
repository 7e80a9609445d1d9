package cli

import (
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/urfave/cli/v2"

	"github.com/nix2gpu/nix2gpu/build"
	"github.com/nix2gpu/nix2gpu/compiler"
	"github.com/nix2gpu/nix2gpu/diag"
	"github.com/nix2gpu/nix2gpu/image"
	"github.com/nix2gpu/nix2gpu/push"
)

func pushCommand(env *Env) *cli.Command {
	return &cli.Command{
		Name:      "push",
		Usage:     "push images to their registries",
		ArgsUsage: "[CONTAINER...]",
		Description: `Builds the named containers, or all of them (a no-op when they are already
built), then pushes each image to every entry of its 'registries', tagged
with its 'tag'. Blobs upload in parallel; those a registry already has are
skipped, so a repeated or interrupted push sends only what is missing.
Failed requests are retried with backoff. Credentials come from the Docker
config (docker login) and its credential helpers; they are never printed.
A registry on this machine (127.0.0.1, ::1, localhost) is asked over plain
HTTP first, and when its tag already names the image the push ends after
that one request.

The direct form pushes any image without a project: --image takes an OCI
layout directory, a docker archive, a nix2container JSON file or a registry
reference; every --to is a destination reference.

Prints, per destination, the pushed digest and how many blobs were uploaded
or skipped. A registry that cannot be reached exits 3.

Examples:
   nix2gpu push
   nix2gpu push comfyui
   nix2gpu push --image ./result --to ghcr.io/acme/comfyui:v1 --to registry.local:5000/comfyui:v1`,
		Flags: append(append(buildFlags(),
			&cli.StringFlag{Name: "image", Usage: "push this image (`PATH|REF`) instead of the project's"},
			&cli.StringSliceFlag{Name: "to", Usage: "destination `REF` for --image (repeatable)"},
			&cli.IntFlag{Name: "jobs", Value: push.DefaultJobs, Usage: "blobs uploaded at once"},
			&cli.BoolFlag{Name: "insecure", Usage: "allow plain HTTP to every registry (loopback, *.local and private addresses always allow it)"},
			&cli.IntFlag{Name: "attempts", Value: push.DefaultAttempts, Usage: "tries per request before a registry counts as unreachable (waits 1s, 3s, 9s, … between)"},
		), OutputFlags()...),
		Action: func(c *cli.Context) error {
			args, out, err := argsAndOutput(c, env)
			if err != nil {
				return err
			}
			if c.Int("jobs") < 1 {
				return exitf(ExitUsage, "--jobs must be at least 1")
			}
			if c.Int("attempts") < 1 {
				return exitf(ExitUsage, "--attempts must be at least 1")
			}
			var jobs []pushJob
			if c.IsSet("image") || c.IsSet("to") {
				jobs, err = directPushJob(c, args)
			} else {
				jobs, err = projectPushJobs(c, env, out, args)
			}
			if err != nil {
				return err
			}
			return runPushes(c, env, out, jobs)
		},
	}
}

// pushJob is one image and where it goes.
type pushJob struct {
	container string // empty for --image
	source    string // path or reference to open
	refs      []string
}

func directPushJob(c *cli.Context, args []string) ([]pushJob, error) {
	src, to := c.String("image"), c.StringSlice("to")
	switch {
	case src == "":
		return nil, exitf(ExitUsage, "--to needs --image PATH|REF")
	case len(to) == 0:
		return nil, exitf(ExitUsage, "--image needs at least one --to REF")
	case len(args) > 0:
		return nil, exitf(ExitUsage, "--image pushes one image; drop the container names")
	}
	var nameOpts []name.Option
	if c.Bool("insecure") {
		nameOpts = append(nameOpts, name.Insecure)
	}
	for _, r := range to {
		if _, err := name.ParseReference(r, nameOpts...); err != nil {
			return nil, exitf(ExitUsage, "--to %q: %v", r, err)
		}
	}
	return []pushJob{{source: src, refs: to}}, nil
}

// projectPushJobs builds the selected containers that have registries and
// pairs each image with its destinations.
func projectPushJobs(c *cli.Context, env *Env, out *Output, args []string) ([]pushJob, error) {
	proj, dir, names, err := compileAndSelect(c, env, out, args)
	if err != nil {
		return nil, err
	}
	named := len(args) > 0
	byName := containersByName(proj)
	var withRegistries []string
	for _, n := range names {
		if len(byName[n].Registries) > 0 {
			withRegistries = append(withRegistries, n)
		} else if named {
			return nil, exitf(ExitUsage, "container %q has no registries; add 'registries:' to it in the project file", n)
		}
	}
	if len(withRegistries) == 0 {
		return nil, exitf(ExitUsage, "no container has registries; add 'registries:' to the containers to push")
	}

	results, err := buildSelected(c, env, dir, withRegistries)
	if err != nil {
		return nil, err
	}
	jobs := make([]pushJob, len(results))
	for i, r := range results {
		ct := byName[r.Container]
		jobs[i] = pushJob{container: ct.Name, source: r.Path, refs: withTag(ct.Registries, ct.Tag)}
	}
	return jobs, nil
}

// withTag adds tag to each repository that names no tag or digest.
func withTag(repos []string, tag string) []string {
	if tag == "" {
		tag = compiler.DefaultTag
	}
	refs := make([]string, len(repos))
	for i, r := range repos {
		refs[i] = r
		if _, err := name.NewTag(r, name.StrictValidation); err != nil {
			if _, err := name.NewDigest(r); err != nil {
				refs[i] = r + ":" + tag
			}
		}
	}
	return refs
}

// pushSummary is one destination's outcome, as printed.
type pushSummary struct {
	Container     string `json:"container,omitempty"`
	Ref           string `json:"ref"`
	Digest        string `json:"digest"`
	Uploaded      int    `json:"uploaded"`
	Skipped       int    `json:"skipped"`
	UploadedBytes int64  `json:"uploadedBytes"`
}

func runPushes(c *cli.Context, env *Env, out *Output, jobs []pushJob) error {
	var summaries []pushSummary
	var failures []error
	log := newPushLog(env)
	defer log.finish()
	for _, j := range jobs {
		img, err := image.Open(c.Context, j.source)
		if err != nil {
			var nf *image.NotFoundError
			if errors.As(err, &nf) {
				return exitf(ExitUsage, "%v", err)
			}
			return exitf(ExitFindings, "opening %s: %v", j.source, err)
		}
		results, err := push.Push(c.Context, img, j.refs, push.Options{
			Jobs:      c.Int("jobs"),
			Attempts:  c.Int("attempts"),
			UserAgent: "nix2gpu/" + Version,
			Insecure:  c.Bool("insecure"),
			Progress:  log.event,
		})
		for _, r := range results {
			summaries = append(summaries, pushSummary{
				Container: j.container, Ref: r.Ref, Digest: r.Digest.String(),
				Uploaded: r.Uploaded, Skipped: r.Skipped, UploadedBytes: r.UploadedBytes,
			})
		}
		if err != nil {
			failures = append(failures, err)
		}
	}
	log.finish()
	if err := writePushSummaries(env.Stdout, out, summaries); err != nil {
		return err
	}
	if len(failures) == 0 {
		return nil
	}
	err := errors.Join(failures...)
	switch {
	case errors.Is(err, push.ErrUnreachable):
		return exitf(ExitEnv, "%v\nhint: check the registry address and that it is running; the next push sends only what is missing", err)
	case errors.Is(err, push.ErrDenied):
		return &ExitError{Code: ExitEnv, Err: err}
	}
	return &ExitError{Code: ExitFindings, Err: err}
}

// pushLog renders push events on stderr: on a terminal one status line per
// destination, redrawn as blobs finish; elsewhere one line per blob. Uploads
// run in parallel, so everything is written under a lock.
type pushLog struct {
	mu                sync.Mutex
	w                 io.Writer
	live              bool
	width             int
	ref               string // destination of the status line
	drawn             bool
	uploaded, skipped int
	bytes             int64
}

func newPushLog(env *Env) *pushLog {
	// The same rules as the build's status line.
	bp := newBuildProgress(env)
	return &pushLog{w: env.Stderr, live: bp.live, width: bp.width}
}

func (l *pushLog) event(e push.Event) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if e.Kind == push.Retrying {
		l.clear()
		fmt.Fprintf(l.w, "%s: retrying after: %v\n", e.Ref, e.Err)
	}
	if !l.live {
		switch e.Kind {
		case push.BlobUploaded:
			fmt.Fprintf(l.w, "%s: uploaded %s (%s)\n", e.Ref, shortDigest(e.Digest), build.Bytes(e.Size))
		case push.BlobSkipped:
			fmt.Fprintf(l.w, "%s: exists   %s (%s)\n", e.Ref, shortDigest(e.Digest), build.Bytes(e.Size))
		}
		return
	}
	if e.Ref != l.ref {
		l.clear()
		l.ref, l.uploaded, l.skipped, l.bytes = e.Ref, 0, 0, 0
	}
	switch e.Kind {
	case push.BlobUploaded:
		l.uploaded++
		l.bytes += e.Size
	case push.BlobSkipped:
		l.skipped++
	case push.Retrying:
		// Printed above; the status line is drawn again below it.
	default:
		return
	}
	line := fmt.Sprintf("%s: %d uploaded (%s), %d already there", l.ref, l.uploaded, build.Bytes(l.bytes), l.skipped)
	fmt.Fprintf(l.w, "\r\x1b[K%s", build.Truncate(line, l.width-1))
	l.drawn = true
}

// clear removes the status line; the caller holds the lock.
func (l *pushLog) clear() {
	if l.drawn {
		fmt.Fprint(l.w, "\r\x1b[K")
		l.drawn = false
	}
}

// finish removes the status line before results are printed.
func (l *pushLog) finish() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.clear()
}

func shortDigest(h v1.Hash) string {
	if len(h.Hex) > 12 {
		return h.Algorithm + ":" + h.Hex[:12]
	}
	return h.String()
}

func writePushSummaries(w io.Writer, out *Output, ss []pushSummary) error {
	if out.Format == diag.FormatJSON {
		if ss == nil {
			ss = []pushSummary{}
		}
		return writeJSON(w, struct {
			Pushes []pushSummary `json:"pushes"`
		}{ss})
	}
	for _, s := range ss {
		fmt.Fprintf(w, "%s@%s uploaded %d, skipped %d (%s)\n",
			s.Ref, s.Digest, s.Uploaded, s.Skipped, build.Bytes(s.UploadedBytes))
	}
	return nil
}
