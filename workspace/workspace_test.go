package workspace_test

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/nix2gpu/nix2gpu/workspace"
)

const mark = "# generated\n"

func generated(b []byte) bool { return strings.HasPrefix(string(b), mark) }

func plan(dir string, files map[string]string) workspace.Plan {
	fs := map[string][]byte{}
	for k, v := range files {
		fs[k] = []byte(mark + v)
	}
	return workspace.Plan{Dir: dir, Files: fs, Generated: generated, Prune: []string{"lib"}}
}

func write(t *testing.T, dir, name, content string) {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func read(t *testing.T, dir, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestApplyCreatesUpdatesAndLeavesTheRest(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{"flake.nix": "a", "lib/x.nix": "x"}
	got, err := workspace.Apply(plan(dir, files))
	if err != nil {
		t.Fatal(err)
	}
	want := []workspace.Change{{Path: "flake.nix", Kind: workspace.Create}, {Path: "lib/x.nix", Kind: workspace.Create}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("changes = %v, want %v", got, want)
	}

	// A second run with the same content writes nothing: mtimes stay.
	old := time.Date(2001, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, n := range []string{"flake.nix", "lib/x.nix"} {
		if err := os.Chtimes(filepath.Join(dir, n), old, old); err != nil {
			t.Fatal(err)
		}
	}
	got, err = workspace.Apply(plan(dir, files))
	if err != nil || len(got) != 0 {
		t.Fatalf("second run: changes %v, err %v; want none", got, err)
	}
	for _, n := range []string{"flake.nix", "lib/x.nix"} {
		fi, err := os.Stat(filepath.Join(dir, n))
		if err != nil {
			t.Fatal(err)
		}
		if !fi.ModTime().Equal(old) {
			t.Errorf("%s was rewritten", n)
		}
	}

	files["lib/x.nix"] = "x2"
	got, err = workspace.Apply(plan(dir, files))
	if err != nil {
		t.Fatal(err)
	}
	if want := []workspace.Change{{Path: "lib/x.nix", Kind: workspace.Update}}; !reflect.DeepEqual(got, want) {
		t.Fatalf("changes = %v, want %v", got, want)
	}
	if read(t, dir, "lib/x.nix") != mark+"x2" {
		t.Fatal("update not written")
	}
	entries, _ := os.ReadDir(filepath.Join(dir, "lib"))
	if len(entries) != 1 {
		t.Errorf("temporary files left behind: %v", entries)
	}
}

func TestCheckWritesNothing(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "lib/old.nix", mark+"old")
	got, err := workspace.Check(plan(dir, map[string]string{"flake.nix": "a"}))
	if err != nil {
		t.Fatal(err)
	}
	want := []workspace.Change{{Path: "flake.nix", Kind: workspace.Create}, {Path: "lib/old.nix", Kind: workspace.Remove}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("changes = %v, want %v", got, want)
	}
	if _, err := os.Stat(filepath.Join(dir, "flake.nix")); !errors.Is(err, os.ErrNotExist) {
		t.Error("check mode wrote flake.nix")
	}
	if read(t, dir, "lib/old.nix") != mark+"old" {
		t.Error("check mode removed a file")
	}
}

func TestRefusesHandWrittenFiles(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "flake.nix", "{ outputs = _: { }; }\n")
	_, err := workspace.Apply(plan(dir, map[string]string{"a.nix": "a", "flake.nix": "b"}))
	var ce *workspace.ConflictError
	if !errors.As(err, &ce) || ce.Path != "flake.nix" {
		t.Fatalf("err = %v, want a conflict on flake.nix", err)
	}
	// All or nothing: the other file was not written either.
	if _, err := os.Stat(filepath.Join(dir, "a.nix")); !errors.Is(err, os.ErrNotExist) {
		t.Error("a.nix was written although the plan failed")
	}
	if read(t, dir, "flake.nix") != "{ outputs = _: { }; }\n" {
		t.Error("hand-written flake.nix changed")
	}
}

func TestRefusesSymlinkTarget(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "elsewhere", mark+"x")
	if err := os.Symlink(filepath.Join(dir, "elsewhere"), filepath.Join(dir, "flake.nix")); err != nil {
		t.Skip("no symlinks here")
	}
	_, err := workspace.Apply(plan(dir, map[string]string{"flake.nix": "b"}))
	var ce *workspace.ConflictError
	if !errors.As(err, &ce) {
		t.Fatalf("err = %v, want a conflict", err)
	}
}

func TestPruneRemovesOnlyGeneratedFiles(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "lib/stale.nix", mark+"s")
	write(t, dir, "lib/mine.nix", "# my own helper\n")
	write(t, dir, "flake.lock", mark+"lock")
	write(t, dir, "other/stale.nix", mark+"outside the prune dirs")
	got, err := workspace.Apply(plan(dir, map[string]string{"lib/keep.nix": "k"}))
	if err != nil {
		t.Fatal(err)
	}
	want := []workspace.Change{{Path: "lib/keep.nix", Kind: workspace.Create}, {Path: "lib/stale.nix", Kind: workspace.Remove}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("changes = %v, want %v", got, want)
	}
	for _, n := range []string{"lib/mine.nix", "flake.lock", "other/stale.nix"} {
		if _, err := os.Stat(filepath.Join(dir, n)); err != nil {
			t.Errorf("%s was removed", n)
		}
	}
}

func TestRejectsBadPaths(t *testing.T) {
	for _, n := range []string{"", "/abs.nix", "../up.nix", "a/../b.nix", "./a.nix", "a\\b.nix", "flake.lock"} {
		_, err := workspace.Check(workspace.Plan{Dir: t.TempDir(), Files: map[string][]byte{n: []byte(mark)}, Generated: generated})
		if err == nil {
			t.Errorf("path %q accepted", n)
		}
	}
}

func TestRefusesLinkedLibraryDir(t *testing.T) {
	dir := t.TempDir()
	outside := t.TempDir()
	if err := os.Symlink(outside, filepath.Join(dir, "nix2gpu")); err != nil {
		t.Skip("no symlinks here")
	}
	victim := filepath.Join(outside, "old.nix")
	if err := os.WriteFile(victim, []byte("# Generated by test\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	p := workspace.Plan{
		Dir:       dir,
		Files:     map[string][]byte{"flake.nix": []byte("# Generated by test\n"), "nix2gpu/a.nix": []byte("# Generated by test\n")},
		Generated: func(b []byte) bool { return strings.HasPrefix(string(b), "# Generated") },
		Prune:     []string{"nix2gpu"},
	}
	if _, err := workspace.Apply(p); err == nil || !strings.Contains(err.Error(), "symbolic link") {
		t.Fatalf("Apply through a linked nix2gpu/: %v", err)
	}
	if _, err := os.Stat(victim); err != nil {
		t.Errorf("file behind the link was pruned: %v", err)
	}
	if _, err := os.Stat(filepath.Join(outside, "a.nix")); err == nil {
		t.Error("a generated file was written through the link")
	}
	if _, err := os.Stat(filepath.Join(dir, "flake.nix")); err == nil {
		t.Error("flake.nix was written although the plan failed")
	}
}
