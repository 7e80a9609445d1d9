// Package cuda holds the facts nix2gpu needs about CUDA releases and NVIDIA
// GPUs: which toolkit versions the pinned nixpkgs packages (and under which
// attribute), which compute capabilities each toolkit can target, and the
// minimum driver each one needs. It is a table, with no I/O.
package cuda

import (
	"fmt"
	"strconv"
	"strings"
)

// Release is one CUDA toolkit version as nixpkgs packages it.
type Release struct {
	Version string // "12.8"
	// Attr is the nixpkgs package set, e.g. "cudaPackages_12_8".
	Attr string
	// MinCapability and MaxCapability bound the compute capabilities this
	// toolkit can compile for.
	MinCapability Capability
	MaxCapability Capability
}

// Releases lists the CUDA package sets nix2gpu offers, oldest first: the
// cudaPackages_X_Y attributes that current nixpkgs still carries.
//
// nixpkgs: pkgs/top-level/cuda-packages.nix on nixos-unstable (2026) builds
// cudaPackages_12_6, _12_8, _12_9 and _13_0 onwards; the 11.x and 12.0-12.5
// sets were removed. 13.2 and newer sets exist there too but are left out
// until their release-driver figures are confirmed (add a row here and its
// driver figures in toolkitDrivers together).
//
// Each release's drivers are in toolkitDrivers and minorCompatFloor
// (driver.go), with their sources.
// Capability bounds: CUDA 12.0 dropped Kepler (minimum 5.0); 12.8 added
// 10.0/12.0 (Blackwell), 12.9 added 10.3/12.1; CUDA 13.0 dropped Maxwell,
// Pascal and Volta (minimum 7.5) and renumbered Thor to 11.0.
var Releases = []Release{
	{"12.6", "cudaPackages_12_6", cc(5, 0), cc(9, 0)},
	{"12.8", "cudaPackages_12_8", cc(5, 0), cc(12, 0)},
	{"12.9", "cudaPackages_12_9", cc(5, 0), cc(12, 1)},
	{"13.0", "cudaPackages_13_0", cc(7, 5), cc(12, 1)},
	{"13.1", "cudaPackages_13_1", cc(7, 5), cc(12, 1)},
}

// DefaultVersion is used when a container asks for CUDA without a version.
const DefaultVersion = "12.8"

// Lookup returns the release for version ("12.8"), if nix2gpu knows it.
func Lookup(version string) (Release, bool) {
	for _, r := range Releases {
		if r.Version == version {
			return r, true
		}
	}
	return Release{}, false
}

// Versions returns the known version strings, oldest first.
func Versions() []string {
	out := make([]string, len(Releases))
	for i, r := range Releases {
		out[i] = r.Version
	}
	return out
}

// Capability is a compute capability such as 8.9.
type Capability struct{ Major, Minor int }

func cc(major, minor int) Capability { return Capability{major, minor} }

func (c Capability) String() string { return fmt.Sprintf("%d.%d", c.Major, c.Minor) }

// Less orders capabilities numerically.
func (c Capability) Less(o Capability) bool {
	return c.Major < o.Major || (c.Major == o.Major && c.Minor < o.Minor)
}

// ParseCapability parses "8.9" (and tolerates "8.9a"/"9.0a" arch-specific
// suffixes by rejecting them: nixpkgs spells those separately).
func ParseCapability(s string) (Capability, error) {
	maj, min, ok := strings.Cut(s, ".")
	if !ok {
		return Capability{}, fmt.Errorf("compute capability %q is not MAJOR.MINOR", s)
	}
	a, err1 := strconv.Atoi(maj)
	b, err2 := strconv.Atoi(min)
	if err1 != nil || err2 != nil || a < 0 || b < 0 || len(min) != 1 {
		return Capability{}, fmt.Errorf("compute capability %q is not MAJOR.MINOR", s)
	}
	return Capability{a, b}, nil
}

// KnownCapabilities are the compute capabilities NVIDIA has shipped GPUs
// with, and an example GPU of each, for messages and hints.
var KnownCapabilities = []struct {
	Cap     Capability
	Example string
}{
	{cc(5, 0), "Maxwell GTX 750"}, {cc(5, 2), "Maxwell M60 / GTX 980"}, {cc(5, 3), "Jetson Nano"},
	{cc(6, 0), "Pascal P100"}, {cc(6, 1), "Pascal P40 / GTX 1080"}, {cc(6, 2), "Jetson TX2"},
	{cc(7, 0), "Volta V100"}, {cc(7, 2), "Jetson Xavier"}, {cc(7, 5), "Turing T4 / RTX 20"},
	{cc(8, 0), "Ampere A100 / A30"}, {cc(8, 6), "Ampere A10 / A40 / RTX 30"}, {cc(8, 7), "Jetson Orin"},
	{cc(8, 9), "Ada L4 / L40 / RTX 40"}, {cc(9, 0), "Hopper H100 / H200 / GH200"},
	{cc(10, 0), "Blackwell B200 / GB200"}, {cc(10, 3), "Blackwell B300 / GB300"},
	{cc(11, 0), "Jetson Thor"}, {cc(12, 0), "Blackwell RTX 50 / RTX PRO"}, {cc(12, 1), "GB10"},
}

// IsKnownCapability reports whether some NVIDIA GPU has capability c.
func IsKnownCapability(c Capability) bool {
	for _, k := range KnownCapabilities {
		if k.Cap == c {
			return true
		}
	}
	return false
}

// Supports reports whether the release can compile for capability c.
func (r Release) Supports(c Capability) bool {
	return !c.Less(r.MinCapability) && !r.MaxCapability.Less(c)
}

// RequireCUDA is the NVIDIA_REQUIRE_CUDA value for an image built with this
// release: the container toolkit refuses to start it on a driver whose CUDA
// API version is older.
func (r Release) RequireCUDA() string { return "cuda>=" + r.Version }
