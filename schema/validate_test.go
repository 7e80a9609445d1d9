package schema

import (
	"strings"
	"testing"

	"github.com/nix2gpu/nix2gpu/config"
	"github.com/nix2gpu/nix2gpu/diag"
)

func parse(t *testing.T, name string, src string) *config.File {
	t.Helper()
	f, ds := config.Parse(name, []byte(src), config.Limits{})
	if ds.HasErrors() {
		t.Fatalf("parsing test input: %v", ds)
	}
	return f
}

func TestValidateGoodFiles(t *testing.T) {
	s := loadSchema(t)
	for _, in := range goodFiles(t) {
		t.Run(in.Name, func(t *testing.T) {
			f := parse(t, in.Name, string(in.Src))
			for _, d := range s.Validate(f) {
				t.Errorf("%s: %s (hint %q, path %s)", d.Range, d.Message, d.Hint, d.Path)
			}
		})
	}
}

// want is one expected diagnostic: position, message, hint and path.
type want struct {
	pos     string // "line:col"
	message string
	hint    string
	path    string
}

type errorCase struct {
	name string
	src  string
	want []want
}

// errorInputs returns the sources of the error cases.
func errorInputs() []string {
	var out []string
	for _, c := range errorCases() {
		out = append(out, c.src)
	}
	return out
}

func errorCases() []errorCase {
	return []errorCase{{
		name: "misspelt container field",
		src: `version: 1
containers:
  app:
    enviroment: {A: b}
`,
		want: []want{{"4:5", `unknown field "enviroment"`, `did you mean "env"?`, "containers.app.enviroment"}},
	}, {
		name: "misspelt top-level field lists no far-off names",
		src: `version: 1
contaners: {}
`,
		want: []want{
			{"1:1", `missing required field "containers"`, "containers: The images to build, by name.", ""},
			{"2:1", `unknown field "contaners"`, `did you mean "containers"?`, "contaners"},
		},
	}, {
		name: "quoted integer",
		src: `version: 1
containers:
  app:
    maxLayers: "50"
`,
		want: []want{{"4:16", `containers.app.maxLayers: expected an integer, got string "50"`, "remove the quotes: 50", "containers.app.maxLayers"}},
	}, {
		name: "integer out of range",
		src: `version: 1
containers:
  app:
    maxLayers: 500
`,
		want: []want{{"4:16", `containers.app.maxLayers: invalid value 500: must be between 1 and 127`, "", "containers.app.maxLayers"}},
	}, {
		name: "unknown CUDA version",
		src: `version: 1
containers:
  app:
    cuda: {version: "12.7"}
`,
		want: []want{{"4:21", `containers.app.cuda.version: "12.7" is not one of "12.6", "12.8", "12.9", "13.0", "13.1"`, `did you mean "12.6"?`, "containers.app.cuda.version"}},
	}, {
		name: "CUDA version read as a float",
		src: `version: 1
defaults:
  cuda:
    version: 12.8
containers:
  app: {}
`,
		want: []want{{"4:14", `defaults.cuda.version: expected one of "12.6", "12.8", "12.9", "13.0", "13.1", got number 12.8`, `YAML reads 12.8 as a float; quote it: "12.8"`, "defaults.cuda.version"}},
	}, {
		name: "cuda true",
		src: `version: 1
containers:
  app: {cuda: true}
`,
		want: []want{{"3:15", `containers.app.cuda: expected a map or false, got boolean true`, "", "containers.app.cuda"}},
	}, {
		name: "builder enum",
		src: `version: 1
containers:
  app: {builder: dockertools}
`,
		want: []want{{"3:18", `containers.app.builder: "dockertools" is not one of "dockerTools", "nix2container"`, `did you mean "dockerTools"?`, "containers.app.builder"}},
	}, {
		name: "bad names",
		src: `version: 1
containers:
  App_1:
    env: {lower: x}
`,
		// The body of a badly named container is still checked.
		want: []want{
			{"3:3", `invalid name "App_1" in containers`, "names must match ^[a-z0-9][a-z0-9._-]{0,126}[a-z0-9]$", "containers.App_1"},
			{"4:11", `invalid name "lower" in containers.App_1.env`, "names must match ^[A-Z_][A-Z0-9_]*$", "containers.App_1.env.lower"},
		},
	}, {
		name: "env name",
		src: `version: 1
containers:
  app:
    env: {lower: x}
`,
		want: []want{{"4:11", `invalid name "lower" in containers.app.env`, "names must match ^[A-Z_][A-Z0-9_]*$", "containers.app.env.lower"}},
	}, {
		name: "port forms",
		src: `version: 1
containers:
  app:
    ports: [80, 8080/tcp, 70000, 53/sctp]
`,
		want: []want{
			{"4:27", `containers.app.ports[2]: invalid value 70000: must be between 1 and 65535`, "", "containers.app.ports[2]"},
			{"4:34", `containers.app.ports[3]: invalid value "53/sctp": must match ^[0-9]{1,5}(/(tcp|udp))?$`, "", "containers.app.ports[3]"},
		},
	}, {
		name: "nested service option type",
		src: `version: 1
containers:
  app:
    services:
      postgres:
        pg1:
          enable: true
          port: "abc"
`,
		want: []want{{"8:17", `containers.app.services.postgres.pg1.port: expected an integer, got string "abc"`, "", "containers.app.services.postgres.pg1.port"}},
	}, {
		name: "misspelt service option and type",
		src: `version: 1
containers:
  app:
    services:
      postgres:
        pg1: {enable: true, prot: 5432}
      postgress:
        pg2: {}
`,
		want: []want{
			{"6:29", `unknown field "prot"`, `did you mean "port"?`, "containers.app.services.postgres.pg1.prot"},
			{"7:7", `unknown field "postgress"`, `did you mean "postgres"?`, "containers.app.services.postgress"},
		},
	}, {
		name: "service submodule option",
		src: `version: 1
containers:
  app:
    services:
      elasticmq:
        q: {nodeAddress: {hots: x}}
`,
		want: []want{{"6:27", `unknown field "hots"`, `did you mean "host"?`, "containers.app.services.elasticmq.q.nodeAddress.hots"}},
	}, {
		name: "required field",
		src: `version: 1
containers:
  app:
    services:
      vllm:
        api: {enable: true}
    secrets:
      key: {path: relative/file}
`,
		want: []want{
			{"6:9", `containers.app.services.vllm.api: missing required field "model"`, "model: Model to serve: a Hugging Face repository id or a local path.", "containers.app.services.vllm.api"},
			{"8:7", `containers.app.secrets.key: missing required field "file"`, "file: Encrypted file, relative to nix2gpu.yaml.", "containers.app.secrets.key"},
			{"8:19", `containers.app.secrets.key.path: invalid value "relative/file": must match ^/`, "", "containers.app.secrets.key.path"},
		},
	}, {
		name: "fraction bounds",
		src: `version: 1
containers:
  app:
    services:
      vllm:
        api: {model: m, gpuMemoryUtilization: 1.5}
`,
		want: []want{{"6:47", `containers.app.services.vllm.api.gpuMemoryUtilization: invalid value 1.5: must be > 0 and be <= 1`, "", "containers.app.services.vllm.api.gpuMemoryUtilization"}},
	}, {
		// NaN compares with no bound, so it fails them all; it once
		// panicked the arbitrary-precision comparison.
		name: "fraction bounds refuse NaN and infinities",
		src: `version: 1
containers:
  app:
    services:
      vllm:
        a: {model: m, gpuMemoryUtilization: .nan}
        b: {model: m, gpuMemoryUtilization: -.inf}
`,
		want: []want{
			{"6:45", `containers.app.services.vllm.a.gpuMemoryUtilization: invalid value .nan: must be > 0 and be <= 1`, "", "containers.app.services.vllm.a.gpuMemoryUtilization"},
			{"7:45", `containers.app.services.vllm.b.gpuMemoryUtilization: invalid value -.inf: must be > 0 and be <= 1`, "", "containers.app.services.vllm.b.gpuMemoryUtilization"},
		},
	}, {
		name: "version",
		src: `version: 2
containers: {}
`,
		want: []want{{"1:10", `version: must be 1, got 2`, "", "version"}},
	}, {
		name: "wrong shapes",
		src: `version: 1
containers:
  app:
    packages: git
    entrypoint: /bin/sh
    ssh: yes
`,
		want: []want{
			{"4:15", `containers.app.packages: expected a list, got string "git"`, "", "containers.app.packages"},
			{"5:17", `containers.app.entrypoint: expected null or a list, got string "/bin/sh"`, "", "containers.app.entrypoint"},
			{"6:10", `containers.app.ssh: expected a map, got string "yes"`, "", "containers.app.ssh"},
		},
	}, {
		name: "raw Nix only where accepted",
		src: `version: 1
containers:
  app:
    maxLayers: !nix "10 + 10"
    services:
      postgres:
        pg1: {port: !nix "5000 + 1"}
`,
		want: []want{{"4:16", `containers.app.maxLayers: expected an integer, got raw Nix "10 + 10"`, "!nix is accepted only in service options, home.programs, home.modules and nixConfig", "containers.app.maxLayers"}},
	}, {
		name: "attribute path shape",
		src: `version: 1
containers:
  app:
    packages: ["foo bar"]
`,
		want: []want{{"4:16", `containers.app.packages[0]: invalid value "foo bar": must match ^([A-Za-z_][A-Za-z0-9_'-]*|"[^"\\]*")(\.([A-Za-z_][A-Za-z0-9_'-]*|"[^"\\]*"))*$`, "", "containers.app.packages[0]"}},
	}}
}

func TestValidateErrors(t *testing.T) {
	s := loadSchema(t)
	for _, tt := range errorCases() {
		t.Run(tt.name, func(t *testing.T) {
			f := parse(t, "nix2gpu.yaml", tt.src)
			got := s.Validate(f)
			if len(got) != len(tt.want) {
				t.Errorf("got %d diagnostics, want %d:\n%s", len(got), len(tt.want), dump(got))
			}
			for i := 0; i < len(got) && i < len(tt.want); i++ {
				g, w := got[i], tt.want[i]
				pos := strings.TrimPrefix(g.Range.String(), "nix2gpu.yaml:")
				if pos != w.pos || g.Message != w.message || g.Hint != w.hint || g.Path != w.path || g.Severity != diag.Error {
					t.Errorf("diagnostic %d:\n got %s %s: %q hint %q path %q\nwant %s: %q hint %q path %q",
						i, pos, g.Severity, g.Message, g.Hint, g.Path, w.pos, w.message, w.hint, w.path)
				}
			}
		})
	}
}

func dump(ds diag.Diagnostics) string {
	var b strings.Builder
	for _, d := range ds {
		b.WriteString("  " + d.Range.String() + ": " + d.Message + " [" + d.Hint + "] " + d.Path + "\n")
	}
	return b.String()
}

// TestValidateConcurrent checks one Schema can serve several goroutines
// (the race detector does the checking).
func TestValidateConcurrent(t *testing.T) {
	s := loadSchema(t)
	f := parse(t, "nix2gpu.yaml", "version: 1\ncontainers:\n  app: {maxLayers: \"x\"}\n")
	done := make(chan int)
	for range 4 {
		go func() { done <- len(s.Validate(f)) }()
	}
	for range 4 {
		if n := <-done; n != 1 {
			t.Errorf("got %d diagnostics, want 1", n)
		}
	}
}

func TestValidateNil(t *testing.T) {
	s := loadSchema(t)
	if ds := s.Validate(nil); len(ds) != 0 {
		t.Errorf("Validate(nil) = %v", ds)
	}
}
