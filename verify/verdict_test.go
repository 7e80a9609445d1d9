package verify

import (
	"strings"
	"testing"
)

var (
	a100  = GPU{Index: 0, Name: "NVIDIA A100-SXM4-40GB", Brand: "Nvidia", ComputeCapability: "8.0", MemoryMiB: 40960}
	h100  = GPU{Index: 0, Name: "NVIDIA H100 80GB HBM3", Brand: "Nvidia", ComputeCapability: "9.0", MemoryMiB: 81559}
	l4    = GPU{Index: 0, Name: "NVIDIA L4", Brand: "Nvidia", ComputeCapability: "8.9", MemoryMiB: 23034}
	t4    = GPU{Index: 0, Name: "Tesla T4", Brand: "Tesla", ComputeCapability: "7.5", MemoryMiB: 15360}
	v100  = GPU{Index: 0, Name: "Tesla V100-SXM2-16GB", Brand: "Tesla", ComputeCapability: "7.0", MemoryMiB: 16160}
	rtx40 = GPU{Index: 0, Name: "NVIDIA GeForce RTX 4090", Brand: "GeForceRTX", ComputeCapability: "8.9", MemoryMiB: 24564}
	b200  = GPU{Index: 0, Name: "NVIDIA B200", Brand: "Nvidia", ComputeCapability: "10.0", MemoryMiB: 183359}
)

// officialRequire has the shape of NVIDIA's official CUDA 12.4 images:
// cuda>=12.4, or one of the data-center branches that run it through
// forward compatibility.
const officialRequire = "cuda>=12.4 brand=tesla,driver>=470,driver<471 brand=unknown,driver>=470,driver<471 brand=nvidia,driver>=470,driver<471 brand=nvidiartx,driver>=470,driver<471 brand=tesla,driver>=525,driver<526 brand=nvidia,driver>=525,driver<526 brand=tesla,driver>=535,driver<536 brand=unknown,driver>=535,driver<536 brand=nvidia,driver>=535,driver<536 brand=nvidiartx,driver>=535,driver<536"

func host(driver, cudaV string, gpus ...GPU) *Host {
	return &Host{Name: "h", DriverVersion: driver, CUDAVersion: cudaV, GPUs: gpus}
}

func facts(cudaV, caps string, env ...string) Facts {
	f := Facts{CUDAVersion: cudaV, Env: map[string]string{}}
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		f.Env[k] = v
	}
	if caps != "" {
		c, err := ParseCapabilities(caps)
		if err != nil {
			panic(err)
		}
		f.Capabilities = c
	}
	return f
}

func TestVerdict(t *testing.T) {
	tests := []struct {
		name   string
		facts  Facts
		host   *Host
		ok     bool
		checks []string // check ids that must appear (any severity)
		msg    string   // substring of some finding's message or hint
	}{
		{"official CUDA image string, datacenter branch alternative", facts("", "8.0", "NVIDIA_REQUIRE_CUDA="+officialRequire), host("535.161.08", "12.2", a100), true, nil, ""},
		{"official CUDA image string, GeForce has no alternative", facts("", "8.9", "NVIDIA_REQUIRE_CUDA="+officialRequire), host("535.183.01", "12.2", rtx40), false,
			[]string{CheckVerdictReq}, "CDI mode"},
		{"official CUDA image string, new enough driver", facts("", "8.9", "NVIDIA_REQUIRE_CUDA="+officialRequire), host("550.54.15", "12.4", rtx40), true, nil, ""},
		{"plain match", facts("12.4", "8.0", "NVIDIA_REQUIRE_CUDA=cuda>=12.4"), host("550.54.15", "12.4", a100), true, nil, ""},
		{"cuda too new", facts("12.8", "8.0", "NVIDIA_REQUIRE_CUDA=cuda>=12.8"), host("535.161.08", "12.2", a100), false,
			[]string{CheckVerdictReq}, "570.26"},
		{"implicit cuda from CUDA_VERSION", facts("12.8", "8.0", "CUDA_VERSION=12.8.1"), host("535.161.08", "12.2", a100), false,
			[]string{CheckVerdictReq}, "implied by CUDA_VERSION"},
		{"OR alternative brand+driver branch passes", facts("", "8.0", "NVIDIA_REQUIRE_CUDA=cuda>=12.8 brand=nvidia,driver>=535,driver<536"),
			host("535.161.08", "12.2", a100), true, nil, ""},
		{"OR alternative wrong brand fails", facts("", "8.9", "NVIDIA_REQUIRE_CUDA=cuda>=12.8 brand=tesla,driver>=535,driver<536"),
			host("535.161.08", "12.2", rtx40), false, []string{CheckVerdictReq}, "brand=tesla"},
		{"AND needs every term", facts("", "", "NVIDIA_REQUIRE_X=driver>=535,driver<536"), host("550.54.15", "12.4", a100), false,
			[]string{CheckVerdictReq}, "driver<536"},
		{"driver range holds", facts("", "", "NVIDIA_REQUIRE_X=driver>=550,driver<551"), host("550.54.15", "12.4", a100), true, nil, ""},
		{"trailing zero equal", facts("", "", "NVIDIA_REQUIRE_X=cuda=12.4.0"), host("550.54.15", "12.4", a100), true, nil, ""},
		{"not equal", facts("", "", "NVIDIA_REQUIRE_X=cuda!=12.4"), host("550.54.15", "12.4", a100), false, []string{CheckVerdictReq}, ""},
		{"numeric not lexical", facts("", "", "NVIDIA_REQUIRE_X=driver>=99"), host("550.54.15", "12.4", a100), true, nil, ""},
		{"brand case-insensitive", facts("", "", "NVIDIA_REQUIRE_BRAND=brand=NVIDIA"), host("550.54.15", "12.4", a100), true, nil, ""},
		{"brand not equal", facts("", "", "NVIDIA_REQUIRE_BRAND=brand!=geforcertx"), host("550.54.15", "12.4", rtx40), false, []string{CheckVerdictReq}, ""},
		{"arch term", facts("", "", "NVIDIA_REQUIRE_ARCH=arch>=8.0"), host("550.54.15", "12.4", t4), false, []string{CheckVerdictReq}, "arch>=8.0"},
		{"no GPU: arch and brand count as true", facts("", "", "NVIDIA_REQUIRE_ARCH=arch>=9.0,brand=tesla"), host("550.54.15", "12.4"), true,
			[]string{CheckVerdictGPU}, "no GPU"},
		{"variables are independent", facts("", "", "NVIDIA_REQUIRE_A=cuda>=12.0", "NVIDIA_REQUIRE_B=driver>=560"), host("550.54.15", "12.4", a100), false,
			[]string{CheckVerdictReq}, "NVIDIA_REQUIRE_B"},
		{"disable require", facts("", "", "NVIDIA_DISABLE_REQUIRE=true", "NVIDIA_REQUIRE_CUDA=cuda>=13.0"), host("550.54.15", "12.4", a100), true,
			[]string{CheckVerdictReq}, "NVIDIA_DISABLE_REQUIRE"},
		{"disable require not bool is ignored", facts("", "", "NVIDIA_DISABLE_REQUIRE=maybe", "NVIDIA_REQUIRE_CUDA=cuda>=13.0"), host("550.54.15", "12.4", a100), false,
			[]string{CheckVerdictReq}, ""},
		{"invalid expression", facts("", "", "NVIDIA_REQUIRE_CUDA=cuda>>12"), host("550.54.15", "12.4", a100), false, []string{CheckVerdictReq}, "invalid expression"},
		{"invalid term after a satisfied alternative is never reached", facts("", "", "NVIDIA_REQUIRE_CUDA=cuda>=12.0 cuda>>1"), host("550.54.15", "12.4", a100), true, nil, ""},
		{"invalid term after a failing term is never reached", facts("", "", "NVIDIA_REQUIRE_CUDA=driver>=999,cuda>>1"), host("550.54.15", "12.4", a100), false,
			[]string{CheckVerdictReq}, "unsatisfied condition: driver>=999"},
		{"double dots read as one", facts("", "", "NVIDIA_REQUIRE_CUDA=cuda>=12..4"), host("550.54.15", "12.4", a100), true, nil, ""},
		{"legacy CUDA_VERSION unreadable", facts("", "", "CUDA_VERSION=twelve"), host("550.54.15", "12.4", a100), false, []string{CheckVerdictReq}, "refuses"},
		{"invalid key", facts("", "", "NVIDIA_REQUIRE_CUDA=gpu>=1"), host("550.54.15", "12.4", a100), false, []string{CheckVerdictReq}, "unknown key"},
		{"invalid version", facts("", "", "NVIDIA_REQUIRE_CUDA=cuda>=12.x"), host("550.54.15", "12.4", a100), false, []string{CheckVerdictReq}, "not a version"},
		{"brand with ordering op", facts("", "", "NVIDIA_REQUIRE_CUDA=brand>=tesla"), host("550.54.15", "12.4", a100), false, []string{CheckVerdictReq}, "brand only"},
		{"minor version compatibility", facts("12.8", "8.0"), host("550.54.15", "12.4", a100), true, []string{CheckVerdictDriver}, "minor version compatibility"},
		{"below family floor", facts("12.8", "8.0"), host("470.239.06", "11.4", a100), false, []string{CheckVerdictDriver}, "525.60.13"},
		{"cross major needs forward compat on datacenter LTS", facts("13.0", "8.0"), host("535.161.08", "12.2", a100), false,
			[]string{CheckVerdictDriver}, "Forward compatibility applies here"},
		{"forward compat not on GeForce", facts("13.0", "8.9"), host("550.54.15", "12.4", rtx40), false,
			[]string{CheckVerdictDriver}, "data-center GPUs only"},
		{"forward compat not on new-feature branch", facts("13.0", "8.0"), host("550.54.15", "12.4", a100), false,
			[]string{CheckVerdictDriver}, "R550 is not"},
		{"cuda-compat in image bridges", Facts{CUDAVersion: "13.0", Env: map[string]string{}, CompatLibs: []string{"/usr/local/cuda/compat/libcuda.so.1"}, Capabilities: mustCaps("8.0")},
			host("535.161.08", "12.2", a100), true, []string{CheckVerdictDriver}, "cuda-compat"},
		{"CUDA 13 drops Volta", facts("13.0", "7.0,8.0"), host("580.65.06", "13.0", v100), false, []string{CheckVerdictArch}, "12.9"},
		{"CUDA 12 keeps Volta", facts("12.8", "7.0"), host("570.86.15", "12.8", v100), true, nil, ""},
		{"native SASS", facts("12.8", "8.9,9.0"), host("570.86.15", "12.8", h100), true, nil, ""},
		{"same-major binary compatibility", facts("12.8", "8.0"), host("570.86.15", "12.8", l4), true, []string{CheckVerdictArch}, "binary compatibility"},
		{"PTX-only JIT", facts("12.8", "8.9,9.0+PTX"), host("570.86.15", "12.8", b200), true, []string{CheckVerdictArch}, "JIT"},
		{"PTX JIT needs full driver", facts("12.8", "9.0+PTX"), host("550.54.15", "12.4", b200), false, []string{CheckVerdictArch}, "does not cover PTX JIT"},
		{"unsupported capability", facts("12.8", "8.9,9.0"), host("570.86.15", "12.8", a100), false, []string{CheckVerdictArch}, `add "8.0" to cuda.capabilities`},
		{"capabilities unknown", facts("12.8", ""), host("570.86.15", "12.8", a100), true, []string{CheckVerdictArch}, "does not record"},
		{"CPU-only image", facts("", ""), host("570.86.15", "12.8"), true, []string{CheckVerdictGPU}, "CPU-only"},
		{"fleet member without runtime", facts("12.4", "8.0"), &Host{Name: "h", DriverVersion: "550.54.15", CUDAVersion: "12.4", GPUs: []GPU{a100}, Runtime: &Runtime{}},
			true, []string{CheckVerdictRT}, "nvidia-ctk"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := Evaluate(tt.facts, tt.host)
			if v.Compatible != tt.ok {
				t.Errorf("compatible = %v, want %v; findings:\n%s", v.Compatible, tt.ok, dump(v.Findings))
			}
			for _, c := range tt.checks {
				if !v.Findings.Has(c) {
					t.Errorf("missing %s finding; findings:\n%s", c, dump(v.Findings))
				}
			}
			if tt.msg != "" && !strings.Contains(dump(v.Findings), tt.msg) {
				t.Errorf("no finding mentions %q; findings:\n%s", tt.msg, dump(v.Findings))
			}
			if len(tt.checks) == 0 && tt.ok && len(v.Findings) > 0 {
				t.Errorf("want no findings, got:\n%s", dump(v.Findings))
			}
		})
	}
}

func mustCaps(s string) []Capability {
	c, err := ParseCapabilities(s)
	if err != nil {
		panic(err)
	}
	return c
}

func dump(fs Findings) string {
	var b strings.Builder
	for _, f := range fs {
		b.WriteString(f.String() + " | hint: " + f.Hint + "\n")
	}
	return b.String()
}

func TestParseRequirement(t *testing.T) {
	r, err := ParseRequirement("NVIDIA_REQUIRE_CUDA", "cuda>=12.8 brand=tesla,driver>=470,driver<471  brand=unknown,driver>=535,driver<536")
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Alternatives) != 3 || len(r.Alternatives[1]) != 3 || r.Alternatives[1][2] != (Term{"driver", OpLt, "471"}) {
		t.Fatalf("parsed %+v", r.Alternatives)
	}
}

// Identical GPUs are reported once, as a group.
func TestVerdictGroupsGPUs(t *testing.T) {
	g1, g2, g3 := a100, a100, h100
	g2.Index, g3.Index = 1, 2
	v := Evaluate(facts("12.8", "9.0"), host("570.86.15", "12.8", g1, g2, g3))
	arch := v.Findings.ByCheck(CheckVerdictArch)
	if len(arch) != 1 || !strings.Contains(arch[0].Message, "GPUs 0-1") || len(arch[0].GPUs) != 2 {
		t.Fatalf("arch findings = %v", dump(arch))
	}
	if len(v.GPUs) != 2 || v.GPUs[0].Status != "incompatible" || v.GPUs[1].Status != "ok" || len(v.GPUs[0].Indices) != 2 {
		t.Fatalf("GPU summary = %+v", v.GPUs)
	}
}

func TestLegacyRules(t *testing.T) {
	tests := []struct {
		env    map[string]string
		legacy bool
		nreq   int
		nerr   int
	}{
		{map[string]string{"CUDA_VERSION": "12.8.90"}, true, 1, 0},
		{map[string]string{"CUDA_VERSION": "12.8.90", "NVIDIA_REQUIRE_CUDA": ""}, true, 2, 0},
		{map[string]string{"CUDA_VERSION": "12.8.90", "NVIDIA_REQUIRE_CUDA": "cuda>=12.8"}, false, 1, 0},
		{map[string]string{"CUDA_VERSION": "twelve"}, true, 0, 1},
		{map[string]string{"NVIDIA_REQUIRE_JETPACK": "csv-mounts=all"}, false, 0, 0},
	}
	for _, tt := range tests {
		reqs, _, errs := Requirements(tt.env)
		if IsLegacyImage(tt.env) != tt.legacy || len(reqs) != tt.nreq || len(errs) != tt.nerr {
			t.Errorf("%v: legacy=%v reqs=%v errs=%v", tt.env, IsLegacyImage(tt.env), reqs, errs)
		}
	}
}

func TestIndexList(t *testing.T) {
	for _, c := range []struct {
		idx  []int
		sep  string
		want string
	}{
		{nil, ",", ""},
		{[]int{3}, ",", "3"},
		{[]int{0, 1, 2, 3}, ",", "0-3"},
		{[]int{0, 2}, ",", "0,2"},
		{[]int{0, 2, 3}, ", ", "0, 2, 3"},
	} {
		if got := IndexList(c.idx, c.sep); got != c.want {
			t.Errorf("IndexList(%v, %q) = %q, want %q", c.idx, c.sep, got, c.want)
		}
	}
}
