package cli

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/NVIDIA/go-nvml/pkg/nvml"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/urfave/cli/v2"

	"github.com/nix2gpu/nix2gpu/build"
	"github.com/nix2gpu/nix2gpu/compiler"
	"github.com/nix2gpu/nix2gpu/diag"
	"github.com/nix2gpu/nix2gpu/emit"
	"github.com/nix2gpu/nix2gpu/image"
	"github.com/nix2gpu/nix2gpu/verify"
)

// verifyFlags are shared by `verify` and `verify image`.
func verifyFlags() []cli.Flag {
	return append(OutputFlags(),
		&cli.StringSliceFlag{Name: "host", Usage: "host profile JSON (from `verify host --format json`), or a directory of them; repeat for a fleet"},
		&cli.StringFlag{Name: "config", Usage: "compiled imageConfig JSON to compare the image with"},
		&cli.StringFlag{Name: "platform", Usage: "`OS/ARCH` to pick from a multi-platform registry image (default linux/amd64)"},
	)
}

func verifyCommand(env *Env) *cli.Command {
	return &cli.Command{
		Name:      "verify",
		Usage:     "check images and the GPU host against each other",
		ArgsUsage: "[CONTAINER...]",
		Description: `Without a subcommand, builds the named containers (all when none is
named) as 'nix2gpu build' does, runs the image checks on each, and gives
a compatibility verdict per GPU against this host or the --host profiles.
A result-<container> link in the directory is verified as it is instead
of building.

Exit codes: 0 compatible, 1 findings or incompatible, 2 usage,
3 no GPU driver or image unreachable.

Examples:
   nix2gpu verify image ./result --host hosts/a100.json --host hosts/l4.json
   nix2gpu verify host --format json > hosts/$(hostname).json
   nix2gpu verify comfyui`,
		Flags: append(verifyFlags(), buildFlags()...),
		Subcommands: []*cli.Command{
			verifyImageCommand(env),
			verifyHostCommand(env),
		},
		Action: func(c *cli.Context) error {
			names, err := argsAndTrailingFlags(c)
			if err != nil {
				return err
			}
			return runVerifyContainers(c, env, names)
		},
	}
}

func verifyImageCommand(env *Env) *cli.Command {
	return &cli.Command{
		Name:      "image",
		Usage:     "static checks of an image, and the verdict against --host profiles",
		ArgsUsage: "REF|PATH",
		Description: `REF|PATH is a registry reference, an OCI layout directory, a docker-archive
tarball, or the nix2container image JSON that 'nix build' produces (a
result link). Prefix with docker://, oci:, docker-archive: or
nix2container: to force the kind.`,
		Flags: verifyFlags(),
		Action: func(c *cli.Context) error {
			args, err := argsAndTrailingFlags(c)
			if err != nil {
				return err
			}
			if len(args) != 1 {
				return exitf(ExitUsage, "verify image takes exactly one image reference or path")
			}
			return runVerifyImages(c, env, []namedRef{{Name: args[0], Ref: args[0]}}, false)
		},
	}
}

func verifyHostCommand(env *Env) *cli.Command {
	return &cli.Command{
		Name:  "host",
		Usage: "driver, CUDA driver version, GPUs and the NVIDIA container runtime of this host",
		Description: `Prints a host profile. With --format json, the output is the file
--host reads: record one per production host type.
Exits 3 when no NVIDIA driver can be used.`,
		Flags: OutputFlags(),
		Action: func(c *cli.Context) error {
			out, err := outputOf(c, env)
			if err != nil {
				return err
			}
			h, err := probeHost(env)
			if err != nil {
				return exitf(ExitEnv, "%v", err)
			}
			if out.Format == diag.FormatJSON {
				return writeJSON(env.Stdout, h)
			}
			writeHostText(env.Stdout, h)
			return nil
		},
	}
}

// probeHost reads this host through NVML. NIX2GPU_NVML_LIBRARY points at
// a specific libnvidia-ml.so (tests use a missing path to get the no-driver
// answer on any machine).
func probeHost(env *Env) (*verify.Host, error) {
	var opts []nvml.LibraryOption
	if p := env.Getenv("NIX2GPU_NVML_LIBRARY"); p != "" {
		opts = append(opts, nvml.WithLibraryPath(p))
	}
	h, err := verify.ProbeGPUs(nvml.New(opts...))
	if err != nil {
		if verify.IsNoDriver(err) {
			return nil, fmt.Errorf("%v; `verify host` needs the NVIDIA driver; on a machine without one, check images against a recorded profile with --host FILE", err)
		}
		return nil, err
	}
	h.Name, _ = os.Hostname()
	h.Runtime = verify.DefaultRuntimeProbe().Probe()
	return h, nil
}

func writeHostText(w io.Writer, h *verify.Host) {
	fmt.Fprintf(w, "driver %s, CUDA %s\n", h.DriverVersion, h.CUDAVersion)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "GPU\tNAME\tBRAND\tCC\tMEMORY\tUUID")
	for _, g := range h.GPUs {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%d MiB\t%s\n", g.Index, g.Name, g.Brand, g.ComputeCapability, g.MemoryMiB, g.UUID)
	}
	tw.Flush()
	if len(h.GPUs) == 0 {
		fmt.Fprintln(w, "no GPU visible")
	}
	if r := h.Runtime; r != nil {
		fmt.Fprintf(w, "nvidia-container-runtime: %s\n", orNone(r.ContainerRuntime))
		fmt.Fprintf(w, "nvidia-ctk: %s\n", orNone(r.CTK))
		fmt.Fprintf(w, "CDI specs: %s\n", orNone(strings.Join(r.CDISpecs, ", ")))
		fmt.Fprintf(w, "docker runtimes: %s\n", orNone(strings.Join(r.DockerRuntimes, ", ")))
	}
}

func orNone(s string) string {
	if s == "" {
		return "not found"
	}
	return s
}

// namedRef is one image to verify. Compiled, when set, is the config the
// project compiled for it, compared with the image's.
type namedRef struct {
	Name, Ref string
	Compiled  *verify.CompiledConfig
}

// runVerifyContainers verifies each container's image: a result-<container>
// link in the directory is used as it is; otherwise the project is
// compiled and built (as `nix2gpu build` does) and the built image paths
// are verified. The verdict is against this host's GPUs or the --host
// profiles.
func runVerifyContainers(c *cli.Context, env *Env, names []string) error {
	var refs []namedRef
	var missing []string
	if len(names) == 0 {
		matches, _ := filepath.Glob(filepath.Join(env.Dir, build.OutLink("*")))
		sort.Strings(matches)
		for _, m := range matches {
			refs = append(refs, namedRef{Name: strings.TrimPrefix(filepath.Base(m), build.OutLink("")), Ref: m})
		}
	}
	for _, n := range names {
		p := filepath.Join(env.Dir, build.OutLink(n))
		if _, err := os.Stat(p); err != nil {
			missing = append(missing, n)
			continue
		}
		refs = append(refs, namedRef{Name: n, Ref: p})
	}
	if len(missing) > 0 || len(refs) == 0 {
		cfgPath, display := configPath(env, c.String("file"))
		if _, err := os.Stat(cfgPath); err != nil {
			if len(missing) > 0 {
				return exitf(ExitEnv, "no built image for %s (looked for result-%s) and no %s to build it from: run `nix2gpu build %s` in the project, or use `nix2gpu verify image REF`",
					strings.Join(missing, ", "), strings.Join(missing, ", result-"), display, strings.Join(missing, " "))
			}
			return exitf(ExitEnv, "no built images found (no result-<container> links) and no %s to build from: run `nix2gpu verify` in the project directory, or use `nix2gpu verify image REF`", display)
		}
		built, err := buildForVerify(c, env, missing)
		if err != nil {
			return err
		}
		refs = append(refs, built...)
	}
	return runVerifyImages(c, env, refs, true)
}

// buildForVerify compiles the project and builds the named containers (all
// when names is empty), returning the image paths nix printed.
func buildForVerify(c *cli.Context, env *Env, names []string) ([]namedRef, error) {
	out, err := outputOf(c, env)
	if err != nil {
		return nil, err
	}
	proj, dir, sel, err := compileAndSelect(c, env, out, names)
	if err != nil {
		return nil, err
	}
	results, err := buildSelected(c, env, dir, sel)
	if err != nil {
		return nil, err
	}
	byName := containersByName(proj)
	refs := make([]namedRef, 0, len(results))
	for _, r := range results {
		ref := namedRef{Name: r.Container, Ref: r.Path}
		if ct := byName[r.Container]; ct != nil {
			ref.Compiled = compiledConfigOf(ct)
		}
		refs = append(refs, ref)
	}
	return refs, nil
}

// compiledConfigOf is the OCI config the project compiles a container to,
// the same data as the flake's imageConfig output.
func compiledConfigOf(ct *compiler.Container) *verify.CompiledConfig {
	cfg := emit.ConfigOf(ct)
	cc := &verify.CompiledConfig{
		Entrypoint:   cfg.Entrypoint,
		Cmd:          cfg.Cmd,
		Env:          cfg.Env,
		ExposedPorts: cfg.ExposedPorts,
		User:         cfg.User,
		WorkingDir:   cfg.WorkingDir,
		Labels:       map[string]string{},
	}
	for _, l := range cfg.Labels {
		cc.Labels[l.Name] = l.Value
	}
	return cc
}

// verifyResult is one image's report and its verdicts, for output.
type verifyResult struct {
	Name     string           `json:"name"`
	Report   *verify.Report   `json:"report"`
	Verdicts []verify.Verdict `json:"verdicts,omitempty"`
}

func runVerifyImages(c *cli.Context, env *Env, refs []namedRef, liveHost bool) error {
	out, err := outputOf(c, env)
	if err != nil {
		return err
	}
	var hosts []*verify.Host
	for _, f := range c.StringSlice("host") {
		files, err := hostFiles(resolvePath(env, f))
		if err != nil {
			return exitf(ExitUsage, "%v", err)
		}
		for _, file := range files {
			h, err := verify.ReadHost(file)
			if err != nil {
				return exitf(ExitUsage, "%v", err)
			}
			hosts = append(hosts, h)
		}
	}
	var hostErr error
	if len(hosts) == 0 && liveHost {
		h, err := probeHost(env)
		if err != nil {
			hostErr = err
		} else {
			hosts = append(hosts, h)
		}
	}
	opts := verify.Options{}
	if f := c.String("config"); f != "" {
		cc, err := verify.ReadCompiledConfig(resolvePath(env, f))
		if err != nil {
			return exitf(ExitUsage, "%v", err)
		}
		opts.Compiled = cc
	}
	var ropts []image.Option
	if p := c.String("platform"); p != "" {
		plat, err := v1.ParsePlatform(p)
		if err != nil {
			return exitf(ExitUsage, "--platform %q: %v", p, err)
		}
		ropts = append(ropts, image.WithRemoteOptions(remote.WithPlatform(*plat)))
	}
	var results []verifyResult
	for _, r := range refs {
		ref := resolveRef(env, r.Ref)
		kind, target, err := image.Detect(ref)
		if err != nil {
			return exitf(ExitEnv, "cannot open image %s: %v", r.Ref, err)
		}
		img, err := image.OpenKind(c.Context, kind, target, ropts...)
		if err != nil {
			return exitf(ExitEnv, "cannot open image %s: %v", r.Ref, err)
		}
		iopts := opts
		if iopts.Compiled == nil {
			iopts.Compiled = r.Compiled
		}
		// Docker archives label plain tar layers as gzip; read them as
		// they are stored.
		iopts.PlainLayers = kind == image.KindDockerArchive
		rep, err := verify.Image(c.Context, img, iopts)
		if err != nil {
			return exitf(ExitEnv, "cannot read image %s: %v", r.Ref, err)
		}
		rep.Ref = r.Ref
		res := verifyResult{Name: r.Name, Report: rep}
		for _, h := range hosts {
			res.Verdicts = append(res.Verdicts, verify.Evaluate(rep.Facts, h))
		}
		results = append(results, res)
	}
	if out.Format == diag.FormatJSON {
		if err := writeJSON(env.Stdout, results); err != nil {
			return err
		}
	} else {
		for i, r := range results {
			if i > 0 {
				fmt.Fprintln(env.Stdout)
			}
			writeVerifyText(env.Stdout, r)
		}
		writeVerdictTable(env.Stdout, results)
		if out.Format == diag.FormatGitHub {
			for _, r := range results {
				writeVerifyGitHub(env.Stdout, r)
			}
		}
	}
	failed := false
	for _, r := range results {
		if r.Report.Findings.Worst() == verify.Error {
			failed = true
		}
		for _, v := range r.Verdicts {
			if !v.Compatible {
				failed = true
			}
		}
	}
	if hostErr != nil {
		return exitf(ExitEnv, "no verdict: %v", hostErr)
	}
	if failed {
		return silentExit(ExitFindings)
	}
	return nil
}

// hostFiles expands a --host argument: a profile file, or a directory of
// them (every *.json in it, sorted), for a whole fleet.
func hostFiles(p string) ([]string, error) {
	fi, err := os.Stat(p)
	if err != nil || !fi.IsDir() {
		return []string{p}, nil
	}
	files, err := filepath.Glob(filepath.Join(p, "*.json"))
	if err != nil {
		return nil, err
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("host profile directory %s holds no *.json files", p)
	}
	sort.Strings(files)
	return files, nil
}

func resolvePath(env *Env, p string) string {
	if filepath.IsAbs(p) || env.Dir == "" {
		return p
	}
	return filepath.Join(env.Dir, p)
}

// resolveRef makes a relative local path absolute against the command's
// directory; registry references pass through.
func resolveRef(env *Env, ref string) string {
	if env.Dir == "" || filepath.IsAbs(ref) || strings.Contains(ref, "://") {
		return ref
	}
	if _, err := os.Stat(filepath.Join(env.Dir, ref)); err == nil {
		return filepath.Join(env.Dir, ref)
	}
	return ref
}

func writeVerifyText(w io.Writer, r verifyResult) {
	rep := r.Report
	fmt.Fprintf(w, "image %s\n", rep.Ref)
	f := rep.Facts
	cudaV := f.CUDAVersion
	if cudaV == "" {
		cudaV = "none"
	}
	caps := make([]string, len(f.Capabilities))
	for i, c := range f.Capabilities {
		caps[i] = c.Text
		if c.PTX {
			caps[i] += "+PTX"
		}
	}
	var size int64
	for _, l := range rep.Layers {
		size += l.Read
	}
	capText := strings.Join(caps, ",")
	if capText == "" {
		capText = "unknown"
	}
	fmt.Fprintf(w, "  CUDA %s, capabilities %s, %s, %d bytes\n", cudaV, capText, plural(len(rep.Layers), "layer"), size)
	writeFindings(w, rep.Findings, "  ")
	if len(rep.Findings) == 0 {
		fmt.Fprintln(w, "  ok: no findings")
	}
	for _, v := range r.Verdicts {
		status := "compatible"
		if !v.Compatible {
			status = "INCOMPATIBLE"
		}
		fmt.Fprintf(w, "host %s (driver %s, CUDA %s): %s\n", v.Host, v.Driver, v.CUDA, status)
		writeFindings(w, v.Findings, "  ")
	}
}

func writeFindings(w io.Writer, fs verify.Findings, indent string) {
	sorted := append(verify.Findings(nil), fs...)
	sort.SliceStable(sorted, func(i, j int) bool { return sorted[i].Severity > sorted[j].Severity })
	for _, f := range sorted {
		fmt.Fprintf(w, "%s%-7s %-24s %s\n", indent, f.Severity, f.Check, f.Message)
		if f.Hint != "" {
			fmt.Fprintf(w, "%s        hint: %s\n", indent, f.Hint)
		}
	}
}

// writeVerifyGitHub prints warnings and errors as GitHub Actions workflow
// commands, so they show up as annotations on the run.
func writeVerifyGitHub(w io.Writer, r verifyResult) {
	emit := func(f verify.Finding, where string) {
		level := "warning"
		switch f.Severity {
		case verify.Info:
			return
		case verify.Error:
			level = "error"
		}
		msg := where + ": " + f.Message
		if f.Hint != "" {
			msg += " (hint: " + f.Hint + ")"
		}
		fmt.Fprintf(w, "::%s title=%s::%s\n", level, diag.GitHubProperty("nix2gpu verify "+f.Check), diag.GitHubData(msg))
	}
	for _, f := range r.Report.Findings {
		emit(f, r.Report.Ref)
	}
	for _, v := range r.Verdicts {
		for _, f := range v.Findings {
			emit(f, r.Report.Ref+" on "+v.Host)
		}
	}
}

// writeVerdictTable ends the text report with one line per image, host and
// group of identical GPUs.
func writeVerdictTable(w io.Writer, results []verifyResult) {
	rows := 0
	for _, r := range results {
		rows += len(r.Verdicts)
	}
	if rows == 0 {
		return
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "IMAGE\tHOST\tDRIVER\tCUDA\tGPUS\tCC\tVERDICT")
	for _, r := range results {
		for _, v := range r.Verdicts {
			if len(v.GPUs) == 0 {
				status := "ok"
				if !v.Compatible {
					status = "incompatible"
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t-\t-\t%s\n", r.Name, v.Host, v.Driver, v.CUDA, status)
				continue
			}
			for _, g := range v.GPUs {
				status := g.Status
				if len(g.Checks) > 0 {
					short := make([]string, len(g.Checks))
					for i, c := range g.Checks {
						short[i] = strings.TrimPrefix(c, "verdict.")
					}
					status += " (" + strings.Join(short, ", ") + ")"
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s %s\t%s\t%s\n", r.Name, v.Host, v.Driver, v.CUDA, indexList(g.Indices), g.Name, g.ComputeCapability, status)
			}
		}
	}
	tw.Flush()
}

// indexList renders GPU indices compactly: "0", "0-7", "0,2".
func indexList(idx []int) string {
	if len(idx) == 0 {
		return "-"
	}
	return verify.IndexList(idx, ",")
}
