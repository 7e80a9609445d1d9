package build

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// fakeNix points the test at testdata/fakenix/nix replaying the named log.
func fakeNix(t *testing.T, log string, exit string) (nix, argsFile string) {
	t.Helper()
	nix, err := filepath.Abs(filepath.Join("..", "testdata", "fakenix", "nix"))
	if err != nil {
		t.Fatal(err)
	}
	logPath, err := filepath.Abs(filepath.Join("..", "testdata", "nixlogs", log))
	if err != nil {
		t.Fatal(err)
	}
	argsFile = filepath.Join(t.TempDir(), "args")
	t.Setenv("FAKENIX_LOG", logPath)
	t.Setenv("FAKENIX_EXIT", exit)
	t.Setenv("FAKENIX_ARGS", argsFile)
	return nix, argsFile
}

// TestOutLinksInRelativeDir: a relative Dir gets its result links in
// that directory, not in Dir/Dir.
func TestOutLinksInRelativeDir(t *testing.T) {
	nix, _ := fakeNix(t, "success.log", "0")
	parent := t.TempDir()
	if err := os.Mkdir(filepath.Join(parent, "proj"), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Chdir(parent)
	res, err := Build(context.Background(), Options{Dir: "proj", Containers: []string{"app"}, Nix: nix, OutLinks: true})
	if err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(parent, "proj", OutLink("app"))
	if target, err := os.Readlink(link); err != nil || target != res[0].Path {
		t.Errorf("result link %s: %q, %v; want %s", link, target, err, res[0].Path)
	}
}

func TestBuildSuccess(t *testing.T) {
	nix, argsFile := fakeNix(t, "success.log", "0")
	dir := t.TempDir()
	var evs []Event
	res, err := Build(context.Background(), Options{
		Dir:        dir,
		Containers: []string{"app", "worker"},
		System:     "aarch64-linux",
		Builders:   "ssh://gh200 aarch64-linux",
		MaxJobs:    "4",
		Nix:        nix,
		ExtraArgs:  []string{"--override-input", "nixpkgs", "path:./stub"},
		OutLinks:   true,
		Progress:   func(e Event) { evs = append(evs, e) },
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []Result{
		{Container: "app", System: "aarch64-linux", Path: "/nix/store/0000000000000000000000000000000a-app"},
		{Container: "worker", System: "aarch64-linux", Path: "/nix/store/0000000000000000000000000000000a-worker"},
	}
	if !reflect.DeepEqual(res, want) {
		t.Errorf("results\n got %+v\nwant %+v", res, want)
	}
	for _, r := range want {
		if target, err := os.Readlink(filepath.Join(dir, OutLink(r.Container))); err != nil || target != r.Path {
			t.Errorf("result link of %s: %q, %v", r.Container, target, err)
		}
	}
	if len(evs) == 0 || evs[len(evs)-1].State.Built != 4 {
		t.Errorf("progress did not reach 4 built: %d events", len(evs))
	}
	args, err := os.ReadFile(argsFile)
	if err != nil {
		t.Fatal(err)
	}
	wantArgs := []string{
		"build", "--extra-experimental-features", "nix-command flakes",
		"--log-format", "internal-json", "-v", "--json", "--no-link",
		"--builders", "ssh://gh200 aarch64-linux", "--max-jobs", "4",
		"--override-input", "nixpkgs", "path:./stub",
		"path:" + dir + "#packages.aarch64-linux.app", "path:" + dir + "#packages.aarch64-linux.worker",
	}
	if got := strings.Split(strings.TrimSuffix(string(args), "\n"), "\n"); !reflect.DeepEqual(got, wantArgs) {
		t.Errorf("nix args\n got %q\nwant %q", got, wantArgs)
	}
}

func TestBuildFailure(t *testing.T) {
	nix, _ := fakeNix(t, "fail.log", "1")
	_, err := Build(context.Background(), Options{Dir: t.TempDir(), Containers: []string{"broken"}, Nix: nix})
	var be *Error
	if !errors.As(err, &be) {
		t.Fatalf("err = %v, want *build.Error", err)
	}
	if DrvName(be.Drv) != "torch-2.5.1" || be.ExitCode != 1 || len(be.Log) != tailLines {
		t.Errorf("error = %+v", be)
	}
	const want = "building torch-2.5.1 failed: builder for '/nix/store/4pd1xys4nj70n1lay1zwkxs4lysifnz0-torch-2.5.1.drv' failed with exit code 2"
	if err.Error() != want {
		t.Errorf("message\n got %q\nwant %q", err.Error(), want)
	}
}

func TestBuildNixMissing(t *testing.T) {
	_, err := Build(context.Background(), Options{
		Dir: t.TempDir(), Containers: []string{"app"},
		Nix: filepath.Join(t.TempDir(), "no-such-nix"),
	})
	if !errors.Is(err, ErrNixNotFound) {
		t.Fatalf("err = %v, want ErrNixNotFound", err)
	}
}

func TestBuildDefaultsToHostSystem(t *testing.T) {
	args := Args(Options{Dir: "/p", Containers: []string{"a"}})
	if last := args[len(args)-1]; last != "path:/p#packages."+HostSystem()+".a" {
		t.Errorf("installable %q", last)
	}
	for _, a := range args {
		if a == "--system" || a == "--builders" || a == "--max-jobs" {
			t.Errorf("unexpected %s without a value", a)
		}
	}
}

func TestArgsQuotesDottedNames(t *testing.T) {
	args := Args(Options{Dir: "/p", System: "x86_64-linux", Containers: []string{"my.app", "plain-app_2"}})
	got := args[len(args)-2:]
	want := []string{`path:/p#packages.x86_64-linux."my.app"`, "path:/p#packages.x86_64-linux.plain-app_2"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("installables %q, want %q", got, want)
	}
}

func TestArgsSystem(t *testing.T) {
	tests := []struct {
		opts Options
		want string // the --system value passed, "" for none
	}{
		{Options{}, ""},
		{Options{System: "aarch64-linux"}, "aarch64-linux"},
		// With builders, nix must not think it builds aarch64 itself.
		{Options{System: "aarch64-linux", Builders: "ssh://gh200 aarch64-linux"}, ""},
	}
	for _, tt := range tests {
		tt.opts.Dir, tt.opts.Containers = "/p", []string{"a"}
		args := Args(tt.opts)
		got := ""
		for i, a := range args {
			if a == "--system" {
				got = args[i+1]
			}
		}
		if got != tt.want {
			t.Errorf("Args(%+v) passes --system %q, want %q", tt.opts, got, tt.want)
		}
		sys := tt.opts.System
		if sys == "" {
			sys = HostSystem()
		}
		if last := args[len(args)-1]; last != "path:/p#packages."+sys+".a" {
			t.Errorf("installable %q", last)
		}
	}
}

func TestReadLinesCutsLongLines(t *testing.T) {
	long := strings.Repeat("x", maxLine*3)
	in := "a\n" + long + "\nb"
	var got []string
	if err := readLines(strings.NewReader(in), func(l []byte) { got = append(got, string(l)) }); err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 || got[0] != "a" || len(got[1]) != maxLine || got[2] != "b" {
		t.Errorf("got %d lines, lengths %d", len(got), len(got[1]))
	}
}

func TestParseOutputs(t *testing.T) {
	if _, err := parseOutputs([]byte("not json")); err == nil {
		t.Error("no error for bad JSON")
	}
	if _, err := parseOutputs([]byte(`[{"drvPath":"/d","outputs":{"bin":"/b"}}]`)); err == nil {
		t.Error("no error for missing out")
	}
	got, err := parseOutputs([]byte("[{\"drvPath\":\"/d\",\"outputs\":{\"out\":\"/o\"}}]\n"))
	if err != nil || len(got) != 1 || got[0] != "/o" {
		t.Errorf("got %q, %v", got, err)
	}
}
