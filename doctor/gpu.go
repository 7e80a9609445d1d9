package doctor

import (
	"errors"
	"fmt"
	"strings"

	"github.com/NVIDIA/go-nvml/pkg/nvml"
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
		c.Detail = fmt.Sprintf("no NVIDIA driver: %v", err)
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
// time; on a machine without the driver Probe returns an error.
type NVML struct {
	Lib nvml.Interface // nil: nvml.New()
}

var _ GPUProber = NVML{}

// Probe implements GPUProber.
func (n NVML) Probe() (info GPUInfo, err error) {
	lib := n.Lib
	if lib == nil {
		lib = nvml.New()
	}
	if ret := lib.Init(); ret != nvml.SUCCESS {
		if errors.Is(ret, nvml.ERROR_LIBRARY_NOT_FOUND) {
			return info, errors.New("libnvidia-ml.so.1 not found")
		}
		return info, fmt.Errorf("NVML init: %w", ret)
	}
	defer func() {
		if ret := lib.Shutdown(); ret != nvml.SUCCESS && err == nil {
			err = fmt.Errorf("NVML shutdown: %w", ret)
		}
	}()
	v, ret := lib.SystemGetDriverVersion()
	if ret != nvml.SUCCESS {
		return info, fmt.Errorf("reading the driver version: %w", ret)
	}
	info.DriverVersion = v
	cv, ret := lib.SystemGetCudaDriverVersion()
	if ret != nvml.SUCCESS {
		return info, fmt.Errorf("reading the CUDA driver version: %w", ret)
	}
	// NVML encodes CUDA 12.4 as 12040.
	info.CUDAVersion = fmt.Sprintf("%d.%d", cv/1000, cv%1000/10)
	count, ret := lib.DeviceGetCount()
	if ret != nvml.SUCCESS {
		return info, fmt.Errorf("counting GPUs: %w", ret)
	}
	for i := 0; i < count; i++ {
		dev, ret := lib.DeviceGetHandleByIndex(i)
		if ret != nvml.SUCCESS {
			return info, fmt.Errorf("GPU %d: %w", i, ret)
		}
		name, ret := dev.GetName()
		if ret != nvml.SUCCESS {
			return info, fmt.Errorf("GPU %d name: %w", i, ret)
		}
		major, minor, ret := dev.GetCudaComputeCapability()
		if ret != nvml.SUCCESS {
			return info, fmt.Errorf("GPU %d compute capability: %w", i, ret)
		}
		info.Devices = append(info.Devices, GPUDevice{Index: i, Name: name, ComputeCapability: fmt.Sprintf("%d.%d", major, minor)})
	}
	return info, nil
}
