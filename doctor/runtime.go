package doctor

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"sort"
	"strings"

	"github.com/nix2gpu/nix2gpu/verify"
)

// checkNVIDIARuntime looks for the NVIDIA Container Toolkit, CDI specs and
// an nvidia runtime registered with Docker, with the probe `nix2gpu verify
// host` uses. Without any of them containers start without the host
// driver, so GPUs are invisible inside them.
func checkNVIDIARuntime(env Environment) Check {
	c := Check{Name: "nvidia-runtime"}
	rt := verify.RuntimeProbe{FS: rootFS{env.FS}, LookPath: env.Runner.LookPath}.Probe()
	var found []string
	for _, p := range []string{rt.ContainerRuntime, rt.CTK} {
		if p != "" {
			found = append(found, p)
		}
	}
	for _, spec := range rt.CDISpecs {
		found = append(found, "CDI spec "+spec)
	}
	for _, r := range rt.DockerRuntimes {
		if strings.Contains(r, "nvidia") {
			found = append(found, fmt.Sprintf("docker runtime %q", r))
		}
	}
	if !rt.HasNVIDIA() || len(found) == 0 {
		c.Status = Warn
		c.Detail = "no NVIDIA Container Toolkit, CDI spec or docker nvidia runtime found"
		c.Hint = "to run GPU images here install the NVIDIA Container Toolkit and run `nvidia-ctk cdi generate --output=/etc/cdi/nvidia.yaml`"
		return c
	}
	c.Status = OK
	c.Detail = strings.Join(found, ", ")
	return c
}

// rootFS presents an FS of absolute paths as an fs.FS rooted at "/", the
// form verify's runtime probe reads. Only ReadFile and ReadDir are used.
type rootFS struct{ fsys FS }

func (r rootFS) Open(name string) (fs.File, error) {
	return nil, &fs.PathError{Op: "open", Path: name, Err: errors.ErrUnsupported}
}

func (r rootFS) ReadFile(name string) ([]byte, error) { return r.fsys.ReadFile("/" + name) }

func (r rootFS) ReadDir(name string) ([]fs.DirEntry, error) { return r.fsys.ReadDir("/" + name) }

// checkEngine looks for a container engine to run images locally. push
// works without one, so its absence is a warning.
func checkEngine(ctx context.Context, env Environment) Check {
	c := Check{Name: "container-engine"}
	var found []string
	for _, engine := range []string{"docker", "podman"} {
		if _, err := env.Runner.LookPath(engine); err != nil {
			continue
		}
		out, err := env.output(ctx, engine, "--version")
		if err != nil {
			found = append(found, engine+" (--version failed)")
			continue
		}
		found = append(found, strings.TrimSpace(firstLine(out)))
	}
	sort.Strings(found)
	if len(found) == 0 {
		c.Status = Warn
		c.Detail = "neither docker nor podman found"
		c.Hint = "not needed for build and push; install docker or podman to run images on this machine"
		return c
	}
	c.Status = OK
	c.Detail = strings.Join(found, ", ")
	return c
}
