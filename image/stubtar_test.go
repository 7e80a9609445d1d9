package image

import (
	"bytes"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// The stub nix2container of the Nix tests writes layer tars with a shell
// script and records their digests; nix2gpu then streams the same layers
// from the store with TarStorePaths. The two must agree byte for byte,
// on the cases that trip tar writers: names sorted per level ("a" before
// "a-c" before "a.b", a subdirectory's entries before "a-c"), hidden
// files, empty files, sizes at and past a block, symlinks, setuid, names
// over 100 bytes (ustar's prefix field), a path rewritten to the root, a
// single-file store path.
func TestStubLayerTarMatchesStoreTar(t *testing.T) {
	for _, tool := range []string{"sh", "od", "awk", "sort", "cut", "stat", "head", "tail", "mktemp"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not found", tool)
		}
	}
	store := t.TempDir()
	pkg := filepath.Join(store, "aaaa-pkg")
	root := filepath.Join(store, "bbbb-root")
	single := filepath.Join(store, "cccc-file")
	long := filepath.Join(store, "dddd-"+strings.Repeat("long-name-", 6))
	write := func(p string, data string, mode os.FileMode) {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, mode); err != nil {
			t.Fatal(err)
		}
	}
	link := func(target, p string) {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(target, p); err != nil {
			t.Fatal(err)
		}
	}
	write(filepath.Join(pkg, "bin", "tool"), "#!/bin/sh\n", 0o555)
	write(filepath.Join(pkg, "bin", "suid"), "s", 0o4755)
	write(filepath.Join(pkg, "a", "b", "block"), strings.Repeat("x", 512), 0o444)
	write(filepath.Join(pkg, "a-c", "more"), strings.Repeat("y", 513), 0o444)
	write(filepath.Join(pkg, "a.b"), "", 0o444)
	write(filepath.Join(pkg, ".hidden"), "h", 0o444)
	link("../a/b/block", filepath.Join(pkg, "lib", "libx.so.1"))
	link(filepath.Join(pkg, "bin", "tool"), filepath.Join(root, "bin", "tool"))
	write(filepath.Join(root, "etc", "ld.so.conf"), "/usr/lib64\n", 0o444)
	write(single, "one file", 0o444)
	write(filepath.Join(long, "nix-support", "a-directory-name-long-enough", "record.json"), "{}", 0o444)

	rootOpts := &PathOptions{}
	rootOpts.Rewrite.Regex = "^" + root
	var want bytes.Buffer
	rc := TarStorePaths([]StorePath{{Path: pkg}, {Path: root, Options: rootOpts}, {Path: single}, {Path: long}})
	if _, err := io.Copy(&want, rc); err != nil {
		t.Fatal(err)
	}
	if names := readTarNames(t, bytes.NewReader(want.Bytes())); len(names) < 20 {
		t.Fatalf("fixture too small: %q", names)
	}

	script, err := filepath.Abs(filepath.Join("..", "testdata", "stub-inputs", "nix2container", "layer-tar.sh"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("sh", script, pkg, "--root", root, single, long)
	cmd.Env = append(os.Environ(), "TMPDIR="+t.TempDir())
	var got, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &got, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("layer-tar.sh: %v\n%s", err, stderr.String())
	}
	if !bytes.Equal(got.Bytes(), want.Bytes()) {
		g, w := got.Bytes(), want.Bytes()
		i := 0
		for i < len(g) && i < len(w) && g[i] == w[i] {
			i++
		}
		t.Fatalf("layer-tar.sh wrote %d bytes, TarStorePaths %d; first difference at byte %d (entry header at %d)", len(g), len(w), i, i/512*512)
	}
}
