package compiler

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/nix2gpu/nix2gpu/config"
	"github.com/nix2gpu/nix2gpu/cuda"
	"github.com/nix2gpu/nix2gpu/diag"
)

func parse(t *testing.T, src string) *config.File {
	t.Helper()
	f, ds := config.Parse("nix2gpu.yaml", []byte(src), config.Limits{})
	if ds.HasErrors() {
		t.Fatalf("parse: %v", ds)
	}
	return f
}

func compile(t *testing.T, src string, opts Options) (*Project, diag.Diagnostics) {
	t.Helper()
	return Compile(parse(t, src), opts)
}

// show prints diagnostics as "LINE:COL severity: message [path]".
func show(ds diag.Diagnostics) []string {
	var out []string
	for _, d := range ds {
		out = append(out, fmt.Sprintf("%d:%d %s: %s [%s]", d.Range.Start.Line, d.Range.Start.Column, d.Severity, d.Message, d.Path))
	}
	return out
}

func TestMerge(t *testing.T) {
	tests := []struct {
		name, under, over, want string
	}{
		{"maps merge recursively", "{cuda: {version: '12.8', packages: [nccl]}}", "{cuda: {capabilities: ['9.0']}}",
			"map[cuda:map[capabilities:[9.0] packages:[nccl] version:12.8]]"},
		{"scalars from over win", "{tag: a, user: root}", "{tag: b}", "map[tag:b user:root]"},
		{"lists from over replace", "{packages: [git, htop]}", "{packages: [jq]}", "map[packages:[jq]]"},
		{"false wins over a map", "{cuda: {version: '12.8'}}", "{cuda: false}", "map[cuda:false]"},
		{"map wins over a scalar", "{cuda: false}", "{cuda: {version: '12.6'}}", "map[cuda:map[version:12.6]]"},
		{"null over keeps null", "{env: {A: x}}", "{env: null}", "map[env:<nil>]"},
		{"empty under", "{}", "{tag: x}", "map[tag:x]"},
		{"env merges by name", "{env: {A: '1', B: '2'}}", "{env: {B: '3'}}", "map[env:map[A:1 B:3]]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u := parse(t, "x: "+tt.under+"\n").Root.Get("x")
			o := parse(t, "x: "+tt.over+"\n").Root.Get("x")
			got := fmt.Sprint(Merge(u, o).Interface())
			if got != tt.want {
				t.Errorf("got %s, want %s", got, tt.want)
			}
		})
	}
	if Merge(nil, nil) != nil {
		t.Error("Merge(nil, nil) != nil")
	}
}

func TestCompileDefaults(t *testing.T) {
	p, ds := compile(t, "version: 1\ncontainers:\n  app: {}\n", Options{})
	if len(ds) != 0 {
		t.Fatalf("diagnostics: %v", show(ds))
	}
	if !reflect.DeepEqual(p.Systems, []string{"x86_64-linux"}) || p.Source != "nix2gpu.yaml" || p.Version != 1 {
		t.Errorf("project = %+v", p)
	}
	c := p.Containers[0]
	if c.Name != "app" || c.Tag != "latest" || c.Builder != BuilderNix2Container || c.MaxLayers != 50 ||
		c.User != "root" || c.WorkingDir != "/root" || c.SSH.Port != 22 || c.Home != nil {
		t.Errorf("container = %+v", c)
	}
	want := &CUDA{Version: cuda.DefaultVersion, PackageSet: "cudaPackages_" + strings.ReplaceAll(cuda.DefaultVersion, ".", "_"),
		Capabilities: []string{}, Packages: []AttrPath{}, RequireCUDA: "cuda>=" + cuda.DefaultVersion}
	if !reflect.DeepEqual(c.CUDA, want) {
		t.Errorf("CUDA = %+v, want %+v", c.CUDA, want)
	}
	if got := inputNames(p); got != "nix2container nixpkgs" {
		t.Errorf("inputs = %s", got)
	}
}

func inputNames(p *Project) string {
	var s []string
	for _, in := range p.Inputs {
		s = append(s, in.Name)
	}
	return strings.Join(s, " ")
}

func TestCompileInputs(t *testing.T) {
	tests := []struct {
		name, src, want string
	}{
		{"dockerTools needs only nixpkgs", "containers: {ab: {builder: dockerTools}}", "nixpkgs=github:NixOS/nixpkgs/nixos-unstable"},
		{"services turn on services-flake and process-compose",
			"containers: {ab: {builder: dockerTools, services: {redis: {r1: {enable: true}}}}}",
			"nixpkgs=github:NixOS/nixpkgs/nixos-unstable process-compose-flake=github:Platonic-Systems/process-compose-flake services-flake=github:juspay/services-flake"},
		{"home turns on home-manager following nixpkgs", "containers: {ab: {builder: dockerTools, home: {packages: [fd]}}}",
			"home-manager=github:nix-community/home-manager(nixpkgs->nixpkgs) nixpkgs=github:NixOS/nixpkgs/nixos-unstable"},
		{"secrets turn on agenix", "containers: {ab: {builder: dockerTools, secrets: {k: {file: k.age}}}}",
			"agenix=github:ryantm/agenix(nixpkgs->nixpkgs) nixpkgs=github:NixOS/nixpkgs/nixos-unstable"},
		{"inputs override URLs and add extras",
			"inputs: {nixpkgs: 'github:NixOS/nixpkgs/nixos-24.11', dotfiles: 'github:me/dots'}\ncontainers: {ab: {}}",
			"dotfiles=github:me/dots nix2container=github:nlewo/nix2container nixpkgs=github:NixOS/nixpkgs/nixos-24.11"},
		{"input map form", "inputs: {data: {url: 'github:me/data', flake: false}}\ncontainers: {ab: {builder: dockerTools}}",
			"data=github:me/data[noflake] nixpkgs=github:NixOS/nixpkgs/nixos-unstable"},
		{"module from a known input turns it on",
			"containers: {ab: {builder: dockerTools, home: {modules: [agenix.homeManagerModules.default]}}}",
			"agenix=github:ryantm/agenix(nixpkgs->nixpkgs) home-manager=github:nix-community/home-manager(nixpkgs->nixpkgs) nixpkgs=github:NixOS/nixpkgs/nixos-unstable"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, ds := compile(t, tt.src+"\n", Options{})
			if ds.HasErrors() {
				t.Fatalf("diagnostics: %v", show(ds))
			}
			var got []string
			for _, in := range p.Inputs {
				s := in.Name + "=" + in.URL
				for _, f := range in.Follows {
					s += "(" + f.Input + "->" + f.Target + ")"
				}
				if !in.Flake {
					s += "[noflake]"
				}
				got = append(got, s)
			}
			if g := strings.Join(got, " "); g != tt.want {
				t.Errorf("got  %s\nwant %s", g, tt.want)
			}
		})
	}
}

func envMap(c *Container) map[string]string {
	m := map[string]string{}
	for _, e := range c.Env {
		m[e.Name] = e.Value
	}
	return m
}

func TestGPUEnvironment(t *testing.T) {
	src := `systems: [aarch64-linux, x86_64-linux]
defaults:
  cuda: {version: "12.6"}
  env: {HF_HOME: /hf}
containers:
  gpu:
    env: {NVIDIA_DRIVER_CAPABILITIES: "compute,utility,video"}
    labels: {org.nix2gpu.cuda.version: custom}
  cpu:
    cuda: false
    user: app
`
	p, ds := compile(t, src, Options{})
	if len(ds) != 0 {
		t.Fatalf("diagnostics: %v", show(ds))
	}
	cpu, gpu := p.Containers[0], p.Containers[1]
	if cpu.Name != "cpu" || gpu.Name != "gpu" {
		t.Fatalf("containers not sorted: %s, %s", cpu.Name, gpu.Name)
	}
	ge := envMap(gpu)
	want := map[string]string{
		"CUDA_VERSION":               "12.6",
		"HF_HOME":                    "/hf",
		"LD_LIBRARY_PATH":            "/usr/local/nvidia/lib64:/usr/local/nvidia/lib:/usr/lib64:/usr/lib/aarch64-linux-gnu:/usr/lib/x86_64-linux-gnu",
		"NVIDIA_DRIVER_CAPABILITIES": "compute,utility,video",
		"NVIDIA_REQUIRE_CUDA":        "cuda>=12.6",
		"NVIDIA_VISIBLE_DEVICES":     "all",
		"PATH":                       "/root/.nix-profile/bin:/nix/var/nix/profiles/default/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:/usr/local/nvidia/bin",
	}
	if !reflect.DeepEqual(ge, want) {
		t.Errorf("gpu env:\n got %v\nwant %v", ge, want)
	}
	for i := 1; i < len(gpu.Env); i++ {
		if gpu.Env[i-1].Name >= gpu.Env[i].Name {
			t.Errorf("env not sorted: %v", gpu.Env)
		}
	}
	wantLabels := []Label{{"com.nvidia.cuda.version", "12.6"}, {"com.nvidia.volumes.needed", "nvidia_driver"}, {"org.nix2gpu.cuda.version", "custom"}}
	if !reflect.DeepEqual(gpu.Labels, wantLabels) {
		t.Errorf("gpu labels = %v", gpu.Labels)
	}
	ce := envMap(cpu)
	if len(ce) != 2 || ce["HF_HOME"] != "/hf" || strings.Contains(ce["PATH"], "nvidia") || !strings.HasPrefix(ce["PATH"], "/home/app/") {
		t.Errorf("cpu env = %v", ce)
	}
	if cpu.CUDA != nil || len(cpu.Labels) != 0 || cpu.WorkingDir != "/home/app" {
		t.Errorf("cpu container = %+v", cpu)
	}
}

func TestLowering(t *testing.T) {
	src := `version: 1
inputs: {dotfiles: "github:me/dots"}
containers:
  app:
    tag: "0.3"
    builder: dockerTools
    maxLayers: 80
    cuda:
      version: "12.8"
      capabilities: ["9.0", "8.9", "9.0"]
      packages: [nccl, cudnn, nccl]
    packages: [python312Packages.torch, git, 'nodePackages."@angular/cli"']
    ports: [8188/tcp, 22, 53/udp]
    user: root
    workingDir: /workspace
    entrypoint: [/bin/sh, -c]
    cmd: serve
    startup: echo hi
    ssh: {enable: true, port: 2222, authorizedKeys: ["ssh-ed25519 AAAA me"], config: "X11Forwarding no"}
    tailscale: {enable: true, authKeyFile: /run/secrets/ts, hostname: box, extraArgs: [--ssh]}
    secrets:
      ts: {file: ./secrets/ts.age, mode: "400"}
      db: {file: secrets/db.age, path: /etc/db, owner: app}
    age: {identityPaths: [/root/.ssh/id_ed25519]}
    services:
      redis: {r1: {enable: true, port: 6379}}
      comfyui: {main: {enable: true, extra: {b: [1, 2.5, null], a: !nix "pkgs.hello"}}}
    home:
      packages: [ripgrep]
      programs: {git: {enable: true}}
      modules: [dotfiles.homeModules.john, !nix "{ ... }: { }"]
      forceRootUser: true
    nixConfig: {extra-substituters: ["https://cache.example"], cores: 4}
    registries: [ghcr.io/acme/app, ghcr.io/acme/app, localhost:5000/app]
`
	fsys := fstest.MapFS{"secrets/ts.age": {Data: []byte(ageStub)}, "secrets/db.age": {Data: []byte(ageStub)}}
	p, ds := compile(t, src, Options{FS: fsys})
	if ds.HasErrors() || ds.Count(diag.Warning) > 0 {
		t.Fatalf("diagnostics: %v", show(ds))
	}
	if ds.Count(diag.Note) != 2 {
		t.Errorf("want 2 notes for !nix, got %v", show(ds))
	}
	c := p.Containers[0]
	check := func(what string, got, want any) {
		t.Helper()
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s:\n got %#v\nwant %#v", what, got, want)
		}
	}
	check("tag", c.Tag, "0.3")
	check("builder", c.Builder, BuilderDockerTools)
	check("maxLayers", c.MaxLayers, 80)
	check("cuda", c.CUDA, &CUDA{Version: "12.8", PackageSet: "cudaPackages_12_8", Capabilities: []string{"8.9", "9.0"},
		Packages: []AttrPath{{"cudnn"}, {"nccl"}}, RequireCUDA: "cuda>=12.8"})
	check("packages", c.Packages, []AttrPath{{"git"}, {"nodePackages", "@angular/cli"}, {"python312Packages", "torch"}})
	check("ports", c.Ports, []Port{{22, "tcp"}, {53, "udp"}, {8188, "tcp"}})
	check("workingDir", c.WorkingDir, "/workspace")
	check("entrypoint", c.Entrypoint, []string{"/bin/sh", "-c"})
	check("cmd", c.Cmd, []string{"serve"})
	check("startup", c.Startup, "echo hi")
	check("ssh", c.SSH, SSH{Enable: true, Port: 2222, AuthorizedKeys: []string{"ssh-ed25519 AAAA me"}, Config: "X11Forwarding no"})
	check("tailscale", c.Tailscale, Tailscale{Enable: true, AuthKeyFile: "/run/secrets/ts", Hostname: "box", ExtraArgs: []string{"--ssh"}})
	check("secrets", c.Secrets, []Secret{
		{Name: "db", File: "secrets/db.age", Path: "/etc/db", Mode: "0400", Owner: "app"},
		{Name: "ts", File: "secrets/ts.age", Path: "/run/secrets/ts", Mode: "0400", Owner: "root"},
	})
	check("age", c.Age, Age{IdentityPaths: []string{"/root/.ssh/id_ed25519"}})
	check("services", c.Services, []Service{
		{Type: "comfyui", Instance: "main", Builtin: true, Options: []Attr{
			{"enable", Bool(true)},
			{"extra", Attrs{{"a", Raw{Code: "pkgs.hello", Range: c.Services[0].Options[1].Value.(Attrs)[0].Value.(Raw).Range}}, {"b", List{Int(1), Float(2.5), Null{}}}}},
		}},
		{Type: "redis", Instance: "r1", Options: []Attr{{"enable", Bool(true)}, {"port", Int(6379)}}},
	})
	check("home.packages", c.Home.Packages, []AttrPath{{"ripgrep"}})
	check("home.programs", c.Home.Programs, []Attr{{"git", Attrs{{"enable", Bool(true)}}}})
	check("home.modules[0]", c.Home.Modules[0], Expr(Ref{Root: "dotfiles", Path: AttrPath{"homeModules", "john"}}))
	if r, ok := c.Home.Modules[1].(Raw); !ok || r.Code != "{ ... }: { }" || r.Range.Start.Line != 31 {
		t.Errorf("home.modules[1] = %#v", c.Home.Modules[1])
	}
	check("forceRootUser", c.Home.ForceRootUser, true)
	check("stateVersion", c.Home.StateVersion, DefaultStateVersion)
	check("nixConfig", c.NixConfig, []Attr{{"cores", Int(4)}, {"extra-substituters", List{String("https://cache.example")}}})
	check("registries", c.Registries, []string{"ghcr.io/acme/app", "localhost:5000/app"})
	check("range", fmt.Sprint(c.Range.Start.Line, ":", c.Range.Start.Column), "4:3")
	check("inputs", inputNames(p), "agenix dotfiles home-manager nixpkgs process-compose-flake services-flake")
}

func TestChecks(t *testing.T) {
	tests := []struct {
		name string
		src  string // the body of container "app", indented by 4
		want []string
	}{
		{"container name upper case", "", nil},
		{"duplicate port", "ports: [8080/tcp, 22, 8080]",
			[]string{"5:27 error: duplicate port 8080/tcp [containers.app.ports[2]]"}},
		{"port protocol", "ports: [53/sctp]",
			[]string{`5:16 error: invalid port "53/sctp": protocol must be tcp or udp [containers.app.ports[0]]`}},
		{"port range", "ports: [0, 65536/udp, 65535]",
			[]string{"5:13 error: port 0 is out of range [containers.app.ports[0]]", "5:16 error: port 65536 is out of range [containers.app.ports[1]]"}},
		{"port not a number", "ports: [http/tcp]",
			[]string{`5:13 error: invalid port "http/tcp": "http" is not a number [containers.app.ports[0]]`}},
		{"env name", "env: {my-var: x, 1A: y, OK_1: z}",
			[]string{`5:11 error: invalid environment variable name "my-var" [containers.app.env.my-var]`,
				`5:22 error: invalid environment variable name "1A" [containers.app.env.1A]`}},
		{"secret-looking env", "env: {HF_TOKEN: abc, DB_PASSWORD: pw, API_KEY: k, MY_SECRET_X: s, KEYBOARD: us, EMPTY_TOKEN: ''}",
			[]string{"5:21 warning: HF_TOKEN looks like a secret but has a literal value [containers.app.env.HF_TOKEN]",
				"5:39 warning: DB_PASSWORD looks like a secret but has a literal value [containers.app.env.DB_PASSWORD]",
				"5:52 warning: API_KEY looks like a secret but has a literal value [containers.app.env.API_KEY]",
				"5:68 warning: MY_SECRET_X looks like a secret but has a literal value [containers.app.env.MY_SECRET_X]"}},
		{"unknown CUDA", "cuda: {version: '11.8'}",
			[]string{`5:21 error: unknown CUDA version "11.8" [containers.app.cuda.version]`}},
		{"capability syntax", "cuda: {capabilities: ['89', sm_90]}",
			[]string{`5:27 error: invalid compute capability "89" [containers.app.cuda.capabilities[0]]`,
				`5:33 error: invalid compute capability "sm_90" [containers.app.cuda.capabilities[1]]`}},
		{"capability unknown", "cuda: {capabilities: ['8.8']}",
			[]string{"5:27 error: compute capability 8.8 matches no NVIDIA GPU [containers.app.cuda.capabilities[0]]"}},
		{"capability not in version", "cuda: {version: '12.6', capabilities: ['10.0', '9.0']}",
			[]string{"5:44 error: CUDA 12.6 cannot target compute capability 10.0 (Blackwell B200 / GB200) [containers.app.cuda.capabilities[0]]"}},
		{"attribute paths", `packages: [git, python3..numpy, 7zip, "a.\"b", 'x."y z".w', a-b.c]`,
			[]string{`5:29 error: invalid attribute path "python3..numpy": empty segment [containers.app.packages[1]]`,
				`5:37 error: invalid attribute path "7zip": segment "7zip" starts with a digit [containers.app.packages[2]]`,
				`5:43 error: invalid attribute path "a.\"b": unterminated quoted segment [containers.app.packages[3]]`}},
		{"cuda packages", "cuda: {packages: [cudnn, 'nccl/']}",
			[]string{`5:35 error: invalid attribute path "nccl/": unexpected character '/' [containers.app.cuda.packages[1]]`}},
		{"home packages", "home: {packages: [.fd]}",
			[]string{`5:23 error: invalid attribute path ".fd": empty segment [containers.app.home.packages[0]]`}},
		{"home module input", "home: {modules: [dotfile.homeModules.john, nixpkgs.x, dotfiles]}",
			[]string{`5:22 error: home module "dotfile.homeModules.john" does not start with a declared input [containers.app.home.modules[0]]`,
				`5:59 error: home module "dotfiles" names a whole flake input, not a module [containers.app.home.modules[2]]`}},
		{"raw nix in wrong place", "tag: !nix latest",
			[]string{"5:10 error: raw Nix code is not allowed at containers.app.tag [containers.app.tag]"}},
		{"raw nix note", "nixConfig: {x: !nix 'a'}",
			[]string{"5:20 note: raw Nix code at containers.app.nixConfig.x is passed through unchecked [containers.app.nixConfig.x]"}},
		{"tailscale without key", "tailscale: {enable: true}",
			[]string{"5:25 warning: tailscale is enabled without authKeyFile [containers.app.tailscale.enable]"}},
		{"tailscale key inline", "tailscale: {enable: true, authKeyFile: tskey-auth-abc}",
			[]string{"5:44 error: authKeyFile holds an auth key, not a file path [containers.app.tailscale.authKeyFile]"}},
		{"tailscale relative key", "tailscale: {enable: true, authKeyFile: ts.key}",
			[]string{`5:44 error: authKeyFile "ts.key" is not an absolute path [containers.app.tailscale.authKeyFile]`}},
		{"tailscale key not a secret", "tailscale: {enable: true, authKeyFile: /run/ts}",
			[]string{`5:44 note: authKeyFile "/run/ts" is not the path of any secret [containers.app.tailscale.authKeyFile]`}},
		{"ssh without keys", "ssh: {enable: true}",
			[]string{"5:19 warning: ssh is enabled without authorizedKeys [containers.app.ssh.enable]"}},
		{"registries", "registries: [ghcr.io/acme/app:v1, 'ghcr.io/a/b@sha256:0000000000000000000000000000000000000000000000000000000000000000', 'Bad Ref', ghcr.io/acme/ok]",
			[]string{`5:18 error: registry entry "ghcr.io/acme/app:v1" includes a tag [containers.app.registries[0]]`,
				`5:39 error: registry entry "ghcr.io/a/b@sha256:0000000000000000000000000000000000000000000000000000000000000000" includes a digest [containers.app.registries[1]]`,
				`5:126 error: registry entry "Bad Ref" is not a valid image repository [containers.app.registries[2]]`}},
		{"tag", "tag: -bad", []string{`5:10 error: invalid image tag "-bad" [containers.app.tag]`}},
		{"secret mode", "secrets: {k: {file: k.age, mode: '0999'}}",
			[]string{`5:38 error: invalid file mode "0999" [containers.app.secrets.k.mode]`}},
		{"container paths", "{workingDir: ws, age: {identityPaths: [id]}, secrets: {k: {file: k.age, path: run/k}}}",
			[]string{`5:18 error: workingDir "ws" is not an absolute path [containers.app.workingDir]`,
				`5:44 error: identity path "id" is not an absolute path [containers.app.age.identityPaths[0]]`,
				`5:83 error: secret path "run/k" is not an absolute path [containers.app.secrets.k.path]`}},
		{"secret path clash", "secrets: {a: {file: k.age, path: /run/x}, b: {file: k.age, path: /run/x}}",
			[]string{`5:70 error: secrets "a" and "b" both decrypt to /run/x [containers.app.secrets.b.path]`}},
		{"secret in clear", "secrets: {k: {file: clear.age}}",
			[]string{`5:25 error: secret file "clear.age" is not age-encrypted [containers.app.secrets.k.file]`}},
		{"ssh key with a line break", `ssh: {enable: true, authorizedKeys: ["ssh-ed25519 AAAA me\ncommand=\"x\" ssh-ed25519 BBBB them"]}`,
			[]string{"5:42 error: authorized key contains a line break [containers.app.ssh.authorizedKeys[0]]"}},
		{"secret paths", "secrets: {a: {file: /etc/k}, b: {file: ../k.age}, c: {file: 'x/../../k'}, d: {file: ''}}",
			[]string{`5:25 error: secret file "/etc/k" is an absolute path [containers.app.secrets.a.file]`,
				`5:44 error: secret file "../k.age" is outside the project directory [containers.app.secrets.b.file]`,
				`5:65 error: secret file "x/../../k" is outside the project directory [containers.app.secrets.c.file]`,
				`5:89 error: secret file is empty [containers.app.secrets.d.file]`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := "version: 1\ninputs: {dotfiles: 'github:me/dots'}\ncontainers:\n  app:\n    " + tt.src + "\n"
			if tt.src == "" {
				src = "version: 1\ncontainers:\n  App_: {}\n"
				tt.want = []string{`3:3 error: invalid container name "App_": image names are lower case [containers.App_]`}
			}
			_, ds := Compile(parse(t, src), Options{FS: fstest.MapFS{"k.age": {Data: []byte(ageStub)}, "clear.age": {Data: []byte("tskey-auth-plain")}}})
			if got := show(ds); strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("got:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(tt.want, "\n  "))
			}
			for _, d := range ds {
				if d.Hint == "" {
					t.Errorf("no hint: %v", d)
				}
				if d.Path == "" {
					t.Errorf("no path: %v", d)
				}
			}
		})
	}
}

// ageStub is the start of an age-encrypted file, enough for the
// encrypted-secret check.
const ageStub = "age-encryption.org/v1\n-> X25519 stub\n"
