package compiler

import (
	"strings"

	"github.com/nix2gpu/nix2gpu/cuda"
)

// Host paths where the NVIDIA container runtime mounts the driver's
// libraries and tools. They are not in the image; LD_LIBRARY_PATH and PATH
// must cover them so the injected libcuda.so and nvidia-smi are found.
const (
	nvidiaLib64 = "/usr/local/nvidia/lib64"
	nvidiaLib   = "/usr/local/nvidia/lib"
	nvidiaBin   = "/usr/local/nvidia/bin"
)

// multiarchLibDir is the Debian-style library directory the runtime's
// ldcache-based injection uses on each system.
func multiarchLibDir(system string) string {
	switch system {
	case "aarch64-linux":
		return "/usr/lib/aarch64-linux-gnu"
	case "x86_64-linux":
		return "/usr/lib/x86_64-linux-gnu"
	}
	return ""
}

// basePath is the PATH of every image: the user's profiles first (where
// home-manager and nix profile installs land), then the FHS directories the
// image's packages are linked into.
func basePath(home string) []string {
	return []string{
		home + "/.nix-profile/bin",
		"/nix/var/nix/profiles/default/bin",
		"/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin",
	}
}

// gpuEnv is the environment generated for a container, before the user's
// env is merged over it. CPU-only containers get only PATH.
func gpuEnv(ct *Container, systems []string) []EnvVar {
	path := basePath(homeDir(ct.User))
	if ct.CUDA == nil {
		return []EnvVar{{"PATH", strings.Join(path, ":")}}
	}
	libs := []string{nvidiaLib64, nvidiaLib, "/usr/lib64"}
	for _, s := range systems {
		if d := multiarchLibDir(s); d != "" {
			libs = append(libs, d)
		}
	}
	return []EnvVar{
		{"CUDA_VERSION", ct.CUDA.Version},
		{"LD_LIBRARY_PATH", strings.Join(libs, ":")},
		{"NVIDIA_DRIVER_CAPABILITIES", "compute,utility"},
		{"NVIDIA_REQUIRE_CUDA", ct.CUDA.RequireCUDA},
		{"NVIDIA_VISIBLE_DEVICES", "all"},
		{"PATH", strings.Join(append(path, nvidiaBin), ":")},
	}
}

// gpuLabels are the labels generated for a container, before the user's
// labels are merged over them.
func gpuLabels(ct *Container) []Label {
	if ct.CUDA == nil {
		return nil
	}
	ls := []Label{
		{"com.nvidia.cuda.version", ct.CUDA.Version},
		{"com.nvidia.volumes.needed", "nvidia_driver"},
		{cuda.LabelVersion, ct.CUDA.Version},
	}
	if len(ct.CUDA.Capabilities) > 0 {
		ls = append(ls, Label{cuda.LabelCapabilities, strings.Join(ct.CUDA.Capabilities, ",")})
	}
	return ls
}
