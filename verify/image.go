package verify

import (
	"archive/tar"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"path"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/nix2gpu/nix2gpu/cuda"
)

// Check ids, stable for JSON consumers and tests.
const (
	CheckConfig        = "config"
	CheckEntrypoint    = "entrypoint"
	CheckVisible       = "env.visible-devices"
	CheckCapabilities  = "env.driver-capabilities"
	CheckRequire       = "env.require"
	CheckLDPath        = "env.ld-library-path"
	CheckLdconfig      = "ldconfig"
	CheckLabels        = "labels"
	CheckPorts         = "ports"
	CheckLayers        = "layers"
	CheckDigest        = "layers.digest"
	CheckCUDARuntime   = "cuda.runtime"
	CheckDriverLibs    = "driver-libraries"
	CheckCompiled      = "config.compiled"
	CheckVerdictReq    = "verdict.require"
	CheckVerdictDriver = "verdict.driver"
	CheckVerdictArch   = "verdict.arch"
	CheckVerdictGPU    = "verdict.gpus"
	CheckVerdictRT     = "verdict.runtime"
)

// InjectionDirs are where the NVIDIA runtime puts the host's driver
// libraries inside a container, per architecture. The legacy hook
// (libnvidia-container) uses the container's own library directory, chosen
// by distribution convention (Debian multiarch or /usr/lib64); CDI specs
// from nvidia-ctk mount them at the host's paths, which follow the same
// two conventions.
var InjectionDirs = map[string][]string{
	"amd64": {"/usr/lib/x86_64-linux-gnu", "/usr/lib64"},
	"arm64": {"/usr/lib/aarch64-linux-gnu", "/usr/lib64"},
}

// driverLibPrefixes are the host libraries the runtime injects (NVIDIA
// container toolkit / libnvidia-container library lists, grouped by driver
// capability). A copy inside the image shadows or conflicts with the
// injected one.
var driverLibPrefixes = []string{
	// utility
	"libnvidia-ml.so", "libnvidia-cfg.so", "libnvidia-nscq.so",
	// compute
	"libcuda.so", "libcudadebugger.so", "libnvidia-opencl.so", "libnvidia-gpucomp.so",
	"libnvidia-ptxjitcompiler.so", "libnvidia-fatbinaryloader.so", "libnvidia-allocator.so",
	"libnvidia-compiler.so", "libnvidia-pkcs11.so", "libnvidia-pkcs11-openssl3.so", "libnvidia-nvvm.so",
	// video
	"libvdpau_nvidia.so", "libnvidia-encode.so", "libnvidia-opticalflow.so", "libnvcuvid.so",
	// graphics
	"libnvidia-eglcore.so", "libnvidia-glcore.so", "libnvidia-tls.so", "libnvidia-glsi.so",
	"libnvidia-fbc.so", "libnvidia-ifr.so", "libnvidia-rtcore.so", "libnvoptix.so",
	"libGLX_nvidia.so", "libEGL_nvidia.so", "libGLESv2_nvidia.so", "libGLESv1_CM_nvidia.so",
	"libnvidia-glvkspirv.so",
	// ngx
	"libnvidia-ngx.so",
}

// driverBinaries are the host tools the runtime injects.
var driverBinaries = []string{
	"nvidia-smi", "nvidia-debugdump", "nvidia-persistenced",
	"nvidia-cuda-mps-control", "nvidia-cuda-mps-server",
}

// Options tunes the image checks.
type Options struct {
	// Compiled is the imageConfig the project compiled to; when set, the
	// image's config is compared with it.
	Compiled *CompiledConfig
	// MaxLayers is where the layer count becomes an error (default 125:
	// Docker refuses deeper images with "max depth exceeded").
	MaxLayers int
	// LargeLayer is the size in bytes above which a layer is reported
	// (default 8 GiB).
	LargeLayer int64
	// PlainLayers says the source stores layers as plain tar whatever
	// their media type says (docker archives): they are then verified
	// against their diff IDs without being recompressed.
	PlainLayers bool
}

// Capability is one compute capability an image was compiled for.
type Capability struct {
	Cap cuda.Capability `json:"-"`
	// Text is the capability as written, "8.9".
	Text string `json:"capability"`
	// PTX is true when PTX for it is embedded (JIT-compilable for newer GPUs).
	PTX bool `json:"ptx"`
}

// Facts are what the checks learned about an image; the verdict reads them.
type Facts struct {
	Architecture string            `json:"architecture"`
	Env          map[string]string `json:"env"`
	Labels       map[string]string `json:"labels,omitempty"`
	Entrypoint   []string          `json:"entrypoint,omitempty"`
	Cmd          []string          `json:"cmd,omitempty"`
	// CUDAVersion is the CUDA toolkit version ("12.8") from CUDA_VERSION,
	// the nix2gpu label, or NVIDIA_REQUIRE_CUDA's cuda>= term; empty for
	// an image without CUDA.
	CUDAVersion  string       `json:"cudaVersion,omitempty"`
	Capabilities []Capability `json:"capabilities,omitempty"`
	// CUDARuntime lists the libcudart files found.
	CUDARuntime []string `json:"cudaRuntime,omitempty"`
	// CompatLibs lists cuda-compat driver libraries the image carries on
	// purpose (forward compatibility).
	CompatLibs []string `json:"compatLibs,omitempty"`
}

// Report is the result of checking one image.
type Report struct {
	Ref      string      `json:"ref"`
	Digest   string      `json:"digest,omitempty"`
	Facts    Facts       `json:"facts"`
	Layers   []LayerInfo `json:"layers"`
	Findings Findings    `json:"findings"`
}

// Image runs the static checks on img. Errors are for an image that cannot
// be read at all; problems in the image are findings.
func Image(ctx context.Context, img v1.Image, opts Options) (*Report, error) {
	if opts.MaxLayers == 0 {
		opts.MaxLayers = 125
	}
	if opts.LargeLayer == 0 {
		opts.LargeLayer = 8 << 30
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, fmt.Errorf("reading image config: %w", err)
	}
	r := &Report{Findings: Findings{}}
	if d, err := img.Digest(); err == nil {
		r.Digest = d.String()
	}
	fsys, layers, err := scanLayers(ctx, img, opts.PlainLayers)
	if err != nil {
		return nil, err
	}
	r.Layers = layers
	c := &checker{cfg: cf, fs: fsys, opts: opts, r: r}
	c.facts()
	c.checkConfig()
	c.checkEntrypoint()
	if c.isGPUImage() {
		c.checkNVIDIAEnv()
		c.checkLoader()
	} else {
		c.add(infof(CheckConfig, "", "no CUDA version and no NVIDIA_* variables: a CPU-only image, GPU checks skipped"))
	}
	c.checkLabels()
	c.checkPorts()
	c.checkLayers()
	c.checkLibraries()
	if opts.Compiled != nil {
		c.checkCompiled(opts.Compiled)
	}
	return r, nil
}

type checker struct {
	cfg  *v1.ConfigFile
	fs   *imageFS
	opts Options
	r    *Report
}

func (c *checker) add(f Finding) { c.r.Findings = append(c.r.Findings, f) }

func envMap(list []string) map[string]string {
	m := make(map[string]string, len(list))
	for _, kv := range list {
		k, v, _ := strings.Cut(kv, "=")
		m[k] = v
	}
	return m
}

var capEntry = regexp.MustCompile(`^(?:sm_|compute_)?(\d+)\.?(\d)([a-z]?)(\+ptx)?$`)

// ParseCapabilities reads a capability list as nix2gpu labels write it
// ("8.9,9.0+PTX"); nixpkgs' sm_89/compute_90 spellings are accepted too,
// compute_XY meaning PTX.
func ParseCapabilities(s string) ([]Capability, error) {
	var out []Capability
	for _, f := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ';' || r == ' ' }) {
		low := strings.ToLower(f)
		m := capEntry.FindStringSubmatch(low)
		if m == nil {
			return nil, fmt.Errorf("%q is not a compute capability like 8.9 or 9.0+PTX", f)
		}
		maj, _ := strconv.Atoi(m[1])
		min, _ := strconv.Atoi(m[2])
		out = append(out, Capability{
			Cap:  cuda.Capability{Major: maj, Minor: min},
			Text: fmt.Sprintf("%d.%d%s", maj, min, m[3]),
			PTX:  m[4] != "" || strings.HasPrefix(low, "compute_"),
		})
	}
	return out, nil
}

func (c *checker) facts() {
	f := &c.r.Facts
	f.Architecture = c.cfg.Architecture
	f.Env = envMap(c.cfg.Config.Env)
	f.Labels = c.cfg.Config.Labels
	f.Entrypoint = c.cfg.Config.Entrypoint
	f.Cmd = c.cfg.Config.Cmd
	if v := f.Env["CUDA_VERSION"]; v != "" {
		if mm, ok := majorMinorString(v); ok {
			f.CUDAVersion = mm
		}
	}
	if f.CUDAVersion == "" {
		if v := f.Labels[cuda.LabelVersion]; v != "" {
			if mm, ok := majorMinorString(v + ".0"); ok {
				f.CUDAVersion = mm
			}
		}
	}
	if f.CUDAVersion == "" {
		if r, err := ParseRequirement("NVIDIA_REQUIRE_CUDA", f.Env["NVIDIA_REQUIRE_CUDA"]); err == nil && len(r.Alternatives) > 0 {
			for _, t := range r.Alternatives[0] {
				if t.Key == "cuda" && t.Op == OpGe {
					f.CUDAVersion = t.Value
				}
			}
		}
	}
	if v, ok := f.Labels[cuda.LabelCapabilities]; ok {
		caps, err := ParseCapabilities(v)
		if err != nil {
			c.add(errorf(CheckLabels, "write the label as a comma-separated list such as \"8.9,9.0\"",
				"label %s: %v", cuda.LabelCapabilities, err))
		}
		if f.Labels[cuda.LabelForwardCompat] == "true" && len(caps) > 0 {
			hi := 0
			for i := range caps {
				if caps[hi].Cap.Less(caps[i].Cap) {
					hi = i
				}
			}
			caps[hi].PTX = true
		}
		f.Capabilities = caps
	}
}

// isNixImage reports whether the image's programs come from a Nix store.
func (c *checker) isNixImage() bool {
	return c.fs.hasChildren("nix/store")
}

// isGPUImage tells GPU images from CPU-only ones (`cuda: false`).
func (c *checker) isGPUImage() bool { return c.r.Facts.usesGPU() }

func (c *checker) checkConfig() {
	if len(c.cfg.Config.Entrypoint) == 0 && len(c.cfg.Config.Cmd) == 0 {
		c.add(errorf(CheckConfig, "set `entrypoint` in nix2gpu.yaml, or leave it unset to get the nix2gpu startup script",
			"the image has neither an Entrypoint nor a Cmd: a container started from it has nothing to run"))
	}
	if c.cfg.OS != "" && c.cfg.OS != "linux" {
		c.add(errorf(CheckConfig, "", "the image is for %q; GPU containers run on linux", c.cfg.OS))
	}
}

// checkEntrypoint finds the program the container would exec, following
// symlinks inside the image (Nix images are mostly links into /nix/store).
func (c *checker) checkEntrypoint() {
	argv := append(append([]string{}, c.cfg.Config.Entrypoint...), c.cfg.Config.Cmd...)
	if len(argv) == 0 {
		return
	}
	prog := argv[0]
	what := "entrypoint"
	if len(c.cfg.Config.Entrypoint) == 0 {
		what = "cmd"
	}
	candidates := []string{prog}
	if !strings.Contains(prog, "/") {
		candidates = nil
		pathVar := c.r.Facts.Env["PATH"]
		if pathVar == "" {
			pathVar = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
		}
		for _, d := range strings.Split(pathVar, ":") {
			if d != "" {
				candidates = append(candidates, path.Join(d, prog))
			}
		}
	} else if !strings.HasPrefix(prog, "/") {
		wd := c.cfg.Config.WorkingDir
		if wd == "" {
			wd = "/"
		}
		candidates = []string{path.Join(wd, prog)}
	}
	var lastErr error
	for _, cand := range candidates {
		final, e, err := c.fs.resolve(cand)
		if err != nil || e == nil {
			lastErr = err
			continue
		}
		if e.typ != tar.TypeReg && e.typ != tar.TypeLink {
			c.add(errorf(CheckEntrypoint, "point the entrypoint at an executable file",
				"the %s %q resolves to /%s, which is not a regular file", what, prog, final))
			return
		}
		if e.mode&0o111 == 0 {
			c.add(errorf(CheckEntrypoint, "make the file executable (mode 0755) when it is added to the image",
				"the %s %q resolves to /%s, which is not executable (mode %04o)", what, prog, final, e.mode&0o7777))
			return
		}
		return
	}
	msg := fmt.Sprintf("the %s %q does not exist in the image", what, prog)
	if len(candidates) > 1 {
		msg = fmt.Sprintf("the %s %q is not found on the image's PATH", what, prog)
	} else if lastErr != nil {
		msg = fmt.Sprintf("the %s %q cannot be resolved in the image: %v", what, prog, lastErr)
	}
	c.add(errorf(CheckEntrypoint, "add the package that provides it to `packages`, or fix `entrypoint`; the container would fail with \"no such file or directory\"", "%s", msg))
}

var (
	visibleToken = regexp.MustCompile(`^(\d+|GPU-[0-9a-fA-F-]+|MIG-[0-9a-zA-Z/-]+|\d+:\d+)$`)
	knownCaps    = map[string]bool{"compute": true, "compat32": true, "graphics": true, "utility": true, "video": true, "display": true, "ngx": true, "all": true}
)

func (c *checker) checkNVIDIAEnv() {
	env := c.r.Facts.Env
	isCUDA := c.r.Facts.CUDAVersion != ""
	if v, ok := env["NVIDIA_VISIBLE_DEVICES"]; !ok {
		if IsLegacyImage(env) {
			c.add(infof(CheckVisible, "set NVIDIA_VISIBLE_DEVICES=all to say so explicitly",
				"NVIDIA_VISIBLE_DEVICES is not set; with CUDA_VERSION and no NVIDIA_REQUIRE_CUDA the NVIDIA runtime treats it as all"))
		} else {
			c.add(warnf(CheckVisible, "set NVIDIA_VISIBLE_DEVICES=all (nix2gpu images do by default)",
				"NVIDIA_VISIBLE_DEVICES is not set: the NVIDIA runtime exposes no GPU unless the caller names one (--gpus, a device plugin, a CDI device)"))
		}
	} else {
		switch v {
		case "all", "none", "void", "":
			if v == "" || v == "void" {
				c.add(warnf(CheckVisible, "set NVIDIA_VISIBLE_DEVICES=all", "NVIDIA_VISIBLE_DEVICES=%q: the NVIDIA runtime treats the container as a normal, GPU-less one", v))
			}
		default:
			for _, t := range strings.Split(v, ",") {
				if !visibleToken.MatchString(strings.TrimSpace(t)) {
					c.add(errorf(CheckVisible, "use all, none, void, or a comma-separated list of indices, GPU-/MIG- UUIDs",
						"NVIDIA_VISIBLE_DEVICES has an invalid entry %q", t))
				}
			}
		}
	}
	if v, ok := env["NVIDIA_DRIVER_CAPABILITIES"]; !ok {
		c.add(warnf(CheckCapabilities, "set NVIDIA_DRIVER_CAPABILITIES=compute,utility",
			"NVIDIA_DRIVER_CAPABILITIES is not set: the runtime falls back to its default (utility,compute)"))
	} else {
		hasCompute := false
		for _, t := range strings.Split(v, ",") {
			t = strings.TrimSpace(t)
			if !knownCaps[t] {
				c.add(errorf(CheckCapabilities, "valid capabilities: compute, compat32, graphics, utility, video, display, ngx, all",
					"NVIDIA_DRIVER_CAPABILITIES has an unknown capability %q", t))
			}
			if t == "compute" || t == "all" {
				hasCompute = true
			}
		}
		if isCUDA && !hasCompute {
			c.add(errorf(CheckCapabilities, "add compute to NVIDIA_DRIVER_CAPABILITIES",
				"NVIDIA_DRIVER_CAPABILITIES=%q lacks compute: libcuda.so is not injected and CUDA cannot start", v))
		}
	}
	_, disabled, errs := Requirements(env)
	for _, err := range errs {
		msg := "%v: the NVIDIA runtime fails with \"invalid expression\" on any host where evaluation reaches it"
		var lv *LegacyVersionError
		if errors.As(err, &lv) {
			msg = "%v: the NVIDIA runtime refuses to start containers from this image"
		}
		c.add(errorf(CheckRequire, "terms are KEY OP VALUE with keys cuda, driver, arch, brand; spaces separate alternatives, commas join terms",
			msg, err))
	}
	if disabled {
		c.add(infof(CheckRequire, "", "NVIDIA_DISABLE_REQUIRE is set: the runtime skips the NVIDIA_REQUIRE_* checks"))
	}
	if isCUDA {
		if _, ok := env["NVIDIA_REQUIRE_CUDA"]; !ok {
			if _, ok := env["CUDA_VERSION"]; !ok {
				c.add(warnf(CheckRequire, fmt.Sprintf("set NVIDIA_REQUIRE_CUDA=cuda>=%s", c.r.Facts.CUDAVersion),
					"the image uses CUDA %s but neither NVIDIA_REQUIRE_CUDA nor CUDA_VERSION states it: a too-old driver is only noticed when the workload crashes", c.r.Facts.CUDAVersion))
			}
		}
	}
}

func (c *checker) injectionDirs() []string {
	if d, ok := InjectionDirs[c.cfg.Architecture]; ok {
		return d
	}
	return InjectionDirs["amd64"]
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ":") {
		if p != "" {
			out = append(out, path.Clean(p))
		}
	}
	return out
}

// readConf returns the content of a loader configuration file, following
// symlinks inside the image.
func (c *checker) readConf(p string) ([]byte, bool) {
	final, e, err := c.fs.resolve(p)
	if err != nil || e == nil || (e.typ != tar.TypeReg && e.typ != tar.TypeLink) {
		return nil, false
	}
	b, ok := c.fs.content[final]
	return b, ok
}

// ldConfDirs lists directories named by /etc/ld.so.conf and the files it
// includes from /etc/ld.so.conf.d.
func (c *checker) ldConfDirs() ([]string, bool) {
	main, ok := c.readConf("etc/ld.so.conf")
	if !ok {
		return nil, false
	}
	var dirs []string
	parse := func(b []byte) []string {
		var incl []string
		for _, line := range strings.Split(string(b), "\n") {
			line = strings.TrimSpace(line)
			if i := strings.IndexByte(line, '#'); i >= 0 {
				line = strings.TrimSpace(line[:i])
			}
			if line == "" {
				continue
			}
			if strings.HasPrefix(line, "include ") {
				incl = append(incl, strings.TrimSpace(strings.TrimPrefix(line, "include ")))
				continue
			}
			dirs = append(dirs, path.Clean(line))
		}
		return incl
	}
	for _, pattern := range parse(main) {
		// The included directory may itself be a link.
		pat := cleanPath(pattern)
		if dir, base := path.Split(pat); dir != "" {
			if final, e, err := c.fs.resolve(dir); err == nil && e != nil {
				pat = path.Join(final, base)
			} else if t := c.fs.linkTarget(dir); t != "" {
				pat = path.Join(cleanPath(t), base)
			}
		}
		var matched []string
		for p := range c.fs.entries {
			if ok, _ := path.Match(pat, p); ok && p != "etc/ld.so.conf" {
				matched = append(matched, p)
			}
		}
		sort.Strings(matched)
		for _, p := range matched {
			if b, ok := c.readConf(p); ok {
				parse(b)
			}
		}
	}
	return dirs, true
}

// checkLoader checks the dynamic loader can find injected libraries.
//
// Nix images need LD_LIBRARY_PATH: nixpkgs patches glibc so its ld.so
// never reads the system-wide /etc/ld.so.cache (glibc's
// dont-use-system-ld-so-cache patch), so the runtime's ldconfig step
// (legacy hook, or CDI's update-ldcache hook) cannot make libcuda.so.1
// visible to Nix-built programs (nixpkgs #173953, container toolkit #510).
// nixpkgs' CUDA libraries also look in /run/opengl-driver/lib (their
// RUNPATH), so a link from there to an injection directory counts too.
// For other images /etc/ld.so.conf is enough.
func (c *checker) checkLoader() {
	inj := c.injectionDirs()
	ld := splitList(c.r.Facts.Env["LD_LIBRARY_PATH"])
	if t := c.fs.linkTarget("run/opengl-driver/lib"); t != "" {
		ld = append(ld, t)
	}
	conf, hasConf := c.ldConfDirs()
	nix := c.isNixImage()
	var missing []string
	anyCovered, confOnly := false, false
	for _, d := range inj {
		switch {
		case slices.Contains(ld, d):
			anyCovered = true
		case slices.Contains(conf, d) && !nix:
			anyCovered = true
		default:
			if slices.Contains(conf, d) {
				confOnly = true
			}
			missing = append(missing, d)
		}
	}
	isCUDA := c.r.Facts.CUDAVersion != ""
	why := ""
	if nix && confOnly {
		why = " (/etc/ld.so.conf lists it, but Nix's glibc never reads the system ld.so.cache)"
	}
	switch {
	case !anyCovered && isCUDA:
		c.add(errorf(CheckLDPath, "add "+strings.Join(inj, ":")+" to LD_LIBRARY_PATH (nix2gpu images do by default)",
			"LD_LIBRARY_PATH does not cover %s, where the NVIDIA runtime injects libcuda.so.1%s: CUDA programs will fail to find the driver",
			strings.Join(inj, " or "), why))
	case len(missing) > 0 && isCUDA:
		c.add(warnf(CheckLDPath, "add "+strings.Join(missing, ":")+" to LD_LIBRARY_PATH",
			"LD_LIBRARY_PATH does not cover %s%s: hosts whose driver lives there (CDI mounts host paths) will not be found", strings.Join(missing, ", "), why))
	}
	ldconfig := ""
	for _, p := range []string{"sbin/ldconfig", "usr/sbin/ldconfig", "bin/ldconfig", "usr/bin/ldconfig"} {
		if _, e, err := c.fs.resolve(p); err == nil && e != nil {
			ldconfig = "/" + p
			break
		}
	}
	if ldconfig == "" {
		c.add(warnf(CheckLdconfig, "add glibc's ldconfig (the `glibc.bin` package) at /sbin/ldconfig",
			"the image has no ldconfig: the NVIDIA runtime's ldconfig hook (CDI update-ldcache) fails or does nothing, so injected libraries are only found through LD_LIBRARY_PATH"))
	}
	if !hasConf {
		c.add(warnf(CheckLdconfig, "write /etc/ld.so.conf listing "+strings.Join(inj, " and "),
			"the image has no /etc/ld.so.conf: after the runtime runs ldconfig, the cache still does not list the injected driver libraries"))
	} else if !slices.Contains(conf, inj[0]) && !slices.Contains(conf, inj[len(inj)-1]) {
		c.add(warnf(CheckLdconfig, "list "+strings.Join(inj, " and ")+" in /etc/ld.so.conf",
			"/etc/ld.so.conf does not list the driver injection directories"))
	}
}

func (c *checker) checkLabels() {
	f := c.r.Facts
	if f.CUDAVersion == "" {
		return
	}
	if _, ok := f.Labels[cuda.LabelVersion]; !ok {
		c.add(infof(CheckLabels, "nix2gpu images carry it; other builders can add it",
			"label %s is not set", cuda.LabelVersion))
	}
	if _, ok := f.Labels[cuda.LabelCapabilities]; !ok {
		c.add(warnf(CheckLabels, fmt.Sprintf("add label %s, e.g. \"8.9,9.0\" (nix2gpu sets it from cuda.capabilities)", cuda.LabelCapabilities),
			"the image does not record which compute capabilities it was compiled for: the GPU architecture check cannot run"))
	}
}

func (c *checker) checkPorts() {
	for _, k := range slices.Sorted(maps.Keys(c.cfg.Config.ExposedPorts)) {
		port, proto, ok := strings.Cut(k, "/")
		if !ok {
			proto = "tcp"
		}
		n, err := strconv.Atoi(port)
		if err != nil || n < 1 || n > 65535 || (proto != "tcp" && proto != "udp" && proto != "sctp") {
			c.add(errorf(CheckPorts, "write ports as PORT/tcp or PORT/udp, 1-65535", "exposed port %q is invalid", k))
		}
	}
}

func (c *checker) checkLayers() {
	n := len(c.r.Layers)
	switch {
	case n == 0:
		c.add(errorf(CheckLayers, "", "the image has no layers"))
	case n > c.opts.MaxLayers:
		c.add(errorf(CheckLayers, "lower maxLayers in nix2gpu.yaml",
			"the image has %d layers; Docker and containerd refuse more than %d (\"max depth exceeded\")", n, c.opts.MaxLayers))
	}
	if len(c.cfg.RootFS.DiffIDs) != n {
		c.add(errorf(CheckLayers, "rebuild the image", "the config lists %d layer diff IDs but the manifest %d layers", len(c.cfg.RootFS.DiffIDs), n))
	}
	for _, l := range c.r.Layers {
		if l.Error != "" {
			c.add(errorf(CheckDigest, "rebuild or re-pull the image; a store path may have changed since it was built",
				"layer %d (%s): %s", l.Index, short(l.Digest), l.Error))
			continue
		}
		if l.Size > 0 && l.Read != l.Size && l.Verified {
			c.add(warnf(CheckLayers, "", "layer %d: the manifest says %d bytes, %d were read", l.Index, l.Size, l.Read))
		}
		if l.Read > c.opts.LargeLayer {
			c.add(infof(CheckLayers, "split large packages into their own layers (maxLayers) so updates stay small",
				"layer %d is %s", l.Index, humanBytes(l.Read)))
		}
	}
}

func short(d string) string {
	if len(d) > 19 {
		return d[:19]
	}
	return d
}

func humanBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}

func isDriverLib(base string) bool {
	for _, p := range driverLibPrefixes {
		if base == p || strings.HasPrefix(base, p+".") {
			return true
		}
	}
	return false
}

// checkLibraries looks for the CUDA runtime of the declared version and for
// host driver libraries that must not be baked in.
func (c *checker) checkLibraries() {
	paths := slices.Sorted(maps.Keys(c.fs.entries))
	f := &c.r.Facts
	ldDirs := splitList(f.Env["LD_LIBRARY_PATH"])
	var baked []string
	for _, p := range paths {
		e := c.fs.entries[p]
		if e.typ == tar.TypeDir {
			continue
		}
		dir, base := path.Split(p)
		dir = "/" + strings.TrimSuffix(dir, "/")
		if strings.HasPrefix(base, "libcudart.so.") {
			f.CUDARuntime = append(f.CUDARuntime, "/"+p)
		}
		if isDriverLib(base) {
			switch {
			case strings.Contains(dir, "/compat"):
				f.CompatLibs = append(f.CompatLibs, "/"+p)
			case strings.HasSuffix(dir, "/stubs") && !slices.Contains(ldDirs, dir):
				// Link-time stubs from the toolkit: harmless unless the
				// loader can find them at run time.
			default:
				baked = append(baked, "/"+p)
			}
		}
		for _, b := range driverBinaries {
			if base == b && e.typ == tar.TypeReg {
				c.add(warnf(CheckDriverLibs, "remove it from the image; the runtime injects the host's matching copy",
					"the image contains /%s: a copy that does not match the host driver fails with \"Failed to initialize NVML: Driver/library version mismatch\"", p))
			}
		}
	}
	if len(baked) > 0 {
		c.add(errorf(CheckDriverLibs,
			"remove them from the image (do not add the nvidia driver package to `packages`); the NVIDIA runtime injects the host's own copies",
			"the image contains host driver libraries: %s. A baked-in libcuda.so comes from one particular driver: on any other host it shadows the injected one and CUDA fails with error 803 (\"system has unsupported display driver / cuda driver combination\") or 35 (\"CUDA driver version is insufficient for CUDA runtime version\")",
			strings.Join(limit(baked, 5), ", ")))
	}
	if f.CUDAVersion == "" {
		return
	}
	major, _, _ := strings.Cut(f.CUDAVersion, ".")
	want := "libcudart.so." + major
	found := false
	var others []string
	for _, p := range f.CUDARuntime {
		base := path.Base(p)
		if base == want || strings.HasPrefix(base, want+".") {
			found = true
		} else {
			others = append(others, p)
		}
	}
	switch {
	case !found && len(others) > 0:
		c.add(errorf(CheckCUDARuntime, "build everything against the CUDA version the image declares (cuda.version)",
			"the image declares CUDA %s but carries only %s: NVIDIA_REQUIRE_CUDA checks the wrong version", f.CUDAVersion, strings.Join(limit(others, 3), ", ")))
	case !found:
		c.add(warnf(CheckCUDARuntime, "add cudaPackages.cuda_cudart (or a package that depends on it); ignore if the application links the CUDA runtime statically",
			"the image declares CUDA %s but contains no %s", f.CUDAVersion, want))
	}
}

func limit(s []string, n int) []string {
	if len(s) <= n {
		return s
	}
	return append(append([]string{}, s[:n]...), fmt.Sprintf("and %d more", len(s)-n))
}

// CompiledConfig is the imageConfig a project compiles to (`nix eval` of
// nix2gpu.<system>.<container>.imageConfig): the OCI config fields.
type CompiledConfig struct {
	Env          []string          `json:"Env"`
	Labels       map[string]string `json:"Labels"`
	ExposedPorts []string          `json:"-"`
	Entrypoint   []string          `json:"Entrypoint"`
	Cmd          []string          `json:"Cmd"`
	User         string            `json:"User"`
	WorkingDir   string            `json:"WorkingDir"`
}

// ReadCompiledConfig reads an imageConfig JSON file. ExposedPorts may be
// the OCI map or a plain list.
func ReadCompiledConfig(file string) (*CompiledConfig, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("reading image config: %w", err)
	}
	var cc CompiledConfig
	if err := json.Unmarshal(data, &cc); err != nil {
		return nil, fmt.Errorf("image config %s: %w", file, err)
	}
	var raw struct {
		ExposedPorts json.RawMessage `json:"ExposedPorts"`
	}
	_ = json.Unmarshal(data, &raw)
	if len(raw.ExposedPorts) > 0 && string(raw.ExposedPorts) != "null" {
		var list []string
		var m map[string]json.RawMessage
		switch {
		case json.Unmarshal(raw.ExposedPorts, &list) == nil:
			cc.ExposedPorts = list
		case json.Unmarshal(raw.ExposedPorts, &m) == nil:
			for k := range m {
				cc.ExposedPorts = append(cc.ExposedPorts, k)
			}
		default:
			return nil, fmt.Errorf("image config %s: ExposedPorts is neither a list nor a map", file)
		}
		sort.Strings(cc.ExposedPorts)
	}
	return &cc, nil
}

func (c *checker) checkCompiled(want *CompiledConfig) {
	got := c.cfg.Config
	hint := "rebuild the image (`nix2gpu build`) so it matches nix2gpu.yaml"
	gotEnv := c.r.Facts.Env // the image's env, read by facts
	wantEnv := envMap(want.Env)
	for _, k := range slices.Sorted(maps.Keys(wantEnv)) {
		v := wantEnv[k]
		if g, ok := gotEnv[k]; !ok {
			c.add(errorf(CheckCompiled, hint, "env %s is in the compiled config but not in the image", k))
		} else if g != v {
			c.add(errorf(CheckCompiled, hint, "env %s is %q in the image, %q in the compiled config", k, g, v))
		}
	}
	for _, k := range slices.Sorted(maps.Keys(want.Labels)) {
		v := want.Labels[k]
		if g, ok := got.Labels[k]; !ok || g != v {
			c.add(errorf(CheckCompiled, hint, "label %s is %q in the image, %q in the compiled config", k, g, v))
		}
	}
	for _, p := range want.ExposedPorts {
		if _, ok := got.ExposedPorts[p]; !ok {
			c.add(errorf(CheckCompiled, hint, "port %s is in the compiled config but not exposed by the image", p))
		}
	}
	if want.Entrypoint != nil && strings.Join(want.Entrypoint, "\x00") != strings.Join(got.Entrypoint, "\x00") {
		c.add(errorf(CheckCompiled, hint, "entrypoint is %q in the image, %q in the compiled config", got.Entrypoint, want.Entrypoint))
	}
	if want.Cmd != nil && strings.Join(want.Cmd, "\x00") != strings.Join(got.Cmd, "\x00") {
		c.add(errorf(CheckCompiled, hint, "cmd is %q in the image, %q in the compiled config", got.Cmd, want.Cmd))
	}
	if want.User != "" && want.User != got.User {
		c.add(errorf(CheckCompiled, hint, "user is %q in the image, %q in the compiled config", got.User, want.User))
	}
	if want.WorkingDir != "" && want.WorkingDir != got.WorkingDir {
		c.add(errorf(CheckCompiled, hint, "working directory is %q in the image, %q in the compiled config", got.WorkingDir, want.WorkingDir))
	}
}
