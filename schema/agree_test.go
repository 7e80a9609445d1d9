package schema

import (
	"strings"
	"sync"
	"testing"

	"github.com/nix2gpu/nix2gpu/config"
	"github.com/nix2gpu/nix2gpu/schema/internal/cueschema"
)

// The CUE schema, compiled once for the tests that compare with it.
var (
	cueOnce   sync.Once
	cueSchema *cueschema.Schema
	cueErr    error
)

func loadCUE(t testing.TB) *cueschema.Schema {
	t.Helper()
	cueOnce.Do(func() { cueSchema, cueErr = cueschema.Load() })
	if cueErr != nil {
		t.Fatal(cueErr)
	}
	return cueSchema
}

// cueAccepts unifies the whole document with #Config, the way `cue vet`
// would, bypassing the validation tree.
func cueAccepts(t testing.TB, f *config.File) error {
	return loadCUE(t).Accepts(f.Root.Interface())
}

func hasNix(v *config.Value) bool {
	if v == nil {
		return false
	}
	if v.IsNix() {
		return true
	}
	for _, e := range v.List {
		if hasNix(e) {
			return true
		}
	}
	for _, f := range v.Map {
		if hasNix(f.Value) {
			return true
		}
	}
	return false
}

// TestValidateAgreesWithCUE checks that the validation tree accepts
// exactly what plain CUE unification accepts, on every input the tests
// use (files with raw Nix are skipped: CUE sees those as strings).
func TestValidateAgreesWithCUE(t *testing.T) {
	s := loadSchema(t)
	inputs := goodInputs(t)
	inputs = append(inputs, errorInputs()...)
	inputs = append(inputs, edgeInputs...)
	for i, src := range inputs {
		f := parse(t, "nix2gpu.yaml", src)
		if hasNix(f.Root) {
			continue
		}
		ours := s.Validate(f)
		theirs := cueAccepts(t, f)
		if (len(ours) == 0) != (theirs == nil) {
			t.Errorf("input %d: Validate found %d problems, CUE says %v\n%s", i, len(ours), theirs, firstLines(src, 12))
		}
	}
}

func firstLines(s string, n int) string {
	lines := strings.SplitN(s, "\n", n+1)
	if len(lines) > n {
		lines = lines[:n]
	}
	return strings.Join(lines, "\n")
}

// edgeInputs are small documents at the edges of the format, valid and
// not.
var edgeInputs = []string{
	"version: 1\ncontainers: {}\n",
	"version: 1\nsystems: []\ncontainers: {ab: {cuda: {}, entrypoint: [], ports: [1, \"65535/udp\"]}}\n",
	"version: 1\ncontainers: {ab: {nixConfig: {max-jobs: [1, true, x]}}}\n",
	"version: 1\ncontainers: {ab: {services: {apache-kafka: {k: {settings: {any.key: 1}}}}}}\n",
	"version: 1\ncontainers: {ab: {services: {redis-cluster: {c: {nodes: {n1: {port: 1}}}}}}}\n",
	"version: 1\ncontainers: {ab: {services: {redis-cluster: {c: {nodes: {n1: {prot: 1}}}}}}}\n",
	"version: 1\ncontainers: {ab: {services: {vllm: {v: {model: m, gpuMemoryUtilization: 1}}}}}\n",
	"version: 1\ncontainers: {ab: {services: {vllm: {v: {model: m, gpuMemoryUtilization: 0}}}}}\n",
	"version: 1\ncontainers: {ab: {services: {vllm: {v: {model: m, gpuMemoryUtilization: 0.9}}}}}\n",
	"version: 1\ncontainers: {ab: {services: {vllm: {v: {model: m, gpuMemoryUtilization: 1.0}}}}}\n",
	"version: 1\ncontainers: {ab: {services: {vllm: {v: {model: m, gpuMemoryUtilization: 1.0000000000000002}}}}}\n",
	"version: 1\ncontainers: {ab: {services: {vllm: {v: {model: m, gpuMemoryUtilization: -0.0}}}}}\n",
	"version: 1\ncontainers: {ab: {services: {vllm: {v: {model: m, gpuMemoryUtilization: 5e-324}}}}}\n",
	"version: 1\ncontainers: {ab: {ports: [65535, 65536, 9007199254740993, -9007199254740993]}}\n",
	"version: 1\ncontainers: {ab: {maxLayers: 9223372036854775807}}\n",
	"version: 1\ncontainers: {ab: {services: {ollama: {o: {acceleration: false}}}}}\n",
	"version: 1\ncontainers: {ab: {services: {ollama: {o: {acceleration: true}}}}}\n",
	"version: 1\ncontainers: {ab: {services: {mysql: {m: {ensureUsers: [{name: u, ensurePermissions: {\"db.*\": ALL}}]}}}}}\n",
	"version: 1\ncontainers: {ab: {home: {programs: {git: \"x\", zsh: {enable: true}}}}}\n",
	"version: 1\ncontainers: {ab: {maxLayers: 1.5}}\n",
	"version: 1\ncontainers: {ab: {tag: \"\"}}\n",
	"version: 1\ncontainers: {ab: {labels: {\"bad key\": x}}}\n",
	"version: 1\ncontainers: {ab: {registries: [UPPER/x]}}\n",
	"version: 1\ncontainers: {ab: {cmd: [1]}}\n",
	"version: \"1\"\ncontainers: {}\n",
	"version: 1\ncontainers: {a: {}}\n",
	"version: 1\ncontainers: {ab: {tag: null}}\n",
	"version: 1\ncontainers: {ab: {services: {postgres: {p: {settings: {a: 1.5, b: x, c: true}}}}}}\n",
	"version: 1\ncontainers: {ab: {services: {postgres: {p: {settings: {a: [1]}}}}}}\n",
	"version: 1\ncontainers: {ab: {services: {grafana: {g: {datasources: [{a: 1}], extraConf: {s: {k: v}}}}}}}\n",
	"version: 1\ncontainers: {ab: {services: {seaweedfs: {s: {master: {volumeSizeLimitMB: 0}}}}}}\n",
	"version: 1\ncontainers: {ab: {services: {postgres: {p: {hbaConf: [{type: local, extra: 1}]}}}}}\n",
}
