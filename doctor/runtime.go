package doctor

import (
	"context"
	"encoding/json"
	"path"
	"sort"
	"strings"
)

// cdiDirs are where CDI specs live (the CDI specification's defaults).
var cdiDirs = []string{"/etc/cdi", "/var/run/cdi"}

// nvidiaTools are the NVIDIA Container Toolkit's programs; any one of them
// means the toolkit is installed.
var nvidiaTools = []string{"nvidia-container-runtime", "nvidia-ctk", "nvidia-container-cli"}

// checkNVIDIARuntime looks for the NVIDIA Container Toolkit, CDI specs for
// NVIDIA devices and an nvidia runtime registered with Docker. Without any
// of them containers start without the host driver, so GPUs are invisible.
func checkNVIDIARuntime(env Environment) Check {
	c := Check{Name: "nvidia-runtime"}
	var found []string
	for _, tool := range nvidiaTools {
		if _, err := env.Runner.LookPath(tool); err == nil {
			found = append(found, tool)
		}
	}
	for _, dir := range cdiDirs {
		entries, err := env.FS.ReadDir(dir)
		if err != nil {
			continue
		}
		for _, e := range entries {
			name := e.Name()
			ext := path.Ext(name)
			if e.IsDir() || (ext != ".yaml" && ext != ".yml" && ext != ".json") {
				continue
			}
			// NVIDIA's generator names its spec nvidia*.yaml; reading the
			// "kind: nvidia.com/gpu" line would be surer but costs a YAML
			// parse of a file that can be large.
			if strings.Contains(strings.ToLower(name), "nvidia") {
				found = append(found, "CDI spec "+path.Join(dir, name))
			}
		}
	}
	if dockerHasNVIDIARuntime(env) {
		found = append(found, "docker runtime \"nvidia\"")
	}
	if len(found) == 0 {
		c.Status = Warn
		c.Detail = "no NVIDIA Container Toolkit, CDI spec or docker nvidia runtime found"
		c.Hint = "to run GPU images here install the NVIDIA Container Toolkit and run `nvidia-ctk cdi generate --output=/etc/cdi/nvidia.yaml`"
		return c
	}
	c.Status = OK
	c.Detail = strings.Join(found, ", ")
	return c
}

// dockerHasNVIDIARuntime reads Docker's daemon.json for a runtime named
// nvidia (what `nvidia-ctk runtime configure` writes).
func dockerHasNVIDIARuntime(env Environment) bool {
	b, err := env.FS.ReadFile("/etc/docker/daemon.json")
	if err != nil {
		return false
	}
	var cfg struct {
		Runtimes       map[string]json.RawMessage `json:"runtimes"`
		DefaultRuntime string                     `json:"default-runtime"`
	}
	if json.Unmarshal(b, &cfg) != nil {
		return false
	}
	_, ok := cfg.Runtimes["nvidia"]
	return ok || cfg.DefaultRuntime == "nvidia"
}

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
