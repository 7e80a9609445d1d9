package verify

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"testing/fstest"

	"github.com/NVIDIA/go-nvml/pkg/nvml"
	"github.com/NVIDIA/go-nvml/pkg/nvml/mock"
	"github.com/NVIDIA/go-nvml/pkg/nvml/mock/dgxa100"
)

func TestProbeDGXA100(t *testing.T) {
	h, err := ProbeGPUs(dgxa100.New())
	if err != nil {
		t.Fatal(err)
	}
	if h.DriverVersion != "550.54.15" || h.CUDAVersion != "12.4" || len(h.GPUs) != 8 {
		t.Fatalf("host = %+v", h)
	}
	g := h.GPUs[3]
	if g.Index != 3 || g.ComputeCapability != "8.0" || g.Brand != "Nvidia" || g.MemoryMiB != 40960 || g.UUID == "" || g.Architecture != "Ampere" {
		t.Fatalf("gpu = %+v", g)
	}
	if err := h.Validate(); err != nil {
		t.Fatal(err)
	}
}

func TestProbeNoDriver(t *testing.T) {
	for _, ret := range []nvml.Return{nvml.ERROR_LIBRARY_NOT_FOUND, nvml.ERROR_DRIVER_NOT_LOADED, nvml.ERROR_LIB_RM_VERSION_MISMATCH} {
		lib := &mock.Interface{InitFunc: func() nvml.Return { return ret }}
		_, err := ProbeGPUs(lib)
		var nd *NoDriverError
		if !errors.As(err, &nd) || nd.Return != ret || !IsNoDriver(err) {
			t.Fatalf("%v: err = %v", ret, err)
		}
	}
}

// A driver too old for a symbol: go-nvml panics; the probe must not.
func TestProbeMissingFunctionDoesNotCrash(t *testing.T) {
	lib := &mock.Interface{
		InitFunc:                   func() nvml.Return { return nvml.SUCCESS },
		ShutdownFunc:               func() nvml.Return { return nvml.SUCCESS },
		SystemGetDriverVersionFunc: func() (string, nvml.Return) { return "470.1", nvml.SUCCESS },
	}
	if _, err := ProbeGPUs(lib); err == nil {
		t.Fatal("want error")
	}
}

func TestRealNVMLWithoutDriver(t *testing.T) {
	_, err := ProbeGPUs(nvml.New(nvml.WithLibraryPath(filepath.Join(t.TempDir(), "libnvidia-ml.so.1"))))
	if !IsNoDriver(err) {
		t.Fatalf("err = %v", err)
	}
}

func TestRuntimeProbe(t *testing.T) {
	fsys := fstest.MapFS{
		"etc/cdi/nvidia.yaml":    {Data: []byte("cdiVersion: 0.5.0")},
		"etc/docker/daemon.json": {Data: []byte(`{"runtimes":{"nvidia":{"path":"nvidia-container-runtime"}}}`)},
	}
	r := RuntimeProbe{FS: fsys, LookPath: func(n string) (string, error) {
		if n == "nvidia-ctk" {
			return "/usr/bin/nvidia-ctk", nil
		}
		return "", errors.New("not found")
	}}.Probe()
	if r.CTK != "/usr/bin/nvidia-ctk" || r.ContainerRuntime != "" || len(r.CDISpecs) != 1 || len(r.DockerRuntimes) != 1 || !r.HasNVIDIA() {
		t.Fatalf("runtime = %+v", r)
	}
	if (RuntimeProbe{FS: fstest.MapFS{}}).Probe().HasNVIDIA() {
		t.Fatal("empty host has no runtime")
	}
}

func TestHostProfilesInTestdata(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("..", "testdata", "hosts", "*.json"))
	if len(files) == 0 {
		t.Skip("no host profiles")
	}
	for _, f := range files {
		if _, err := ReadHost(f); err != nil {
			t.Error(err)
		}
	}
	bad := filepath.Join(t.TempDir(), "bad.json")
	os.WriteFile(bad, []byte(`{"driverVersion":"five","cudaVersion":"12.4","gpus":[]}`), 0o644)
	if _, err := ReadHost(bad); err == nil {
		t.Error("want error for a bad driver version")
	}
}
