package verify

import (
	"strings"
	"testing"
)

// FuzzRequirements parses NVIDIA_REQUIRE_* values and capability labels as
// an image from an untrusted registry could carry them, and evaluates the
// requirements against a host. Nothing may panic.
func FuzzRequirements(f *testing.F) {
	for _, s := range []string{
		"cuda>=12.4", "cuda>=12.4 brand=tesla,driver>=470,driver<471", "cuda>=12.8 arch=8.9", "cuda>=", ">=12", "cuda>=12.4,,", "  ",
		"brand=", "driver>=999999999999999999999", "arch=8.9+ptx", "cuda>=1.2.3.4.5", "cuda>=12.4 " + strings.Repeat("x,", 50),
		"8.9,9.0+PTX", "sm_89;compute_90", "9.0a", "", "99999999999999.9",
	} {
		f.Add(s)
	}
	host := HostValues{CUDA: "12.4", Driver: "550.54.15"}
	f.Fuzz(func(t *testing.T, s string) {
		_, _ = ParseCapabilities(s)
		r, _ := ParseRequirement("NVIDIA_REQUIRE_CUDA", s)
		_ = r.Evaluate(host)
		env := map[string]string{"NVIDIA_REQUIRE_CUDA": s, "NVIDIA_REQUIRE_X": s, "CUDA_VERSION": s}
		reqs, _, _ := Requirements(env)
		for _, q := range reqs {
			_ = q.Evaluate(host)
		}
		_ = IsLegacyImage(env)
	})
}
