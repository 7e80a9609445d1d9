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
	for _, alt := range strings.Split(value, " ") {
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
	// The operator is the whole run of operator characters, which must
	// be one of the six exactly: "cuda>>12" and "cuda==12" are invalid.
	n := 0
	for n < len(rest) && strings.IndexByte("=!<>", rest[n]) >= 0 {
		n++
	}
	op := Op(rest[:n])
	switch op {
	case OpEq, OpNe, OpLt, OpLe, OpGt, OpGe:
	default:
		return Term{}, fmt.Errorf("%q: %q is not an operator (=, !=, <, <=, >, >=)", s, string(op))
	}
	val := rest[n:]
	if val == "" {
		return Term{}, fmt.Errorf("%q has no value", s)
	}
	switch key {
	case "cuda", "driver", "arch":
		if _, ok := dslVersion(val); !ok {
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
// Syntax errors are returned alongside all the requirements, malformed
// ones included (see Requirement.Evaluate); a *LegacyVersionError means
// the runtime refuses the image outright.
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
		// A malformed requirement is still returned: the runtime only
		// trips over a bad term when evaluation reaches it.
		r, err := ParseRequirement(n, env[n])
		if err != nil {
			errs = append(errs, err)
		}
		reqs = append(reqs, r)
	}
	if IsLegacyImage(env) {
		v := env["CUDA_VERSION"]
		mm, ok := legacyMajorMinor(v)
		if !ok {
			errs = append(errs, &LegacyVersionError{Value: v})
		} else {
			reqs = append(reqs, Requirement{
				Name: "NVIDIA_REQUIRE_CUDA", Raw: "cuda>=" + mm, Implicit: true,
				Alternatives: [][]Term{{{Key: "cuda", Op: OpGe, Value: mm}}},
			})
		}
	}
	return reqs, false, errs
}

// LegacyVersionError is a legacy image whose CUDA_VERSION the runtime
// cannot read: it refuses every container from the image.
type LegacyVersionError struct{ Value string }

func (e *LegacyVersionError) Error() string {
	return fmt.Sprintf("CUDA_VERSION %q is not a version, so the runtime cannot form the implied cuda>= requirement", e.Value)
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

// Outcome is the result of checking one requirement on one GPU.
type Outcome struct {
	Satisfied bool
	// Invalid is set when the runtime would stop at a malformed term
	// ("invalid expression"); it only trips on terms it reaches.
	Invalid error
	// Failed is the last term that did not hold, as the runtime reports
	// it ("unsatisfied condition: ...").
	Failed string
}

// Evaluate checks the requirement the way libnvidia-container's DSL does:
// alternatives left to right, the first one whose terms all hold wins;
// inside an alternative the first failing term ends it. Terms are parsed
// only when reached, so a malformed term after a satisfied alternative
// (or after a failing term) goes unnoticed, as it does at run time.
func (r Requirement) Evaluate(h HostValues) Outcome {
	satisfied := true
	failed := ""
	for _, alt := range strings.Split(r.Raw, " ") {
		if alt == "" {
			continue
		}
		allHold := true
		for _, raw := range strings.Split(alt, ",") {
			if raw == "" {
				continue
			}
			t, err := parseTerm(raw)
			if err != nil {
				return Outcome{Invalid: err}
			}
			ok, valid := t.eval(h)
			if !valid {
				return Outcome{Invalid: fmt.Errorf("%q cannot be compared", raw)}
			}
			if !ok {
				allHold = false
				failed = t.String()
				break
			}
		}
		satisfied = allHold
		if allHold {
			break
		}
	}
	return Outcome{Satisfied: satisfied, Failed: failed}
}

// holds reports whether t is true on h; invalid comparisons are false.
func (t Term) holds(h HostValues) bool {
	ok, valid := t.eval(h)
	return ok && valid
}

// eval compares the host's value with the term's. valid is false where the
// runtime reports an invalid expression (a value that is not a version,
// brand with an ordering operator). A value the host cannot provide (no
// GPU for arch or brand) makes the term true, as in libnvidia-container.
func (t Term) eval(h HostValues) (ok, valid bool) {
	var have string
	switch t.Key {
	case "cuda":
		have = h.CUDA
	case "driver":
		have = h.Driver
	case "arch":
		if h.GPU == nil {
			return true, true
		}
		have = h.GPU.ComputeCapability
	case "brand":
		if h.GPU == nil {
			return true, true
		}
		eq := strings.EqualFold(h.GPU.Brand, t.Value)
		switch t.Op {
		case OpEq:
			return eq, true
		case OpNe:
			return !eq, true
		}
		return false, false
	default:
		return false, false
	}
	if have == "" {
		return true, true
	}
	a, okA := dslVersion(have)
	b, okB := dslVersion(t.Value)
	if !okA || !okB {
		return false, false
	}
	c := cuda.CompareParts(a, b)
	switch t.Op {
	case OpEq:
		return c == 0, true
	case OpNe:
		return c != 0, true
	case OpLt:
		return c < 0, true
	case OpLe:
		return c <= 0, true
	case OpGt:
		return c > 0, true
	case OpGe:
		return c >= 0, true
	}
	return false, false
}

// dslVersion reads a version as the runtime's DSL does: digits and dots
// only, starting with a digit; runs of dots separate numbers ("12..4" is
// 12.4, a trailing dot is ignored).
func dslVersion(s string) ([]uint64, bool) {
	if s == "" || s[0] < '0' || s[0] > '9' {
		return nil, false
	}
	var out []uint64
	for _, f := range strings.Split(s, ".") {
		if f == "" {
			continue
		}
		n, err := strconv.ParseUint(f, 10, 64)
		if err != nil {
			return nil, false
		}
		out = append(out, n)
	}
	return out, true
}
