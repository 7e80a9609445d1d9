package verify

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/nix2gpu/nix2gpu/cuda"
)

// The NVIDIA container toolkit lets an image state what it needs in
// NVIDIA_REQUIRE_* variables. This file evaluates them the way the
// toolkit's legacy hook (libnvidia-container's `--require` DSL, as called
// by nvidia-container-toolkit v1.x) does:
//
//   - every NVIDIA_REQUIRE_* variable is a separate constraint; all must hold;
//   - inside one, space-separated alternatives are ORed, comma-separated
//     terms inside an alternative are ANDed;
//   - a term is KEY OP VALUE with keys cuda, driver, arch, brand (case
//     does not matter) and ops = != < <= > >=;
//   - versions are dotted numbers compared numerically ("12.4" == "12.4.0");
//   - brand compares case-insensitively and only with = and !=;
//   - arch and brand are per GPU; with no GPU visible they count as true;
//   - NVIDIA_DISABLE_REQUIRE (strconv.ParseBool true) turns checking off;
//   - NVIDIA_REQUIRE_JETPACK is not a constraint (Jetson only, skipped);
//   - an image with a non-empty CUDA_VERSION and an empty or missing
//     NVIDIA_REQUIRE_CUDA (a "legacy" image) gets an implicit
//     cuda>=MAJOR.MINOR; a CUDA_VERSION that is not a version then makes
//     the runtime refuse the container.
//
// The requirement collection follows nvidia-container-toolkit's
// internal/config/image (CUDA.GetRequirements, IsLegacy, legacyVersion);
// the term grammar and comparisons follow libnvidia-container's DSL.
//
// The toolkit's CDI modes (the default since toolkit 1.18) do not check
// these at all, which is why nix2gpu checks them before a workload runs.

// Op is a comparison operator of a requirement term.
type Op string

const (
	OpEq Op = "="
	OpNe Op = "!="
	OpLt Op = "<"
	OpLe Op = "<="
	OpGt Op = ">"
	OpGe Op = ">="
)

// Term is one KEY OP VALUE comparison.
type Term struct {
	Key   string // cuda, driver, arch, brand (lower case)
	Op    Op
	Value string
}

func (t Term) String() string { return t.Key + string(t.Op) + t.Value }

// Requirement is one parsed NVIDIA_REQUIRE_* variable: alternatives (OR)
// of conjunctions (AND).
type Requirement struct {
	Name string // the variable, "NVIDIA_REQUIRE_CUDA"
	Raw  string
	// Implicit is true for the cuda>=X.Y derived from CUDA_VERSION.
	Implicit     bool
	Alternatives [][]Term
}

// ParseRequirement parses the value of one NVIDIA_REQUIRE_* variable.
func ParseRequirement(name, value string) (Requirement, error) {
	r := Requirement{Name: name, Raw: value}
	for _, alt := range strings.Fields(value) {
		var terms []Term
		for _, raw := range strings.Split(alt, ",") {
			if raw == "" {
				continue
			}
			t, err := parseTerm(raw)
			if err != nil {
				return r, fmt.Errorf("%s: %w", name, err)
			}
			terms = append(terms, t)
		}
		if len(terms) > 0 {
			r.Alternatives = append(r.Alternatives, terms)
		}
	}
	return r, nil
}

func parseTerm(s string) (Term, error) {
	i := strings.IndexAny(s, "=!<>")
	if i <= 0 {
		return Term{}, fmt.Errorf("%q is not KEY OP VALUE (keys: cuda, driver, arch, brand)", s)
	}
	key := strings.ToLower(s[:i])
	rest := s[i:]
	var op Op
	for _, o := range []Op{OpNe, OpLe, OpGe, OpEq, OpLt, OpGt} {
		if strings.HasPrefix(rest, string(o)) {
			op = o
			break
		}
	}
	if op == "" {
		return Term{}, fmt.Errorf("%q has no operator (=, !=, <, <=, >, >=)", s)
	}
	val := rest[len(op):]
	if val == "" {
		return Term{}, fmt.Errorf("%q has no value", s)
	}
	if strings.ContainsAny(val, "=!<>") {
		return Term{}, fmt.Errorf("%q has more than one operator", s)
	}
	switch key {
	case "cuda", "driver", "arch":
		if !cuda.ValidVersion(val) {
			return Term{}, fmt.Errorf("%q: %q is not a version (digits and dots)", s, val)
		}
	case "brand":
		if op != OpEq && op != OpNe {
			return Term{}, fmt.Errorf("%q: brand only compares with = or !=", s)
		}
	default:
		return Term{}, fmt.Errorf("%q: unknown key %q (want cuda, driver, arch or brand)", s, key)
	}
	return Term{Key: key, Op: op, Value: val}, nil
}

// Requirements reads every NVIDIA_REQUIRE_* from an image environment.
// disabled is true when NVIDIA_DISABLE_REQUIRE turns the checks off.
// Parse errors are returned alongside the requirements that did parse.
func Requirements(env map[string]string) (reqs []Requirement, disabled bool, errs []error) {
	if v, ok := env["NVIDIA_DISABLE_REQUIRE"]; ok {
		if b, err := strconv.ParseBool(v); err == nil && b {
			return nil, true, nil
		}
	}
	var names []string
	for k := range env {
		if strings.HasPrefix(k, "NVIDIA_REQUIRE_") && !strings.HasPrefix(k, "NVIDIA_REQUIRE_JETPACK") {
			names = append(names, k)
		}
	}
	sort.Strings(names)
	for _, n := range names {
		r, err := ParseRequirement(n, env[n])
		if err != nil {
			errs = append(errs, err)
			continue
		}
		reqs = append(reqs, r)
	}
	if IsLegacyImage(env) {
		v := env["CUDA_VERSION"]
		mm, ok := legacyMajorMinor(v)
		if !ok {
			errs = append(errs, fmt.Errorf("CUDA_VERSION %q is not a version, so the implied cuda>= requirement cannot be formed", v))
		} else {
			reqs = append(reqs, Requirement{
				Name: "NVIDIA_REQUIRE_CUDA", Raw: "cuda>=" + mm, Implicit: true,
				Alternatives: [][]Term{{{Key: "cuda", Op: OpGe, Value: mm}}},
			})
		}
	}
	return reqs, false, errs
}

// IsLegacyImage reports what the toolkit calls a legacy CUDA image:
// CUDA_VERSION set, NVIDIA_REQUIRE_CUDA empty or missing. Such images get
// an implied cuda>= requirement, and all GPUs when NVIDIA_VISIBLE_DEVICES
// is unset.
func IsLegacyImage(env map[string]string) bool {
	return env["CUDA_VERSION"] != "" && env["NVIDIA_REQUIRE_CUDA"] == ""
}

// legacyMajorMinor reads MAJOR.MINOR from CUDA_VERSION the way the toolkit
// does: a semantic version with an optional leading v, MAJOR.MINOR or
// MAJOR.MINOR.PATCH ("12.8", "12.8.90").
func legacyMajorMinor(v string) (string, bool) {
	parts := strings.Split(strings.TrimPrefix(v, "v"), ".")
	if len(parts) < 2 || len(parts) > 3 {
		return "", false
	}
	for _, p := range parts {
		if p == "" || !cuda.ValidVersion(p) || (len(p) > 1 && p[0] == '0') {
			return "", false
		}
	}
	return parts[0] + "." + parts[1], true
}

func majorMinorString(v string) (string, bool) {
	parts := strings.Split(v, ".")
	if len(parts) < 2 || !cuda.ValidVersion(parts[0]+"."+parts[1]) {
		return "", false
	}
	return parts[0] + "." + parts[1], true
}

// HostValues are what requirements compare against for one GPU. GPU is
// nil when no GPU is visible.
type HostValues struct {
	CUDA   string // driver CUDA API version, "12.4"
	Driver string // "550.54.15"
	GPU    *GPU
}

// Satisfied reports whether one alternative of the requirement holds, and
// which one. Terms the host cannot answer (unknown driver) fail.
func (r Requirement) Satisfied(h HostValues) (bool, []Term) {
	for _, alt := range r.Alternatives {
		ok := true
		for _, t := range alt {
			if !t.holds(h) {
				ok = false
				break
			}
		}
		if ok {
			return true, alt
		}
	}
	return len(r.Alternatives) == 0, nil
}

func (t Term) holds(h HostValues) bool {
	var have string
	switch t.Key {
	case "cuda":
		have = h.CUDA
	case "driver":
		have = h.Driver
	case "arch":
		if h.GPU == nil {
			return true
		}
		have = h.GPU.ComputeCapability
	case "brand":
		if h.GPU == nil {
			return true
		}
		eq := strings.EqualFold(h.GPU.Brand, t.Value)
		if t.Op == OpEq {
			return eq
		}
		return !eq
	}
	c, err := cuda.CompareVersions(have, t.Value)
	if err != nil {
		return false
	}
	switch t.Op {
	case OpEq:
		return c == 0
	case OpNe:
		return c != 0
	case OpLt:
		return c < 0
	case OpLe:
		return c <= 0
	case OpGt:
		return c > 0
	case OpGe:
		return c >= 0
	}
	return false
}
