package build

import (
	"context"
	"crypto/rand"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestBuildRealNix runs the real nix on a flake with two derivations that
// need nothing but /bin/sh, so it works offline.
func TestBuildRealNix(t *testing.T) {
	if _, err := exec.LookPath("nix"); err != nil {
		t.Skip("nix is not installed; CI installs nix-bin")
	}
	if testing.Short() {
		t.Skip("runs a real nix build")
	}
	dir := t.TempDir()
	// A random stamp keeps the store paths new, so the build really runs
	// and prints its log lines.
	stamp := rand.Text()
	flake := `{
  outputs = { self }: let
    system = "` + HostSystem() + `";
    dep = derivation { inherit system; name = "dep"; builder = "/bin/sh"; args = [ "-c" "echo dep ` + stamp + `; echo ok > $out" ]; };
  in {
    packages.${system}."my.app" = derivation {
      inherit system; name = "app-image"; builder = "/bin/sh";
      args = [ "-c" "echo first line; echo using ${dep}; echo done > $out" ];
    };
  };
}
`
	if err := os.WriteFile(filepath.Join(dir, "flake.nix"), []byte(flake), 0o644); err != nil {
		t.Fatal(err)
	}
	var lines []string
	var last State
	res, err := Build(context.Background(), Options{
		Dir:        dir,
		Containers: []string{"my.app"}, // a dot: the attribute must be quoted
		ExtraArgs:  []string{"--option", "substituters", ""},
		OutLinks:   true,
		Progress: func(e Event) {
			if e.Kind == EventLogLine {
				lines = append(lines, e.Text)
			}
			last = e.State
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 1 || !strings.HasPrefix(res[0].Path, "/nix/store/") || !strings.HasSuffix(res[0].Path, "-app-image") {
		t.Fatalf("results %+v", res)
	}
	if target, err := os.Readlink(filepath.Join(dir, "result-my.app")); err != nil || target != res[0].Path {
		t.Errorf("result-my.app links to %q (%v), want %s", target, err, res[0].Path)
	}
	if last.Built != 2 || last.Builds != 2 {
		t.Errorf("final state %+v, want 2/2 built", last)
	}
	if got := strings.Join(lines, "|"); !strings.Contains(got, "first line") || !strings.Contains(got, "dep "+stamp) {
		t.Errorf("log lines %q", lines)
	}
}
