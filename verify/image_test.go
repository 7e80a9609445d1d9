package verify

import (
	"context"
	"strings"
	"testing"
)

func TestImageChecks(t *testing.T) {
	imgs := fixtures(t)
	tests := []struct {
		name string
		// want are check ids that must report an error; warn ones a
		// warning; absent ones must not appear at all.
		want, warn, absent []string
	}{
		{name: "good", absent: []string{CheckEntrypoint, CheckDriverLibs, CheckLDPath, CheckLdconfig, CheckCUDARuntime, CheckDigest, CheckVisible, CheckCapabilities, CheckRequire, CheckLayers}},
		{name: "two-layers", absent: []string{CheckEntrypoint, CheckDriverLibs, CheckDigest}},
		{name: "driver-libs", want: []string{CheckDriverLibs}, absent: []string{CheckEntrypoint}},
		{name: "no-env", want: []string{CheckLDPath}, warn: []string{CheckVisible, CheckCapabilities, CheckRequire}, absent: []string{CheckEntrypoint}},
		{name: "missing-entrypoint", want: []string{CheckEntrypoint}, absent: []string{CheckDriverLibs}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rep, err := Image(context.Background(), imgs[tt.name], Options{})
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range tt.want {
				if !hasSeverity(rep.Findings.ByCheck(c), Error) {
					t.Errorf("want an error from %s, got %v", c, rep.Findings)
				}
			}
			for _, c := range tt.warn {
				if !hasSeverity(rep.Findings.ByCheck(c), Warning) {
					t.Errorf("want a warning from %s, got %v", c, rep.Findings)
				}
			}
			for _, c := range tt.absent {
				if rep.Findings.Has(c) {
					t.Errorf("unexpected %s finding: %v", c, rep.Findings.ByCheck(c))
				}
			}
			for _, l := range rep.Layers {
				if !l.Verified {
					t.Errorf("layer %d not verified: %s", l.Index, l.Error)
				}
			}
		})
	}
}

func hasSeverity(fs Findings, s Severity) bool {
	for _, f := range fs {
		if f.Severity == s {
			return true
		}
	}
	return false
}

func TestDriverLibMessageExplains803(t *testing.T) {
	rep, err := Image(context.Background(), fixtures(t)["driver-libs"], Options{})
	if err != nil {
		t.Fatal(err)
	}
	f := rep.Findings.ByCheck(CheckDriverLibs)
	if len(f) != 1 || !strings.Contains(f[0].Message, "803") || !strings.Contains(f[0].Message, "libcuda.so.1") {
		t.Fatalf("driver library finding = %v", f)
	}
	if strings.Contains(f[0].Message, "stubs") {
		t.Errorf("toolkit stub libcuda.so must not be reported: %s", f[0].Message)
	}
}

func TestFacts(t *testing.T) {
	rep, err := Image(context.Background(), fixtures(t)["good"], Options{})
	if err != nil {
		t.Fatal(err)
	}
	f := rep.Facts
	if f.CUDAVersion != "12.8" || len(f.Capabilities) != 2 || !f.Capabilities[1].PTX || len(f.CUDARuntime) != 2 {
		t.Fatalf("facts = %+v", f)
	}
}

func TestEntrypointNotExecutable(t *testing.T) {
	files := goodFiles()
	files[1].mode = 0o644
	rep, err := Image(context.Background(), buildImage(t, goodConfig(), files), Options{})
	if err != nil {
		t.Fatal(err)
	}
	f := rep.Findings.ByCheck(CheckEntrypoint)
	if len(f) != 1 || !strings.Contains(f[0].Message, "not executable") {
		t.Fatalf("findings = %v", f)
	}
}

func TestEntrypointSymlinkLoop(t *testing.T) {
	cfg := goodConfig()
	cfg.Entrypoint = []string{"/loop"}
	files := append(goodFiles(), file{name: "loop", link: "/loop2"}, file{name: "loop2", link: "loop"})
	rep, err := Image(context.Background(), buildImage(t, cfg, files), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Findings.Has(CheckEntrypoint) {
		t.Fatalf("want entrypoint finding, got %v", rep.Findings)
	}
}

func TestCompiledConfigMismatch(t *testing.T) {
	want := &CompiledConfig{Env: []string{"HF_HOME=/workspace/hf"}, Entrypoint: []string{"/bin/startup"}, ExposedPorts: []string{"22/tcp"}}
	rep, err := Image(context.Background(), fixtures(t)["good"], Options{Compiled: want})
	if err != nil {
		t.Fatal(err)
	}
	if got := len(rep.Findings.ByCheck(CheckCompiled)); got != 2 {
		t.Fatalf("want 2 compiled-config findings (env, port), got %v", rep.Findings.ByCheck(CheckCompiled))
	}
}

func TestParseCapabilities(t *testing.T) {
	caps, err := ParseCapabilities("8.9, sm_90,compute_100, 9.0a+PTX")
	if err != nil {
		t.Fatal(err)
	}
	if len(caps) != 4 || caps[1].Text != "9.0" || caps[1].PTX || !caps[2].PTX || caps[2].Text != "10.0" || caps[3].Text != "9.0a" || !caps[3].PTX {
		t.Fatalf("caps = %+v", caps)
	}
	if _, err := ParseCapabilities("eight"); err == nil {
		t.Fatal("want error")
	}
}

func TestLoaderNotConfigured(t *testing.T) {
	cfg := goodConfig()
	cfg.Env = []string{"PATH=/bin", "CUDA_VERSION=12.8.90", "NVIDIA_VISIBLE_DEVICES=all", "NVIDIA_DRIVER_CAPABILITIES=utility"}
	var files []file
	for _, f := range goodFiles() {
		if f.name != "etc/ld.so.conf" && f.name != "sbin/ldconfig" {
			files = append(files, f)
		}
	}
	rep, err := Image(context.Background(), buildImage(t, cfg, files), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !hasSeverity(rep.Findings.ByCheck(CheckLDPath), Error) {
		t.Errorf("want LD_LIBRARY_PATH error, got %v", rep.Findings)
	}
	if len(rep.Findings.ByCheck(CheckLdconfig)) != 2 {
		t.Errorf("want ldconfig and ld.so.conf warnings, got %v", rep.Findings.ByCheck(CheckLdconfig))
	}
	if !hasSeverity(rep.Findings.ByCheck(CheckCapabilities), Error) {
		t.Errorf("want capabilities error (no compute), got %v", rep.Findings)
	}
}

func TestCPUOnlyImageSkipsGPUChecks(t *testing.T) {
	cfg := goodConfig()
	cfg.Env = []string{"PATH=/bin"}
	cfg.Labels = nil
	rep, err := Image(context.Background(), buildImage(t, cfg, goodFiles()[:2], []file{{name: "bin/startup", link: "/" + storeBin}}), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Findings.Worst() != Info || rep.Findings.Has(CheckVisible) || rep.Findings.Has(CheckLdconfig) {
		t.Fatalf("findings = %v", rep.Findings)
	}
}

// In a Nix image, /etc/ld.so.conf alone does not make injected libraries
// visible; /run/opengl-driver/lib pointing at an injection dir does.
func TestNixLoaderRules(t *testing.T) {
	cfg := goodConfig()
	cfg.Env = []string{"PATH=/bin", "CUDA_VERSION=12.8.90", "NVIDIA_VISIBLE_DEVICES=all", "NVIDIA_DRIVER_CAPABILITIES=compute,utility"}
	rep, err := Image(context.Background(), buildImage(t, cfg, goodFiles()), Options{})
	if err != nil {
		t.Fatal(err)
	}
	f := rep.Findings.ByCheck(CheckLDPath)
	if !hasSeverity(f, Error) || !strings.Contains(f[0].Message, "never reads the system ld.so.cache") {
		t.Fatalf("findings = %v", rep.Findings)
	}
	files := append(goodFiles(), file{name: "run/opengl-driver/lib", link: "/usr/lib/x86_64-linux-gnu"})
	rep, err = Image(context.Background(), buildImage(t, cfg, files), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if f := rep.Findings.ByCheck(CheckLDPath); hasSeverity(f, Error) || len(f) != 1 {
		t.Fatalf("want one warning for /usr/lib64, got %v", f)
	}
}

// In a Nix image /etc/ld.so.conf is a link into the store (buildEnv links
// every file), possibly to a file in an earlier layer; included files may
// be links too. The loader configuration is read through the links.
func TestLdSoConfThroughLinks(t *testing.T) {
	const conf = "nix/store/aaa-ld.so.conf/etc/ld.so.conf"
	const incl = "nix/store/bbb-cuda-conf/etc/ld.so.conf.d/cuda.conf"
	withConf := func(extra ...file) []file {
		var files []file
		for _, f := range goodFiles() {
			if f.name != "etc/ld.so.conf" {
				files = append(files, f)
			}
		}
		return append(files, extra...)
	}
	for _, tc := range []struct {
		name  string
		store []file // an earlier layer
		root  []file
		want  string // the ldconfig finding expected, "" for none
	}{
		{
			name:  "linked file",
			store: []file{{name: conf, body: "/usr/lib/x86_64-linux-gnu\n/usr/lib64\n"}},
			root:  withConf(file{name: "etc/ld.so.conf", link: "/" + conf}),
		},
		{
			name: "linked include directory",
			store: []file{
				{name: conf, body: "include /etc/ld.so.conf.d/*.conf\n"},
				{name: incl, body: "/usr/lib64\n"},
			},
			root: withConf(
				file{name: "etc/ld.so.conf", link: "/" + conf},
				file{name: "etc/ld.so.conf.d", link: "/nix/store/bbb-cuda-conf/etc/ld.so.conf.d"}),
		},
		{
			name:  "linked file without the injection directories",
			store: []file{{name: conf, body: "/opt/lib\n"}},
			root:  withConf(file{name: "etc/ld.so.conf", link: "/" + conf}),
			want:  "does not list the driver injection directories",
		},
		{
			name: "dangling link",
			root: withConf(file{name: "etc/ld.so.conf", link: "/" + conf}),
			want: "has no /etc/ld.so.conf",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			layers := [][]file{tc.root}
			if tc.store != nil {
				layers = [][]file{tc.store, tc.root}
			}
			rep, err := Image(context.Background(), buildImage(t, goodConfig(), layers...), Options{})
			if err != nil {
				t.Fatal(err)
			}
			got := rep.Findings.ByCheck(CheckLdconfig)
			switch {
			case tc.want == "" && len(got) != 0:
				t.Errorf("want no ldconfig finding, got %v", got)
			case tc.want != "" && (len(got) != 1 || !strings.Contains(got[0].Message, tc.want)):
				t.Errorf("want one ldconfig finding %q, got %v", tc.want, got)
			}
		})
	}
}
