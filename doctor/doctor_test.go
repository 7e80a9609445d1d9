package doctor

import (
	"context"
	"errors"
	"io/fs"
	"strings"
	"testing"
	"testing/fstest"
)

// fakeRunner answers LookPath from a set of installed programs and Output
// from a table keyed by the joined command line.
type fakeRunner struct {
	installed map[string]bool
	outputs   map[string]result
}

type result struct {
	out string
	err error
}

func (f fakeRunner) LookPath(name string) (string, error) {
	if f.installed[name] {
		return "/usr/bin/" + name, nil
	}
	return "", errors.New("not found")
}

func (f fakeRunner) Output(_ context.Context, name string, args ...string) ([]byte, error) {
	key := strings.Join(append([]string{name}, args...), " ")
	r, ok := f.outputs[key]
	if !ok {
		return nil, errors.New(key + ": unexpected command")
	}
	return []byte(r.out), r.err
}

// mapFS serves absolute paths from an fstest.MapFS.
type mapFS fstest.MapFS

func (m mapFS) ReadFile(name string) ([]byte, error) {
	return fs.ReadFile(fstest.MapFS(m), strings.TrimPrefix(name, "/"))
}

func (m mapFS) ReadDir(name string) ([]fs.DirEntry, error) {
	return fs.ReadDir(fstest.MapFS(m), strings.TrimPrefix(name, "/"))
}

type fakeGPU struct {
	info GPUInfo
	err  error
}

func (g fakeGPU) Probe() (GPUInfo, error) { return g.info, g.err }

var errDisabled = errors.New("nix: exit status 1: error: experimental Nix feature 'nix-command' is disabled; use '--extra-experimental-features nix-command' to override")

func env(r fakeRunner, files mapFS, vars map[string]string, gpu GPUProber) Environment {
	return Environment{
		Runner: r, FS: files, GPU: gpu,
		Getenv: func(k string) string { return vars[k] },
	}
}

func TestNix(t *testing.T) {
	tests := []struct {
		name         string
		runner       fakeRunner
		wantNix      Status
		wantFeatures Status // "" when the check must be absent
		detail       string
	}{
		{
			name:    "missing",
			runner:  fakeRunner{},
			wantNix: Fail,
			detail:  "not found",
		},
		{
			name: "too old",
			runner: fakeRunner{installed: map[string]bool{"nix": true}, outputs: map[string]result{
				"nix --version": {out: "nix (Nix) 2.3.16\n"},
			}},
			wantNix: Fail,
			detail:  "2.3.16",
		},
		{
			name: "old nix, features off",
			runner: fakeRunner{installed: map[string]bool{"nix": true}, outputs: map[string]result{
				"nix --version":   {out: "nix (Nix) 2.8.0\n"},
				"nix config show": {err: errors.New("nix: exit status 1: error: 'config' is not a recognised command")},
				"nix show-config": {err: errDisabled},
				"nix --extra-experimental-features nix-command show-config": {out: "cores = 0\nexperimental-features = nix-command\n"},
			}},
			wantNix:      OK,
			wantFeatures: Warn,
			detail:       "nix-command, flakes",
		},
		{
			name: "old nix, flakes from nix.conf only",
			runner: fakeRunner{installed: map[string]bool{"nix": true}, outputs: map[string]result{
				"nix --version":   {out: "nix (Nix) 2.8.0\n"},
				"nix config show": {err: errors.New("unknown command")},
				"nix show-config": {err: errDisabled},
				"nix --extra-experimental-features nix-command show-config": {out: "experimental-features = flakes nix-command\n"},
			}},
			wantNix:      OK,
			wantFeatures: Warn,
			detail:       "not enabled: nix-command",
		},
		{
			name: "new nix, both enabled",
			runner: fakeRunner{installed: map[string]bool{"nix": true}, outputs: map[string]result{
				"nix --version":   {out: "nix (Nix) 2.24.9\n"},
				"nix config show": {out: "accept-flake-config = false\nexperimental-features = fetch-closure flakes nix-command\n"},
			}},
			wantNix:      OK,
			wantFeatures: OK,
			detail:       "enabled",
		},
		{
			name: "lix",
			runner: fakeRunner{installed: map[string]bool{"nix": true}, outputs: map[string]result{
				"nix --version":   {out: "nix (Lix, like Nix) 2.91.1\n"},
				"nix config show": {out: "experimental-features = flakes nix-command\n"},
			}},
			wantNix:      OK,
			wantFeatures: OK,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			checks := checkNix(context.Background(), env(tc.runner, mapFS{}, nil, nil))
			if checks[0].Name != "nix" || checks[0].Status != tc.wantNix {
				t.Fatalf("nix check = %+v, want status %s", checks[0], tc.wantNix)
			}
			var all []string
			for _, c := range checks {
				all = append(all, c.Detail+" "+c.Hint)
			}
			if !strings.Contains(strings.Join(all, "\n"), tc.detail) {
				t.Errorf("checks %+v do not mention %q", checks, tc.detail)
			}
			if tc.wantFeatures == "" {
				if len(checks) != 1 {
					t.Errorf("got %d checks, want only the nix one: %+v", len(checks), checks)
				}
				return
			}
			if len(checks) != 2 || checks[1].Status != tc.wantFeatures {
				t.Errorf("features check = %+v, want status %s", checks[1:], tc.wantFeatures)
			}
		})
	}
}

func TestGPU(t *testing.T) {
	tests := []struct {
		name   string
		gpu    GPUProber
		want   Status
		detail string
	}{
		{"no probe", nil, Warn, "not available"},
		{"no driver", fakeGPU{err: errors.New("libnvidia-ml.so.1 not found")}, Warn, "libnvidia-ml.so.1"},
		{"no devices", fakeGPU{info: GPUInfo{DriverVersion: "550.54.15", CUDAVersion: "12.4"}}, Warn, "no GPUs"},
		{"two GPUs", fakeGPU{info: GPUInfo{DriverVersion: "550.54.15", CUDAVersion: "12.4", Devices: []GPUDevice{
			{0, "NVIDIA A100-SXM4-40GB", "8.0"}, {1, "NVIDIA H100 80GB HBM3", "9.0"},
		}}}, OK, "driver 550.54.15, CUDA 12.4; 0: NVIDIA A100-SXM4-40GB (sm 8.0); 1: NVIDIA H100 80GB HBM3 (sm 9.0)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := checkGPU(env(fakeRunner{}, mapFS{}, nil, tc.gpu))
			if c.Status != tc.want || !strings.Contains(c.Detail, tc.detail) {
				t.Errorf("got %+v, want %s mentioning %q", c, tc.want, tc.detail)
			}
		})
	}
}

func TestNVIDIARuntime(t *testing.T) {
	tests := []struct {
		name   string
		runner fakeRunner
		files  mapFS
		want   Status
		detail string
	}{
		{"nothing", fakeRunner{}, mapFS{}, Warn, "no NVIDIA"},
		{"toolkit", fakeRunner{installed: map[string]bool{"nvidia-ctk": true}}, mapFS{}, OK, "/usr/bin/nvidia-ctk"},
		{"cdi spec", fakeRunner{}, mapFS{
			"etc/cdi/nvidia.yaml": {Data: []byte("kind: nvidia.com/gpu\n")},
		}, OK, "CDI spec /etc/cdi/nvidia.yaml"},
		{"docker runtime", fakeRunner{}, mapFS{
			"etc/docker/daemon.json": {Data: []byte(`{"runtimes":{"nvidia":{"path":"nvidia-container-runtime"}}}`)},
		}, OK, `docker runtime "nvidia"`},
		{"docker without nvidia", fakeRunner{}, mapFS{
			"etc/docker/daemon.json": {Data: []byte(`{"runtimes":{}}`)},
		}, Warn, "no NVIDIA"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := checkNVIDIARuntime(env(tc.runner, tc.files, nil, nil))
			if c.Status != tc.want || !strings.Contains(c.Detail, tc.detail) {
				t.Errorf("got %+v, want %s mentioning %q", c, tc.want, tc.detail)
			}
		})
	}
}

func TestEngine(t *testing.T) {
	none := checkEngine(context.Background(), env(fakeRunner{}, mapFS{}, nil, nil))
	if none.Status != Warn {
		t.Errorf("no engine: %+v", none)
	}
	both := checkEngine(context.Background(), env(fakeRunner{
		installed: map[string]bool{"docker": true, "podman": true},
		outputs: map[string]result{
			"docker --version": {out: "Docker version 27.3.1, build ce12230\n"},
			"podman --version": {err: errors.New("exit status 125")},
		},
	}, mapFS{}, nil, nil))
	if both.Status != OK || both.Detail != "Docker version 27.3.1, build ce12230, podman (--version failed)" {
		t.Errorf("both engines: %+v", both)
	}
}

func TestCredentials(t *testing.T) {
	const secret = "c2VjcmV0OnBhc3N3b3Jk" // base64 "secret:password"
	home := map[string]string{"HOME": "/home/u"}
	tests := []struct {
		name   string
		vars   map[string]string
		files  mapFS
		want   []Status
		detail string
	}{
		{"none", home, mapFS{}, []Status{Warn}, "no registry credentials"},
		{"docker auths and helpers", home, mapFS{
			"home/u/.docker/config.json": {Data: []byte(`{"auths":{"ghcr.io":{"auth":"` + secret + `"},"registry.example.org:5000":{"auth":"` + secret + `"}},
				"credHelpers":{"123.dkr.ecr.us-east-1.amazonaws.com":"ecr-login"},"credsStore":"desktop"}`)},
		}, []Status{OK}, `/home/u/.docker/config.json (docker): 123.dkr.ecr.us-east-1.amazonaws.com (helper ecr-login), ghcr.io, registry.example.org:5000; credential store "desktop" for other registries`},
		{"DOCKER_CONFIG wins over HOME", map[string]string{"HOME": "/home/u", "DOCKER_CONFIG": "/cfg"}, mapFS{
			"home/u/.docker/config.json": {Data: []byte(`{"auths":{"wrong.example":{}}}`)},
			"cfg/config.json":            {Data: []byte(`{"auths":{"right.example":{}}}`)},
		}, []Status{OK}, "right.example"},
		{"podman auth file", map[string]string{"XDG_RUNTIME_DIR": "/run/user/1000"}, mapFS{
			"run/user/1000/containers/auth.json": {Data: []byte(`{"auths":{"quay.io":{"auth":"` + secret + `"}}}`)},
		}, []Status{OK}, "(containers): quay.io"},
		{"empty docker config", home, mapFS{
			"home/u/.docker/config.json": {Data: []byte(`{}`)},
		}, []Status{Warn}, "no registry credentials"},
		{"broken docker config", home, mapFS{
			"home/u/.docker/config.json": {Data: []byte(`{"auths":{"ghcr.io":{"auth":"` + secret + `"}`)},
		}, []Status{Fail}, "not valid JSON"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			checks := checkCredentials(env(fakeRunner{}, tc.files, tc.vars, nil))
			var got []Status
			var text []string
			for _, c := range checks {
				got = append(got, c.Status)
				text = append(text, c.Detail+" "+c.Hint)
			}
			all := strings.Join(text, "\n")
			if len(got) != len(tc.want) || got[0] != tc.want[0] {
				t.Errorf("statuses %v, want %v: %+v", got, tc.want, checks)
			}
			if !strings.Contains(all, tc.detail) {
				t.Errorf("checks %q do not mention %q", all, tc.detail)
			}
			if strings.Contains(all, secret) || strings.Contains(all, "password") {
				t.Errorf("a secret leaked into the report: %q", all)
			}
		})
	}
}

func TestRunOrderAndFailed(t *testing.T) {
	r := Run(context.Background(), env(fakeRunner{}, mapFS{}, nil, fakeGPU{err: errors.New("no driver")}))
	var names []string
	for _, c := range r.Checks {
		names = append(names, c.Name)
	}
	if got, want := strings.Join(names, " "), "nix gpu nvidia-runtime container-engine registry-credentials"; got != want {
		t.Errorf("checks %q, want %q", got, want)
	}
	if !r.Failed() {
		t.Error("missing nix must fail the report")
	}
	ok := Report{Checks: []Check{{Status: OK}, {Status: Warn}}}
	if ok.Failed() {
		t.Error("warnings alone must not fail the report")
	}
}

func TestPushTargets(t *testing.T) {
	files := mapFS{
		"home/u/.docker/config.json": {Data: []byte(`{"auths":{"https://index.docker.io/v1/":{"auth":"x"},"ghcr.io":{"auth":"x"}},
			"credHelpers":{"123.dkr.ecr.us-east-1.amazonaws.com":"ecr-login"}}`)},
	}
	e := env(fakeRunner{}, files, map[string]string{"HOME": "/home/u"}, nil)
	e.Registries = []string{
		"ghcr.io/acme/app", "ghcr.io/acme/other", "docker.io/acme/app", "acme/implied-hub",
		"123.dkr.ecr.us-east-1.amazonaws.com/app", "registry.example.org:5000/ml/app",
	}
	checks := checkCredentials(e)
	got := map[string]Status{}
	for _, c := range checks[1:] {
		got[c.Name] = c.Status
	}
	want := map[string]Status{
		"registry 123.dkr.ecr.us-east-1.amazonaws.com": OK,
		"registry docker.io":                           OK,
		"registry ghcr.io":                             OK,
		"registry registry.example.org:5000":           Warn,
	}
	if len(got) != len(want) {
		t.Fatalf("checks %+v, want %v", checks, want)
	}
	for name, s := range want {
		if got[name] != s {
			t.Errorf("%s: %s, want %s", name, got[name], s)
		}
	}

	// With a credential store, unknown registries are left to it.
	files["home/u/.docker/config.json"] = &fstest.MapFile{Data: []byte(`{"credsStore":"desktop"}`)}
	e.Registries = []string{"quay.io/acme/app"}
	checks = checkCredentials(e)
	last := checks[len(checks)-1]
	if last.Name != "registry quay.io" || last.Status != OK || !strings.Contains(last.Detail, `"desktop"`) {
		t.Errorf("quay.io with a credential store: %+v", last)
	}
}
