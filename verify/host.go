package verify

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"

	"github.com/NVIDIA/go-nvml/pkg/nvml"

	"github.com/nix2gpu/nix2gpu/cuda"
)

// Host is a GPU host profile: what `nix2gpu verify host --format json`
// prints and what `--host FILE` reads back, so CI without a GPU can check
// images against recorded production hosts.
type Host struct {
	// Name labels the profile in reports (the file name when read).
	Name          string   `json:"name,omitempty"`
	DriverVersion string   `json:"driverVersion"`
	CUDAVersion   string   `json:"cudaVersion"`
	GPUs          []GPU    `json:"gpus"`
	Runtime       *Runtime `json:"runtime,omitempty"`
}

// GPU is one device as NVML reports it.
type GPU struct {
	Index             int    `json:"index"`
	Name              string `json:"name"`
	UUID              string `json:"uuid,omitempty"`
	Brand             string `json:"brand"`
	ComputeCapability string `json:"computeCapability"`
	MemoryMiB         uint64 `json:"memoryMiB"`
	Architecture      string `json:"architecture,omitempty"`

	// indices lists the identical GPUs a verdict groups under this one.
	indices []int
}

// Runtime describes how containers reach the GPUs on this host.
type Runtime struct {
	ContainerRuntime string   `json:"nvidiaContainerRuntime,omitempty"` // path, when on PATH
	CTK              string   `json:"nvidiaCTK,omitempty"`              // nvidia-ctk path
	CDISpecs         []string `json:"cdiSpecs,omitempty"`
	DockerRuntimes   []string `json:"dockerRuntimes,omitempty"`
}

// ReadHost reads a host profile file.
func ReadHost(path string) (*Host, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading host profile: %w", err)
	}
	var h Host
	dec := json.NewDecoder(strings.NewReader(string(data)))
	if err := dec.Decode(&h); err != nil {
		return nil, fmt.Errorf("host profile %s: %w", path, err)
	}
	if h.Name == "" {
		h.Name = strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
	}
	if err := h.Validate(); err != nil {
		return nil, fmt.Errorf("host profile %s: %w", path, err)
	}
	return &h, nil
}

// Validate checks a profile has what the verdict needs.
func (h *Host) Validate() error {
	if !cuda.ValidVersion(h.DriverVersion) {
		return fmt.Errorf("driverVersion %q is not a driver version like 550.54.15", h.DriverVersion)
	}
	if !cuda.ValidVersion(h.CUDAVersion) {
		return fmt.Errorf("cudaVersion %q is not a version like 12.4", h.CUDAVersion)
	}
	for i, g := range h.GPUs {
		if _, err := cuda.ParseCapability(g.ComputeCapability); err != nil {
			return fmt.Errorf("gpus[%d]: %w", i, err)
		}
	}
	return nil
}

// NoDriverError means NVML could not be used: no driver, or a broken one.
type NoDriverError struct {
	Op     string
	Return nvml.Return
}

func (e *NoDriverError) Error() string {
	name := returnName(e.Return)
	switch e.Return {
	case nvml.ERROR_LIBRARY_NOT_FOUND:
		return fmt.Sprintf("no NVIDIA driver: libnvidia-ml.so.1 was not found (%s)", name)
	case nvml.ERROR_DRIVER_NOT_LOADED:
		return fmt.Sprintf("the NVIDIA kernel driver is not loaded (%s)", name)
	case nvml.ERROR_LIB_RM_VERSION_MISMATCH:
		return fmt.Sprintf("the NVIDIA user-space library and kernel driver versions differ; reboot or reload the driver (%s)", name)
	case nvml.ERROR_NO_PERMISSION:
		return fmt.Sprintf("no permission to open the NVIDIA devices (%s)", name)
	}
	return fmt.Sprintf("%s failed: %s", e.Op, name)
}

// returnName gives an NVML return code's symbolic name; the library's
// own text needs the library loaded, which is exactly what may be missing.
func returnName(r nvml.Return) string {
	switch r {
	case nvml.ERROR_LIBRARY_NOT_FOUND:
		return "ERROR_LIBRARY_NOT_FOUND"
	case nvml.ERROR_DRIVER_NOT_LOADED:
		return "ERROR_DRIVER_NOT_LOADED"
	case nvml.ERROR_LIB_RM_VERSION_MISMATCH:
		return "ERROR_LIB_RM_VERSION_MISMATCH"
	case nvml.ERROR_NO_PERMISSION:
		return "ERROR_NO_PERMISSION"
	case nvml.ERROR_UNINITIALIZED:
		return "ERROR_UNINITIALIZED"
	case nvml.ERROR_NOT_SUPPORTED:
		return "ERROR_NOT_SUPPORTED"
	case nvml.ERROR_FUNCTION_NOT_FOUND:
		return "ERROR_FUNCTION_NOT_FOUND"
	case nvml.ERROR_GPU_IS_LOST:
		return "ERROR_GPU_IS_LOST"
	case nvml.ERROR_UNKNOWN:
		return "ERROR_UNKNOWN"
	}
	return fmt.Sprintf("NVML return %d", int(r))
}

// ProbeGPUs asks NVML for the driver and every GPU. lib is usually
// nvml.New(); tests pass a mock.
func ProbeGPUs(lib nvml.Interface) (h *Host, err error) {
	defer func() {
		// go-nvml panics when a symbol is missing from an old driver's
		// library; report that instead of crashing.
		if p := recover(); p != nil {
			h, err = nil, fmt.Errorf("NVML: %v", p)
		}
	}()
	if ret := lib.Init(); ret != nvml.SUCCESS {
		return nil, &NoDriverError{Op: "nvmlInit", Return: ret}
	}
	defer lib.Shutdown()
	h = &Host{}
	var ret nvml.Return
	if h.DriverVersion, ret = lib.SystemGetDriverVersion(); ret != nvml.SUCCESS {
		return nil, &NoDriverError{Op: "nvmlSystemGetDriverVersion", Return: ret}
	}
	v, ret := lib.SystemGetCudaDriverVersion()
	if ret != nvml.SUCCESS {
		return nil, &NoDriverError{Op: "nvmlSystemGetCudaDriverVersion", Return: ret}
	}
	h.CUDAVersion = cuda.CUDAFromDriverAPI(v)
	n, ret := lib.DeviceGetCount()
	if ret != nvml.SUCCESS {
		return nil, &NoDriverError{Op: "nvmlDeviceGetCount", Return: ret}
	}
	for i := 0; i < n; i++ {
		d, ret := lib.DeviceGetHandleByIndex(i)
		if ret != nvml.SUCCESS {
			return nil, fmt.Errorf("GPU %d: %w", i, &NoDriverError{Op: "nvmlDeviceGetHandleByIndex", Return: ret})
		}
		g := GPU{Index: i}
		if g.Name, ret = d.GetName(); ret != nvml.SUCCESS {
			return nil, fmt.Errorf("GPU %d name: %w", i, &NoDriverError{Op: "nvmlDeviceGetName", Return: ret})
		}
		g.UUID, _ = d.GetUUID()
		if b, ret := d.GetBrand(); ret == nvml.SUCCESS {
			g.Brand = BrandName(b)
		}
		maj, min, ret := d.GetCudaComputeCapability()
		if ret != nvml.SUCCESS {
			return nil, fmt.Errorf("GPU %d compute capability: %w", i, &NoDriverError{Op: "nvmlDeviceGetCudaComputeCapability", Return: ret})
		}
		g.ComputeCapability = fmt.Sprintf("%d.%d", maj, min)
		if m, ret := d.GetMemoryInfo(); ret == nvml.SUCCESS {
			g.MemoryMiB = m.Total / (1 << 20)
		}
		if a, ret := d.GetArchitecture(); ret == nvml.SUCCESS {
			g.Architecture = archNames[a]
		}
		h.GPUs = append(h.GPUs, g)
	}
	return h, nil
}

// archNames spell NVML's architecture enum (nvml.h nvmlDeviceArchitecture_t).
var archNames = map[nvml.DeviceArchitecture]string{
	nvml.DEVICE_ARCH_KEPLER: "Kepler", nvml.DEVICE_ARCH_MAXWELL: "Maxwell", nvml.DEVICE_ARCH_PASCAL: "Pascal",
	nvml.DEVICE_ARCH_VOLTA: "Volta", nvml.DEVICE_ARCH_TURING: "Turing", nvml.DEVICE_ARCH_AMPERE: "Ampere",
	nvml.DEVICE_ARCH_ADA: "Ada", nvml.DEVICE_ARCH_HOPPER: "Hopper", nvml.DEVICE_ARCH_BLACKWELL: "Blackwell",
}

// brandNames are NVML's brand types spelled as libnvidia-container names
// them for brand= terms (compared case-insensitively), which is why the
// official CUDA images write brand=tesla, brand=nvidiartx, brand=vapps.
var brandNames = map[nvml.BrandType]string{
	nvml.BRAND_UNKNOWN:             "Unknown",
	nvml.BRAND_QUADRO:              "Quadro",
	nvml.BRAND_TESLA:               "Tesla",
	nvml.BRAND_NVS:                 "NVS",
	nvml.BRAND_GRID:                "GRID",
	nvml.BRAND_GEFORCE:             "GeForce",
	nvml.BRAND_TITAN:               "Titan",
	nvml.BRAND_NVIDIA_VAPPS:        "vApps",
	nvml.BRAND_NVIDIA_VPC:          "VPC",
	nvml.BRAND_NVIDIA_VCS:          "VCS",
	nvml.BRAND_NVIDIA_VWS:          "VWS",
	nvml.BRAND_NVIDIA_CLOUD_GAMING: "CloudGaming",
	nvml.BRAND_QUADRO_RTX:          "QuadroRTX",
	nvml.BRAND_NVIDIA_RTX:          "NvidiaRTX",
	nvml.BRAND_NVIDIA:              "Nvidia",
	nvml.BRAND_GEFORCE_RTX:         "GeForceRTX",
	nvml.BRAND_TITAN_RTX:           "TitanRTX",
}

// BrandName spells an NVML brand the way requirement terms name it.
func BrandName(b nvml.BrandType) string {
	if n, ok := brandNames[b]; ok {
		return n
	}
	return "Unknown"
}

// RuntimeProbe finds the NVIDIA container runtime pieces. Its fields are
// the host's file system and PATH lookup, so tests can fake both.
type RuntimeProbe struct {
	FS       fs.FS // rooted at /
	LookPath func(string) (string, error)
}

// DefaultRuntimeProbe looks at the real host.
func DefaultRuntimeProbe() RuntimeProbe {
	return RuntimeProbe{FS: os.DirFS("/"), LookPath: exec.LookPath}
}

// Probe reports what it finds; missing pieces are empty fields.
func (p RuntimeProbe) Probe() *Runtime {
	r := &Runtime{}
	if p.LookPath != nil {
		if s, err := p.LookPath("nvidia-container-runtime"); err == nil {
			r.ContainerRuntime = s
		}
		if s, err := p.LookPath("nvidia-ctk"); err == nil {
			r.CTK = s
		}
	}
	if p.FS == nil {
		return r
	}
	// CDI specs: static ones in /etc/cdi, generated ones in /var/run/cdi
	// (CDI spec, "Well-known directories").
	for _, dir := range []string{"etc/cdi", "var/run/cdi", "run/cdi"} {
		ents, err := fs.ReadDir(p.FS, dir)
		if err != nil {
			continue
		}
		for _, e := range ents {
			n := e.Name()
			if strings.HasSuffix(n, ".yaml") || strings.HasSuffix(n, ".yml") || strings.HasSuffix(n, ".json") {
				r.CDISpecs = append(r.CDISpecs, "/"+dir+"/"+n)
			}
		}
	}
	if data, err := fs.ReadFile(p.FS, "etc/docker/daemon.json"); err == nil {
		var d struct {
			Runtimes map[string]json.RawMessage `json:"runtimes"`
		}
		if json.Unmarshal(data, &d) == nil {
			for k := range d.Runtimes {
				r.DockerRuntimes = append(r.DockerRuntimes, k)
			}
			sort.Strings(r.DockerRuntimes)
		}
	}
	return r
}

// HasNVIDIA reports whether any way for containers to reach the GPUs was
// found.
func (r *Runtime) HasNVIDIA() bool {
	if r == nil {
		return false
	}
	if r.ContainerRuntime != "" || r.CTK != "" || len(r.CDISpecs) > 0 {
		return true
	}
	for _, d := range r.DockerRuntimes {
		if strings.Contains(d, "nvidia") {
			return true
		}
	}
	return false
}

// IsNoDriver reports whether err means no usable NVIDIA driver.
func IsNoDriver(err error) bool {
	var nd *NoDriverError
	return errors.As(err, &nd)
}
