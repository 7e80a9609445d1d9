package verify

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/nix2gpu/nix2gpu/cuda"
)

// Verdict is whether one image runs on one host, GPU by GPU.
type Verdict struct {
	Host       string       `json:"host"`
	Driver     string       `json:"driverVersion"`
	CUDA       string       `json:"cudaVersion"`
	Compatible bool         `json:"compatible"`
	GPUs       []GPUVerdict `json:"gpus,omitempty"`
	Findings   Findings     `json:"findings"`
}

// GPUVerdict sums up the findings for one group of identical GPUs.
type GPUVerdict struct {
	Indices           []int  `json:"indices"`
	Name              string `json:"name"`
	ComputeCapability string `json:"computeCapability"`
	// Status is "ok", "warning" or "incompatible".
	Status string `json:"status"`
	// Checks lists the check ids that reported a warning or an error.
	Checks []string `json:"checks,omitempty"`
}

// summarize fills v.GPUs: each group's worst finding, counting findings
// about that group and those about the host as a whole.
func (v *Verdict) summarize(groups []*GPU) {
	for _, g := range groups {
		if g == nil {
			continue
		}
		gv := GPUVerdict{Indices: g.indices, Name: g.Name, ComputeCapability: g.ComputeCapability, Status: "ok"}
		worst := Info
		seen := map[string]bool{}
		for _, f := range v.Findings {
			if len(f.GPUs) > 0 && (len(g.indices) == 0 || f.GPUs[0] != g.indices[0]) {
				continue
			}
			if f.Severity > worst {
				worst = f.Severity
			}
			if f.Severity >= Warning && !seen[f.Check] {
				seen[f.Check] = true
				gv.Checks = append(gv.Checks, f.Check)
			}
		}
		switch worst {
		case Warning:
			gv.Status = "warning"
		case Error:
			gv.Status = "incompatible"
		}
		v.GPUs = append(v.GPUs, gv)
	}
}

// gpuGroups folds identical GPUs (same name, brand and capability) into
// one representative, so an 8-GPU host reports each problem once.
func gpuGroups(gs []GPU) []*GPU {
	var out []*GPU
	seen := map[string]*GPU{}
	for _, g := range gs {
		key := g.Name + "\x00" + g.Brand + "\x00" + g.ComputeCapability
		if rep, ok := seen[key]; ok {
			rep.indices = append(rep.indices, g.Index)
			continue
		}
		rep := g
		rep.indices = []int{g.Index}
		seen[key] = &rep
		out = append(out, &rep)
	}
	return out
}

// gpuID names a GPU group: "GPU 0", "GPUs 0-7" or "GPUs 0, 2".
func gpuID(g *GPU) string {
	idx := g.indices
	if len(idx) <= 1 {
		return fmt.Sprintf("GPU %d", g.Index)
	}
	return "GPUs " + IndexList(idx, ", ")
}

// IndexList renders GPU indices as a range when they run without a gap
// ("0-7"), and otherwise joined with sep ("0, 2").
func IndexList(idx []int, sep string) string {
	contiguous := true
	for i := 1; i < len(idx); i++ {
		if idx[i] != idx[i-1]+1 {
			contiguous = false
		}
	}
	if contiguous && len(idx) > 1 {
		return fmt.Sprintf("%d-%d", idx[0], idx[len(idx)-1])
	}
	return joinInts(idx, sep)
}

// usesGPU tells GPU images from CPU-only ones: a CUDA version (even one
// that does not parse), compiled capabilities or any NVIDIA_* variable.
func (f Facts) usesGPU() bool {
	if f.CUDAVersion != "" || len(f.Capabilities) > 0 || f.Env["CUDA_VERSION"] != "" {
		return true
	}
	for k := range f.Env {
		if strings.HasPrefix(k, "NVIDIA_") {
			return true
		}
	}
	return false
}

// Evaluate decides whether an image with facts f runs on host h.
func Evaluate(f Facts, h *Host) Verdict {
	v := Verdict{Host: h.Name, Driver: h.DriverVersion, CUDA: h.CUDAVersion, Findings: Findings{}}
	add := func(fd Finding, gpu *GPU) {
		if gpu != nil {
			fd.GPUs = gpu.indices
		}
		v.Findings = append(v.Findings, fd)
	}
	if !f.usesGPU() {
		add(infof(CheckVerdictGPU, "", "CPU-only image (no CUDA version, no NVIDIA_* variables): nothing to check against the GPUs"), nil)
		v.Compatible = true
		return v
	}
	gpus := gpuGroups(h.GPUs)
	if len(gpus) == 0 {
		add(warnf(CheckVerdictGPU, "check that the driver sees the GPUs (nvidia-smi) and that the profile was recorded on the right host",
			"host %s shows no GPU: requirements on arch and brand count as met, but nothing will run on a GPU", h.Name), nil)
		gpus = []*GPU{nil}
	}
	if h.Runtime != nil && !h.Runtime.HasNVIDIA() {
		add(warnf(CheckVerdictRT, "install nvidia-container-toolkit and run `nvidia-ctk runtime configure` or `nvidia-ctk cdi generate`",
			"no NVIDIA container runtime, nvidia-ctk or CDI spec found: containers will not see the GPUs"), nil)
	}

	reqs, disabled, errs := Requirements(f.Env)
	for _, err := range errs {
		var lv *LegacyVersionError
		if errors.As(err, &lv) {
			add(errorf(CheckVerdictReq, "set CUDA_VERSION to MAJOR.MINOR.PATCH, or set NVIDIA_REQUIRE_CUDA",
				"%v: the NVIDIA runtime refuses to start the container", err), nil)
		}
	}
	if disabled {
		add(infof(CheckVerdictReq, "", "NVIDIA_DISABLE_REQUIRE is set: the runtime checks nothing, the driver check below still applies"), nil)
	}
	for _, g := range gpus {
		hv := HostValues{CUDA: h.CUDAVersion, Driver: h.DriverVersion, GPU: g}
		for _, r := range reqs {
			o := r.Evaluate(hv)
			switch {
			case o.Invalid != nil:
				add(errorf(CheckVerdictReq, "fix the expression: KEY OP VALUE terms (cuda, driver, arch, brand), spaces between alternatives, commas inside one",
					"%s %s: %s stops at an invalid term on this host (%v): the NVIDIA runtime fails with \"invalid expression\"", gpuLabel(g), r.Name, quoteReq(r), o.Invalid), g)
			case !o.Satisfied:
				add(errorf(CheckVerdictReq, requireHint(r, f, h, g),
					"%s %s: %s is not met by %s: the runtime's legacy mode refuses the container (\"unsatisfied condition: %s\"); its CDI mode, the default since toolkit 1.18, starts it without checking",
					gpuLabel(g), r.Name, quoteReq(r), describeHost(h, g), o.Failed), g)
			}
		}
	}
	v.Findings = append(v.Findings, driverFindings(f, h, gpus)...)
	for _, g := range gpus {
		if g != nil {
			if fd, ok := archFinding(f, h, g); ok {
				add(fd, g)
			}
		}
	}
	v.Compatible = v.Findings.Worst() < Error
	v.summarize(gpus)
	return v
}

func quoteReq(r Requirement) string {
	if r.Implicit {
		return fmt.Sprintf("%q (implied by CUDA_VERSION)", r.Raw)
	}
	return fmt.Sprintf("%q", r.Raw)
}

func gpuLabel(g *GPU) string {
	if g == nil {
		return "no GPU:"
	}
	return fmt.Sprintf("%s (%s):", gpuID(g), g.Name)
}

func describeHost(h *Host, g *GPU) string {
	s := fmt.Sprintf("driver %s (CUDA %s)", h.DriverVersion, h.CUDAVersion)
	if g != nil {
		s += fmt.Sprintf(", compute capability %s, brand %s", g.ComputeCapability, g.Brand)
	}
	return s
}

// requireHint explains which term failed in the nearest alternative and
// what would satisfy it.
func requireHint(r Requirement, f Facts, h *Host, g *GPU) string {
	hv := HostValues{CUDA: h.CUDAVersion, Driver: h.DriverVersion, GPU: g}
	var failed []string
	for _, alt := range r.Alternatives {
		for _, t := range alt {
			if !t.holds(hv) {
				failed = append(failed, t.String())
			}
		}
	}
	hint := "failing terms: " + strings.Join(dedupe(failed), ", ") + "."
	for _, alt := range r.Alternatives {
		for _, t := range alt {
			if t.Key != "cuda" || (t.Op != OpGe && t.Op != OpGt) || t.holds(hv) {
				continue
			}
			if n, err := cuda.DriverFor(t.Value); err == nil && n.Known {
				hint += fmt.Sprintf(" CUDA %s needs driver >= %s (>= %s through minor version compatibility); this host has %s, which runs CUDA up to %s.",
					n.Version, n.Full, n.MinorCompat, h.DriverVersion, h.CUDAVersion)
				if minorCompatible(n, h) {
					hint += fmt.Sprintf(" The driver would run this CUDA version through minor version compatibility: only this requirement stops the NVIDIA runtime's legacy mode (CDI mode does not check it). To accept that, add the alternative \"driver>=%s\" to %s (space-separated), or", n.MinorCompat, r.Name)
					return hint + " " + lowerFirst(upgradeOrDowngrade(h))
				}
			}
			hint += " " + upgradeOrDowngrade(h)
			return hint
		}
	}
	return hint
}

// minorCompatible reports whether the host driver runs code of n's CUDA
// version through minor version compatibility (same major family, driver
// at least the family floor).
func minorCompatible(n cuda.DriverNeeds, h *Host) bool {
	imgMajor, _, _ := strings.Cut(n.Version, ".")
	hostMajor, _, _ := strings.Cut(h.CUDAVersion, ".")
	if imgMajor != hostMajor || n.MinorCompat == "" {
		return false
	}
	c, err := cuda.CompareVersions(h.DriverVersion, n.MinorCompat)
	return err == nil && c >= 0
}

// upgradeOrDowngrade says what would make a too-new image run on h.
func upgradeOrDowngrade(h *Host) string {
	if v := newestOffered(h.CUDAVersion); v != "" {
		return fmt.Sprintf("Upgrade the host driver, or set cuda.version to %q (the newest CUDA nix2gpu offers that this host runs natively).", v)
	}
	return fmt.Sprintf("Upgrade the host driver: no CUDA version nix2gpu offers (%s) is old enough for CUDA %s.", strings.Join(cuda.Versions(), ", "), h.CUDAVersion)
}

func dedupe(s []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, x := range s {
		if !seen[x] {
			seen[x] = true
			out = append(out, x)
		}
	}
	return out
}

// driverFindings compares the image's CUDA version with the driver: full
// compatibility (driver at least the toolkit's own), minor version
// compatibility (same major family, from the family floor), forward
// compatibility (cuda-compat on data-center GPUs and supported branches),
// or nothing.
func driverFindings(f Facts, h *Host, gpus []*GPU) Findings {
	if f.CUDAVersion == "" {
		return nil
	}
	need, err := cuda.DriverFor(f.CUDAVersion)
	if err != nil {
		return Findings{errorf(CheckVerdictDriver, "", "image CUDA version %q: %v", f.CUDAVersion, err)}
	}
	cmpAPI, err := cuda.CompareVersions(h.CUDAVersion, need.Version)
	if err != nil {
		return Findings{errorf(CheckVerdictDriver, "", "host CUDA version %q: %v", h.CUDAVersion, err)}
	}
	if cmpAPI >= 0 {
		return nil
	}
	if minorCompatible(need, h) {
		return Findings{warnf(CheckVerdictDriver,
			fmt.Sprintf("fine for most workloads; full support needs driver >= %s", orUnknown(need.Full)),
			"image CUDA %s is newer than the driver's CUDA %s (driver %s): it runs through minor version compatibility, without features that need a newer driver and without JIT of PTX newer than the driver",
			need.Version, h.CUDAVersion, h.DriverVersion)}
	}
	msg := fmt.Sprintf("image CUDA %s needs driver >= %s", need.Version, orUnknown(need.Full))
	if need.MinorCompat != "" {
		msg += fmt.Sprintf(" (>= %s with minor version compatibility)", need.MinorCompat)
	}
	msg += fmt.Sprintf("; host %s has driver %s, which runs CUDA up to %s: CUDA calls fail with \"CUDA driver version is insufficient for CUDA runtime version\"",
		h.Name, h.DriverVersion, h.CUDAVersion)
	hint := fmt.Sprintf("Driver >= %s runs it. %s", orUnknown(need.Full), upgradeOrDowngrade(h))
	hint += " " + forwardCompatNote(need.Version, h, gpus, len(f.CompatLibs) > 0)
	sev := Error
	if len(f.CompatLibs) > 0 && forwardCompatOK(h, gpus) {
		sev = Warning
		msg += "; the image carries cuda-compat libraries, which should bridge the gap on this host"
	}
	return Findings{{Severity: sev, Check: CheckVerdictDriver, Message: msg, Hint: hint}}
}

func orUnknown(s string) string {
	if s == "" {
		return "(unknown to nix2gpu)"
	}
	return s
}

// newestOffered is the newest nix2gpu CUDA version not newer than the
// host's, or empty when every offered version is newer.
func newestOffered(hostCUDA string) string {
	best := ""
	for _, r := range cuda.Releases {
		if c, err := cuda.CompareVersions(r.Version, hostCUDA); err == nil && c <= 0 {
			best = r.Version
		}
	}
	return best
}

func forwardCompatOK(h *Host, gpus []*GPU) bool {
	if !cuda.IsForwardCompatBranch(h.DriverVersion) {
		return false
	}
	for _, g := range gpus {
		if g == nil || !cuda.IsDataCenterBrand(g.Brand) {
			return false
		}
	}
	return true
}

func forwardCompatNote(v string, h *Host, gpus []*GPU, has bool) string {
	branch, _ := cuda.DriverBranch(h.DriverVersion)
	pkg := "cuda-compat-" + strings.ReplaceAll(v, ".", "-")
	for _, g := range gpus {
		if g == nil {
			return "Forward compatibility (" + pkg + ") cannot be judged without a GPU."
		}
		if !cuda.IsDataCenterBrand(g.Brand) {
			return fmt.Sprintf("Forward compatibility (%s) does not apply: %s is a %s, and it is supported on data-center GPUs only.", pkg, gpuID(g), g.Brand)
		}
	}
	if !cuda.IsForwardCompatBranch(h.DriverVersion) {
		return fmt.Sprintf("Forward compatibility (%s) does not apply: driver branch R%d is not a long-term or production branch NVIDIA supports it on (R%s).",
			pkg, branch, joinInts(cuda.ForwardCompatBranches, ", R"))
	}
	if has {
		return "The image already carries cuda-compat libraries; make sure their directory comes first in LD_LIBRARY_PATH."
	}
	return fmt.Sprintf("Forward compatibility applies here (data-center GPU, branch R%d): adding %s's libraries (cudaPackages.cuda_compat) to the image and its directory to LD_LIBRARY_PATH would let it run.", branch, pkg)
}

func joinInts(xs []int, sep string) string {
	s := make([]string, len(xs))
	for i, x := range xs {
		s[i] = fmt.Sprint(x)
	}
	return strings.Join(s, sep)
}

// archFinding checks one GPU's compute capability against the image's
// compiled capabilities. SASS for X.y runs on X.z with z >= y (binary
// compatibility within a major version; not for arch-specific "a"
// variants); PTX for a capability <= the GPU's is JIT-compiled by the
// driver at load time; anything else cannot run.
func archFinding(f Facts, h *Host, g *GPU) (Finding, bool) {
	gc, err := cuda.ParseCapability(g.ComputeCapability)
	if err != nil {
		return errorf(CheckVerdictArch, "", "%s reports compute capability %q: %v", gpuID(g), g.ComputeCapability, err), true
	}
	if f.CUDAVersion != "" {
		if min, ok := cuda.MinCapabilityFor(f.CUDAVersion); ok && gc.Less(min) {
			return errorf(CheckVerdictArch,
				fmt.Sprintf("CUDA %s supports compute capability %s and newer; for this GPU use cuda.version %q (the newest CUDA 12)", f.CUDAVersion, min, "12.9"),
				"%s (%s, compute capability %s) is not supported by CUDA %s at all",
				gpuID(g), g.Name, gc, f.CUDAVersion), true
		}
	}
	if len(f.Capabilities) == 0 && f.CUDAVersion == "" {
		return Finding{}, false
	}
	if len(f.Capabilities) == 0 {
		return infof(CheckVerdictArch, fmt.Sprintf("label the image with %s to enable this check", cuda.LabelCapabilities),
			"%s: the image does not record its compute capabilities; whether it has code for %s is unknown", gpuID(g), gc), true
	}
	list := capList(f.Capabilities)
	var sassSameMajor, ptx *Capability
	for i := range f.Capabilities {
		c := &f.Capabilities[i]
		arch := strings.HasSuffix(c.Text, "a") || strings.HasSuffix(c.Text, "f")
		if c.Cap == gc {
			return Finding{}, false
		}
		if !arch && c.Cap.Major == gc.Major && c.Cap.Less(gc) {
			sassSameMajor = c
		}
		if c.PTX && !gc.Less(c.Cap) {
			if ptx == nil || ptx.Cap.Less(c.Cap) {
				ptx = c
			}
		}
	}
	add := fmt.Sprintf("add %q to cuda.capabilities for native code", gc.String())
	if sassSameMajor != nil {
		return infof(CheckVerdictArch, add,
			"%s (%s, %s) runs the image's %s code through binary compatibility within the same major version",
			gpuID(g), g.Name, gc, sassSameMajor.Text), true
	}
	if ptx != nil {
		fd := warnf(CheckVerdictArch, add+" and skip the JIT",
			"%s (%s, %s) has no native code in the image (compiled for %s); the driver JIT-compiles the %s PTX at load time: slower first start, cached afterwards",
			gpuID(g), g.Name, gc, list, ptx.Text)
		if need, err := cuda.DriverFor(f.CUDAVersion); err == nil && need.Known {
			if c, err := cuda.CompareVersions(h.DriverVersion, need.Full); err == nil && c < 0 {
				fd = errorf(CheckVerdictArch, add,
					"%s (%s, %s) would need JIT of the image's %s PTX, but PTX from CUDA %s needs driver >= %s and the host has %s (minor version compatibility does not cover PTX JIT)",
					gpuID(g), g.Name, gc, ptx.Text, need.Version, need.Full, h.DriverVersion)
			}
		}
		return fd, true
	}
	return errorf(CheckVerdictArch, add,
		"%s (%s, compute capability %s) cannot run the image's GPU code: it was compiled for %s with no PTX that this GPU can JIT; kernels fail with \"no kernel image is available for execution on the device\"",
		gpuID(g), g.Name, gc, list), true
}

func capList(cs []Capability) string {
	s := make([]string, len(cs))
	for i, c := range cs {
		s[i] = c.Text
		if c.PTX {
			s[i] += "+PTX"
		}
	}
	sort.Strings(s)
	return strings.Join(s, ", ")
}

func lowerFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToLower(s[:1]) + s[1:]
}
