package doctor

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// Flakes arrived in Nix 2.4; older versions cannot evaluate the generated
// flake at all.
const minNixMajor, minNixMinor = 2, 4

var versionRE = regexp.MustCompile(`(\d+)\.(\d+)(?:\.(\d+))?`)

// checkNix reports the Nix version and whether the experimental features
// that flakes need are enabled.
func checkNix(ctx context.Context, env Environment) []Check {
	if _, err := env.Runner.LookPath("nix"); err != nil {
		return []Check{{
			Name: "nix", Status: Fail,
			Detail: "nix not found on PATH",
			Hint:   "install Nix 2.4 or later (https://nixos.org/download) and make sure `nix` is on PATH",
		}}
	}
	out, err := env.output(ctx, "nix", "--version")
	if err != nil {
		return []Check{{
			Name: "nix", Status: Fail,
			Detail: fmt.Sprintf("nix --version failed: %v", err),
			Hint:   "check the Nix installation (is the daemon socket readable?)",
		}}
	}
	line := strings.TrimSpace(firstLine(out))
	m := versionRE.FindStringSubmatch(line)
	if m == nil {
		return []Check{{
			Name: "nix", Status: Warn,
			Detail: fmt.Sprintf("cannot read the version from %q", line),
		}}
	}
	major, _ := strconv.Atoi(m[1])
	minor, _ := strconv.Atoi(m[2])
	version := m[0]
	nix := Check{Name: "nix", Status: OK, Detail: line}
	if major < minNixMajor || (major == minNixMajor && minor < minNixMinor) {
		nix.Status = Fail
		nix.Hint = fmt.Sprintf("Nix %s has no flakes; upgrade to %d.%d or later", version, minNixMajor, minNixMinor)
		return []Check{nix}
	}
	return []Check{nix, checkNixFeatures(ctx, env)}
}

// checkNixFeatures reads experimental-features from the effective Nix
// configuration. Newer Nix has `nix config show`; older has `nix
// show-config`, which itself needs nix-command, so when that is refused
// nix-command is known to be off and the configuration is read again with
// it enabled for this one call.
func checkNixFeatures(ctx context.Context, env Environment) Check {
	c := Check{Name: "nix-features"}
	nixCommand := true
	out, err := env.output(ctx, "nix", "config", "show")
	if err != nil {
		out, err = env.output(ctx, "nix", "show-config")
	}
	if err != nil && strings.Contains(err.Error(), "nix-command") {
		nixCommand = false
		out, err = env.output(ctx, "nix", "--extra-experimental-features", "nix-command", "show-config")
	}
	if err != nil {
		c.Status = Warn
		c.Detail = fmt.Sprintf("cannot read the Nix configuration: %v", err)
		return c
	}
	features := parseFeatures(out)
	if !nixCommand {
		delete(features, "nix-command") // enabled by the probe itself
	}
	var missing []string
	for _, f := range []string{"nix-command", "flakes"} {
		if !features[f] {
			missing = append(missing, f)
		}
	}
	if len(missing) == 0 {
		c.Status = OK
		c.Detail = "nix-command and flakes are enabled"
		return c
	}
	c.Status = Warn
	c.Detail = "not enabled: " + strings.Join(missing, ", ")
	c.Hint = "add `experimental-features = nix-command flakes` to ~/.config/nix/nix.conf (or /etc/nix/nix.conf); " +
		"until then run nix on the generated flake with --extra-experimental-features 'nix-command flakes'"
	return c
}

// parseFeatures finds the experimental-features line of `nix show-config`
// output ("name = value" lines).
func parseFeatures(out []byte) map[string]bool {
	features := map[string]bool{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 0, 64*1024), 1024*1024)
	for sc.Scan() {
		name, value, ok := strings.Cut(sc.Text(), "=")
		if !ok || strings.TrimSpace(name) != "experimental-features" {
			continue
		}
		for _, f := range strings.Fields(value) {
			features[f] = true
		}
	}
	return features
}

func firstLine(b []byte) string {
	s := string(b)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}
