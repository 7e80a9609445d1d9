package doctor

import (
	"strings"
	"testing"

	"github.com/NVIDIA/go-nvml/pkg/nvml"
	"github.com/NVIDIA/go-nvml/pkg/nvml/mock"
	"github.com/NVIDIA/go-nvml/pkg/nvml/mock/dgxa100"
)

func TestNVMLProbe(t *testing.T) {
	info, err := NVML{Lib: dgxa100.New()}.Probe()
	if err != nil {
		t.Fatal(err)
	}
	if info.DriverVersion != "550.54.15" || info.CUDAVersion != "12.4" {
		t.Errorf("driver %q CUDA %q, want 550.54.15 and 12.4", info.DriverVersion, info.CUDAVersion)
	}
	if len(info.Devices) != 8 {
		t.Fatalf("got %d GPUs, want the DGX A100's 8", len(info.Devices))
	}
	if d := info.Devices[7]; d.Index != 7 || d.ComputeCapability != "8.0" || d.Name == "" {
		t.Errorf("GPU 7 = %+v", d)
	}
}

func TestNVMLProbeNoDriver(t *testing.T) {
	lib := &mock.Interface{InitFunc: func() nvml.Return { return nvml.ERROR_LIBRARY_NOT_FOUND }}
	if _, err := (NVML{Lib: lib}).Probe(); err == nil || !strings.Contains(err.Error(), "libnvidia-ml.so.1") {
		t.Errorf("err = %v, want the missing-library message", err)
	}
	lib = &mock.Interface{InitFunc: func() nvml.Return { return nvml.ERROR_DRIVER_NOT_LOADED }}
	if _, err := (NVML{Lib: lib}).Probe(); err == nil {
		t.Error("want an error when the driver is not loaded")
	}
}
