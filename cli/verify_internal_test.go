package cli

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/NVIDIA/go-nvml/pkg/nvml/mock/dgxa100"

	"github.com/nix2gpu/nix2gpu/verify"
)

// The profile `verify host --format json` writes is what --host reads.
func TestHostProfileRoundTrip(t *testing.T) {
	h, err := verify.ProbeGPUs(dgxa100.New())
	if err != nil {
		t.Fatal(err)
	}
	h.Name = "dgx"
	h.Runtime = &verify.Runtime{CTK: "/usr/bin/nvidia-ctk"}
	var buf bytes.Buffer
	if err := writeJSON(&buf, h); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"driverVersion": "550.54.15"`, `"cudaVersion": "12.4"`, `"computeCapability": "8.0"`, `"memoryMiB": 40960`, `"brand": "Nvidia"`} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("profile lacks %s:\n%s", want, buf.String())
		}
	}
	file := filepath.Join(t.TempDir(), "dgx.json")
	if err := os.WriteFile(file, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	back, err := verify.ReadHost(file)
	if err != nil {
		t.Fatal(err)
	}
	if len(back.GPUs) != 8 || back.GPUs[7].Index != 7 || back.Runtime == nil || !back.Runtime.HasNVIDIA() {
		t.Fatalf("read back %+v", back)
	}

	var text bytes.Buffer
	writeHostText(&text, h)
	for _, want := range []string{"driver 550.54.15, CUDA 12.4", "Mock NVIDIA A100-SXM4-40GB", "40960 MiB", "nvidia-ctk: /usr/bin/nvidia-ctk", "CDI specs: not found"} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("text lacks %q:\n%s", want, text.String())
		}
	}
}
