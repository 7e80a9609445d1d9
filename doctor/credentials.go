package doctor

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"path"
	"slices"
	"sort"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
)

// authFile is one place registry credentials may be stored.
type authFile struct {
	kind string // "docker" or "containers"
	path string
}

// authFiles lists the files docker and podman (and go-containerregistry's
// default keychain, which push uses) read credentials from.
func authFiles(getenv func(string) string) []authFile {
	var files []authFile
	if dir := getenv("DOCKER_CONFIG"); dir != "" {
		files = append(files, authFile{"docker", path.Join(dir, "config.json")})
	} else if home := getenv("HOME"); home != "" {
		files = append(files, authFile{"docker", path.Join(home, ".docker", "config.json")})
	}
	if f := getenv("REGISTRY_AUTH_FILE"); f != "" {
		files = append(files, authFile{"containers", f})
	}
	if dir := getenv("XDG_RUNTIME_DIR"); dir != "" {
		files = append(files, authFile{"containers", path.Join(dir, "containers", "auth.json")})
	}
	if dir := getenv("XDG_CONFIG_HOME"); dir != "" {
		files = append(files, authFile{"containers", path.Join(dir, "containers", "auth.json")})
	} else if home := getenv("HOME"); home != "" {
		files = append(files, authFile{"containers", path.Join(home, ".config", "containers", "auth.json")})
	}
	return files
}

// authConfig is the part of a docker config.json or containers auth.json
// that names registries. The secrets themselves (auths.*.auth,
// identitytoken, …) are deliberately not decoded.
type authConfig struct {
	Auths       map[string]json.RawMessage `json:"auths"`
	CredHelpers map[string]string          `json:"credHelpers"`
	CredsStore  string                     `json:"credsStore"`
}

// checkCredentials reports which registries have credentials, by name
// only. push needs them; the other commands do not, so none is a warning,
// but a file that docker and push cannot parse is a failure.
func checkCredentials(env Environment) []Check {
	var checks []Check
	seen := map[string]bool{}
	covered := map[string]bool{} // registry hosts with credentials or a helper
	var stores []string
	for _, f := range authFiles(env.Getenv) {
		if seen[f.path] {
			continue
		}
		seen[f.path] = true
		b, err := env.FS.ReadFile(f.path)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		c := Check{Name: "registry-credentials"}
		if err != nil {
			c.Status = Fail
			c.Detail = fmt.Sprintf("%s: %v", f.path, err)
			c.Hint = "make the file readable by this user, or point DOCKER_CONFIG elsewhere"
			checks = append(checks, c)
			continue
		}
		var cfg authConfig
		if err := json.Unmarshal(b, &cfg); err != nil {
			c.Status = Fail
			// The JSON error can quote file content, which may be a
			// secret, so only its kind is shown.
			c.Detail = fmt.Sprintf("%s: not valid JSON", f.path)
			c.Hint = "fix or remove the file, then log in again (docker login REGISTRY)"
			checks = append(checks, c)
			continue
		}
		for name := range cfg.Auths {
			covered[registryHost(name)] = true
		}
		for name := range cfg.CredHelpers {
			covered[registryHost(name)] = true
		}
		if cfg.CredsStore != "" {
			stores = append(stores, cfg.CredsStore)
		}
		var parts []string
		if names := registryNames(cfg); len(names) > 0 {
			parts = append(parts, strings.Join(names, ", "))
		}
		if cfg.CredsStore != "" {
			parts = append(parts, fmt.Sprintf("credential store %q for other registries", cfg.CredsStore))
		}
		if len(parts) == 0 {
			continue
		}
		c.Status = OK
		c.Detail = fmt.Sprintf("%s (%s): %s", f.path, f.kind, strings.Join(parts, "; "))
		checks = append(checks, c)
	}
	if len(checks) == 0 {
		checks = append(checks, Check{
			Name: "registry-credentials", Status: Warn,
			Detail: "no registry credentials found",
			Hint:   "nix2gpu push needs them: run `docker login REGISTRY` (or `podman login`)",
		})
	}
	return append(checks, checkPushTargets(env.Registries, covered, stores)...)
}

// checkPushTargets reports, for each registry the project pushes to,
// whether credentials for it were found.
func checkPushTargets(refs []string, covered map[string]bool, stores []string) []Check {
	var hosts []string
	seen := map[string]bool{}
	for _, ref := range refs {
		h := pushHost(ref)
		if h != "" && !seen[h] {
			seen[h] = true
			hosts = append(hosts, h)
		}
	}
	sort.Strings(hosts)
	var checks []Check
	for _, h := range hosts {
		c := Check{Name: "registry " + h}
		switch {
		case covered[h]:
			c.Status = OK
			c.Detail = "credentials found"
		case len(stores) > 0:
			// A credential store answers for any registry; whether it
			// holds this one is only known when it is asked.
			c.Status = OK
			c.Detail = fmt.Sprintf("left to credential store %q", stores[0])
		default:
			c.Status = Warn
			c.Detail = "no credentials; nix2gpu push to it will fail unless it accepts anonymous pushes"
			c.Hint = "run `docker login " + h + "`"
		}
		checks = append(checks, c)
	}
	return checks
}

// pushHost returns the registry a push target is sent to, read as push
// reads it: a target without a registry part ("acme/app") is on Docker
// Hub.
func pushHost(ref string) string {
	if r, err := name.NewRepository(ref); err == nil {
		return registryHost(r.RegistryStr())
	}
	return registryHost(ref)
}

// registryHost returns the registry part of an image reference or of a
// docker config key: "ghcr.io/acme/app" and "https://ghcr.io/v2/" both
// give "ghcr.io". Docker Hub's several names become "docker.io".
func registryHost(s string) string {
	s = strings.TrimPrefix(strings.TrimPrefix(s, "https://"), "http://")
	host, _, _ := strings.Cut(s, "/")
	host = strings.ToLower(host)
	switch host {
	case "index.docker.io", "registry-1.docker.io", "registry.hub.docker.com":
		return "docker.io"
	}
	return host
}

// registryNames lists the registries with stored credentials or a
// per-registry helper, sorted and without duplicates.
func registryNames(cfg authConfig) []string {
	set := map[string]bool{}
	for name := range cfg.Auths {
		set[name] = true
	}
	for name, helper := range cfg.CredHelpers {
		set[fmt.Sprintf("%s (helper %s)", name, helper)] = true
	}
	return slices.Sorted(maps.Keys(set))
}
