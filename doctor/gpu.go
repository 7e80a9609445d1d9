package doctor

import (
	"fmt"
	"strings"

	"github.com/NVIDIA/go-nvml/pkg/nvml"

	"github.com/nix2gpu/nix2gpu/verify"
)

// checkGPU reports the driver and GPUs. A machine without a GPU can still
// compile, build and push images, so a missing driver is a warning.
func checkGPU(env Environment) Check {
	c := Check{Name: "gpu"}
	if env.GPU == nil {
		c.Status = Warn
		c.Detail = "GPU probing is not available in this build"
		return c
	}
	info, err := env.GPU.Probe()
	if err != nil {
		c.Status = Warn
		c.Detail = err.Error()
		c.Hint = "fine for compiling, building and pushing; to run or verify images on this machine install the NVIDIA driver"
		return c
	}
	if len(info.Devices) == 0 {
		c.Status = Warn
		c.Detail = fmt.Sprintf("driver %s (CUDA %s) but no GPUs visible", info.DriverVersion, info.CUDAVersion)
		c.Hint = "check that the GPUs are not hidden (CUDA_VISIBLE_DEVICES, cgroup device rules)"
		return c
	}
	var gpus []string
	for _, d := range info.Devices {
		gpus = append(gpus, fmt.Sprintf("%d: %s (sm %s)", d.Index, d.Name, d.ComputeCapability))
	}
	c.Status = OK
	c.Detail = fmt.Sprintf("driver %s, CUDA %s; %s", info.DriverVersion, info.CUDAVersion, strings.Join(gpus, "; "))
	return c
}

// NVML probes the host through the NVIDIA Management Library, loaded at run
// time, with the same probe `nix2gpu verify host` uses; on a machine
// without the driver Probe returns an error.
type NVML struct {
	Lib nvml.Interface // nil: nvml.New()
}

var _ GPUProber = NVML{}

// Probe implements GPUProber.
func (n NVML) Probe() (GPUInfo, error) {
	lib := n.Lib
	if lib == nil {
		lib = nvml.New()
	}
	h, err := verify.ProbeGPUs(lib)
	if err != nil {
		return GPUInfo{}, err
	}
	info := GPUInfo{DriverVersion: h.DriverVersion, CUDAVersion: h.CUDAVersion}
	for _, g := range h.GPUs {
		info.Devices = append(info.Devices, GPUDevice{Index: g.Index, Name: g.Name, ComputeCapability: g.ComputeCapability})
	}
	return info, nil
}
