// Package doctor inspects the machine nix2gpu runs on: Nix and its
// experimental features, the NVIDIA driver and GPUs, the NVIDIA container
// runtime and CDI, a container engine, and registry credentials. It reports
// what it finds as a list of checks and never prints; the CLI does.
//
// Every probe goes through the small interfaces in Environment, so tests
// run the checks against fake commands, files and GPUs.
package doctor

import (
	"context"
	"io/fs"
	"time"
)

// Status is the outcome of one check.
type Status string

const (
	OK   Status = "ok"   // works as nix2gpu needs it
	Warn Status = "warn" // missing or odd, but not needed for every command
	Fail Status = "fail" // an environment problem that breaks nix2gpu
)

// Check is one line of the report. Detail says what was found; Hint, when
// set, says what to do about it.
type Check struct {
	Name   string `json:"name"`
	Status Status `json:"status"`
	Detail string `json:"detail"`
	Hint   string `json:"hint,omitempty"`
}

// Report is the result of Run, in a stable order.
type Report struct {
	Checks []Check `json:"checks"`
}

// Failed reports whether any check failed.
func (r Report) Failed() bool {
	for _, c := range r.Checks {
		if c.Status == Fail {
			return true
		}
	}
	return false
}

// Runner runs programs.
type Runner interface {
	// LookPath finds a program as exec.LookPath does.
	LookPath(name string) (string, error)
	// Output runs a program and returns its standard output. When it
	// fails, the error includes what it wrote to standard error.
	Output(ctx context.Context, name string, args ...string) ([]byte, error)
}

// FS reads files by absolute path.
type FS interface {
	ReadFile(name string) ([]byte, error)
	ReadDir(name string) ([]fs.DirEntry, error)
}

// GPUInfo is what the GPU probe found.
type GPUInfo struct {
	DriverVersion string
	CUDAVersion   string // highest CUDA version the driver supports, "12.4"
	Devices       []GPUDevice
}

// GPUDevice is one GPU.
type GPUDevice struct {
	Index             int
	Name              string
	ComputeCapability string // "8.0"
}

// GPUProber reads the driver and GPUs, normally through NVML.
type GPUProber interface {
	Probe() (GPUInfo, error)
}

// Environment is everything the checks may look at.
type Environment struct {
	Runner Runner
	FS     FS
	Getenv func(string) string
	GPU    GPUProber
	// Registries are the image references the project pushes to
	// (ghcr.io/acme/app); each registry gets a credentials line.
	Registries []string
	// CommandTimeout bounds each program the checks run; zero means 15s.
	CommandTimeout time.Duration
}

// Run performs every check and returns the report. It never returns an
// error: a probe that cannot run is itself a finding.
func Run(ctx context.Context, env Environment) Report {
	if env.CommandTimeout == 0 {
		env.CommandTimeout = 15 * time.Second
	}
	if env.Getenv == nil {
		env.Getenv = func(string) string { return "" }
	}
	var r Report
	r.Checks = append(r.Checks, checkNix(ctx, env)...)
	r.Checks = append(r.Checks, checkGPU(env))
	r.Checks = append(r.Checks, checkNVIDIARuntime(env))
	r.Checks = append(r.Checks, checkEngine(ctx, env))
	r.Checks = append(r.Checks, checkCredentials(env)...)
	return r
}

// output runs a program with the environment's per-command time limit.
func (env Environment) output(ctx context.Context, name string, args ...string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, env.CommandTimeout)
	defer cancel()
	return env.Runner.Output(ctx, name, args...)
}
