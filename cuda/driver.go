package cuda

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Toolkit pairs a CUDA toolkit minor release with the Linux driver it
// shipped with. Unlike Releases, this covers every toolkit an image may
// have been built with, also ones nixpkgs no longer packages: verify reads
// images built elsewhere.
type Toolkit struct {
	Version string // "12.4"
	Driver  string // driver of the GA release, "550.54.14"
}

// toolkitDrivers is NVIDIA's "CUDA Toolkit and Corresponding Driver
// Versions" table (CUDA Toolkit release notes, Linux x86_64, GA of each
// minor release; 11.0 is the 11.0.2 GA). How well each row is confirmed:
// 11.0-11.4 against a copy of the release-notes table; 12.0 and the 12.x
// family floor against the CUDA compatibility guide; 13.0 (580.65.06) and
// 13.1 (590.44.01) against the versions of NVIDIA's cuda-compat-impl
// packages; 12.4-12.9 agree with a second compiled table; 11.5-11.8 and
// 12.1-12.3 are the release-notes values as recorded, not re-checked.
// 12.7 was never released.
var toolkitDrivers = []Toolkit{
	{"11.0", "450.51.05"}, {"11.1", "455.23"}, {"11.2", "460.27.03"},
	{"11.3", "465.19.01"}, {"11.4", "470.42.01"}, {"11.5", "495.29.05"},
	{"11.6", "510.39.01"}, {"11.7", "515.43.04"}, {"11.8", "520.61.05"},
	{"12.0", "525.60.13"}, {"12.1", "530.30.02"}, {"12.2", "535.54.03"},
	{"12.3", "545.23.06"}, {"12.4", "550.54.14"}, {"12.5", "555.42.02"},
	{"12.6", "560.28.03"}, {"12.8", "570.26"}, {"12.9", "575.51.03"},
	{"13.0", "580.65.06"}, {"13.1", "590.44.01"},
}

// Toolkits returns the toolkit/driver table, oldest first.
func Toolkits() []Toolkit { return append([]Toolkit(nil), toolkitDrivers...) }

// minorCompatFloor is the oldest driver that runs any toolkit of a major
// family through minor version compatibility (CUDA compatibility guide,
// table "CUDA Toolkit 11.x, 12.x, and 13.x Driver Version Ranges"; 11.x
// needs the 450.80.02 recommended driver, not 11.0's own 450.51).
var minorCompatFloor = map[int]string{11: "450.80.02", 12: "525.60.13", 13: "580.65.06"}

// DriverNeeds says which drivers can run code built with one CUDA version.
type DriverNeeds struct {
	Version string // the CUDA version asked about, "12.8"
	// Full is the driver the toolkit shipped with: everything works,
	// including JIT of the toolkit's own PTX.
	Full string
	// MinorCompat is the family floor: code built with this toolkit runs
	// on it with minor version compatibility (no newer-driver features,
	// no JIT of PTX newer than the driver).
	MinorCompat string
	// Known is false when the version is not in the table; Full is then
	// empty and MinorCompat comes from the major family alone.
	Known bool
}

// DriverFor returns what a driver must be to run code built with CUDA
// version v ("12.8", "12.8.1" and "12" are accepted).
func DriverFor(v string) (DriverNeeds, error) {
	maj, min, err := majorMinor(v)
	if err != nil {
		return DriverNeeds{}, err
	}
	mm := fmt.Sprintf("%d.%d", maj, min)
	n := DriverNeeds{Version: mm, MinorCompat: minorCompatFloor[maj]}
	for _, t := range toolkitDrivers {
		if t.Version == mm {
			n.Full, n.Known = t.Driver, true
		}
	}
	return n, nil
}

// NewestFullCUDA returns the newest CUDA toolkit whose release driver is
// not newer than driver: what the host runs without relying on minor
// version compatibility. Empty when the driver predates the table.
func NewestFullCUDA(driver string) string {
	best := ""
	for _, t := range toolkitDrivers {
		if c, err := CompareVersions(t.Driver, driver); err == nil && c <= 0 {
			best = t.Version
		}
	}
	return best
}

// CUDAFromDriverAPI turns the integer NVML reports for the driver's CUDA
// API version (nvmlSystemGetCudaDriverVersion: 1000*major + 10*minor) into
// "12.4".
func CUDAFromDriverAPI(v int) string {
	return fmt.Sprintf("%d.%d", v/1000, (v%1000)/10)
}

// ForwardCompatBranches are the data-center driver branches NVIDIA supports
// forward compatibility (the cuda-compat-X-Y package) on: long-term support
// and production branches only, never new-feature branches. Source: NVIDIA
// data center driver documentation, "Supported Drivers and CUDA Toolkit
// Versions" (driver docs 615 and 620): R535 LTSB, R580 LTSB, R595 PB, R620
// LTSB. R470 was an LTSB that is now end of life.
var ForwardCompatBranches = []int{535, 580, 595, 620}

// DriverBranch returns the major number of a driver version ("550.54.15" ->
// 550).
func DriverBranch(driver string) (int, bool) {
	head, _, _ := strings.Cut(driver, ".")
	n, err := strconv.Atoi(head)
	return n, err == nil
}

// IsForwardCompatBranch reports whether forward compatibility is supported
// on the driver's branch.
func IsForwardCompatBranch(driver string) bool {
	b, ok := DriverBranch(driver)
	return ok && slices.Contains(ForwardCompatBranches, b)
}

// IsDataCenterBrand reports whether an NVML brand name is a data-center
// GPU, where forward compatibility applies. NVML reports "Tesla" for older
// data-center parts and "NVIDIA" for Ampere and later ones (A100, H100).
// Some professional RTX SKUs are also supported; they are not claimed here.
func IsDataCenterBrand(brand string) bool {
	switch strings.ToLower(brand) {
	case "tesla", "nvidia", "datacenter":
		return true
	}
	return false
}

// CompareVersions compares dotted numeric versions component by component,
// the way the NVIDIA container toolkit does: "12.4" == "12.4.0",
// "550.54.15" > "550.54.14". Anything but digits and dots is an error.
func CompareVersions(a, b string) (int, error) {
	pa, err := versionParts(a)
	if err != nil {
		return 0, err
	}
	pb, err := versionParts(b)
	if err != nil {
		return 0, err
	}
	return CompareParts(pa, pb), nil
}

// CompareParts compares parsed version components numerically, a missing
// component counting as 0 ("12.4" == "12.4.0"). It is the ordering of
// CompareVersions, for callers that read versions by other rules (the
// container runtime's requirement DSL).
func CompareParts[T int | uint64](a, b []T) int {
	for i := 0; i < len(a) || i < len(b); i++ {
		var x, y T
		if i < len(a) {
			x = a[i]
		}
		if i < len(b) {
			y = b[i]
		}
		if x != y {
			if x < y {
				return -1
			}
			return 1
		}
	}
	return 0
}

// ValidVersion reports whether s is a dotted numeric version.
func ValidVersion(s string) bool {
	_, err := versionParts(s)
	return err == nil
}

func versionParts(s string) ([]int, error) {
	if s == "" {
		return nil, fmt.Errorf("empty version")
	}
	fields := strings.Split(s, ".")
	out := make([]int, len(fields))
	for i, f := range fields {
		if f == "" {
			return nil, fmt.Errorf("version %q has an empty component", s)
		}
		for _, r := range f {
			if r < '0' || r > '9' {
				return nil, fmt.Errorf("version %q is not digits and dots", s)
			}
		}
		n, err := strconv.Atoi(f)
		if err != nil {
			return nil, fmt.Errorf("version %q: %w", s, err)
		}
		out[i] = n
	}
	return out, nil
}

func majorMinor(v string) (int, int, error) {
	p, err := versionParts(v)
	if err != nil {
		return 0, 0, fmt.Errorf("CUDA version: %w", err)
	}
	if len(p) == 1 {
		return p[0], 0, nil
	}
	return p[0], p[1], nil
}

// MinCapabilityFor returns the oldest compute capability a CUDA major
// version still supports: 12.x dropped Kepler (3.x), 13.x dropped Maxwell,
// Pascal and Volta (CUDA 12.0 and 13.0 release notes).
func MinCapabilityFor(cudaVersion string) (Capability, bool) {
	maj, _, err := majorMinor(cudaVersion)
	if err != nil {
		return Capability{}, false
	}
	switch {
	case maj >= 13:
		return cc(7, 5), true
	case maj == 12:
		return cc(5, 0), true
	case maj == 11:
		return cc(3, 5), true
	}
	return Capability{}, false
}

// Label keys nix2gpu writes into images so verify can read the build's
// CUDA settings back without the project file.
const (
	// LabelVersion holds the CUDA version, "12.8".
	LabelVersion = "org.nix2gpu.cuda.version"
	// LabelCapabilities holds the compiled compute capabilities,
	// comma-separated ("8.9,9.0"). An entry may carry "+PTX" when PTX for
	// that capability is embedded too ("9.0+PTX").
	LabelCapabilities = "org.nix2gpu.cuda.capabilities"
	// LabelForwardCompat is "true" when nixpkgs' cudaForwardCompat put PTX
	// for the highest capability into the build (its default).
	LabelForwardCompat = "org.nix2gpu.cuda.forward-compat"
)
