package image

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/validate"
)

// fakeStore makes two store paths under a temp dir: a package with a
// binary and a symlink, and a second one.
func fakeStore(t *testing.T) (root string, paths []string) {
	t.Helper()
	root = t.TempDir()
	a := filepath.Join(root, "nix", "store", "aaaa-hello")
	b := filepath.Join(root, "nix", "store", "bbbb-lib")
	must(t, os.MkdirAll(filepath.Join(a, "bin"), 0o755))
	must(t, os.MkdirAll(filepath.Join(b, "lib"), 0o755))
	must(t, os.WriteFile(filepath.Join(a, "bin", "hello"), []byte("#!/bin/sh\necho hi\n"), 0o755))
	must(t, os.Symlink("hello", filepath.Join(a, "bin", "hi")))
	must(t, os.WriteFile(filepath.Join(b, "lib", "libx.so"), bytes.Repeat([]byte("x"), 100000), 0o644))
	return root, []string{a, b}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func digestOf(t *testing.T, paths []StorePath) (string, int64) {
	t.Helper()
	rc := TarStorePaths(paths)
	defer rc.Close()
	h := sha256.New()
	n, err := io.Copy(h, rc)
	must(t, err)
	return "sha256:" + hex.EncodeToString(h.Sum(nil)), n
}

func writeN2C(t *testing.T, dir string, layers []Nix2ContainerLayer) string {
	t.Helper()
	img := map[string]any{
		"version":      1,
		"image-config": map[string]any{"Entrypoint": []string{"/bin/hello"}, "Env": []string{"A=b"}},
		"layers":       layers,
		"arch":         "amd64",
	}
	data, err := json.Marshal(img)
	must(t, err)
	p := filepath.Join(dir, "image.json")
	must(t, os.WriteFile(p, data, 0o644))
	return p
}

func TestNix2Container(t *testing.T) {
	_, paths := fakeStore(t)
	sp := []StorePath{{Path: paths[0]}, {Path: paths[1]}}
	d, n := digestOf(t, sp)
	file := writeN2C(t, t.TempDir(), []Nix2ContainerLayer{{Digest: d, DiffIDs: d, Size: n, Paths: sp, MediaType: "application/vnd.oci.image.layer.v1.tar"}})

	kind, _, err := Detect(file)
	if err != nil || kind != KindNix2Container {
		t.Fatalf("Detect = %v, %v", kind, err)
	}
	img, err := Open(context.Background(), file)
	must(t, err)
	cf, err := img.ConfigFile()
	must(t, err)
	if cf.Config.Entrypoint[0] != "/bin/hello" || len(cf.RootFS.DiffIDs) != 1 {
		t.Fatalf("config = %+v", cf)
	}
	layers, err := img.Layers()
	must(t, err)
	rc, err := layers[0].Compressed()
	must(t, err)
	data, err := io.ReadAll(rc)
	must(t, err)
	if int64(len(data)) != n {
		t.Fatalf("read %d bytes, want %d", len(data), n)
	}
	// The tar has nix2container's shape: "/" first, absolute names, sorted.
	names := tarNames(t, data)
	if names[0] != "/" || !slices.Contains(names, paths[0]+"/bin/hi") || !slices.Contains(names, filepath.Dir(paths[0])) {
		t.Fatalf("names = %v", names)
	}
	// Manifest and config are self-consistent as go-containerregistry
	// sees them (Fast: its layer check assumes gzip blobs; the bytes were
	// checked above).
	if err := validate.Image(img, validate.Fast); err != nil {
		t.Fatal(err)
	}
}

func TestNix2ContainerRewriteAndPerms(t *testing.T) {
	_, paths := fakeStore(t)
	opts := &PathOptions{}
	opts.Rewrite.Regex = "^" + strings.ReplaceAll(paths[0], ".", `\.`)
	opts.Rewrite.Repl = ""
	opts.Perms = append(opts.Perms, PathPerm{Regex: "hello$", Mode: "0700", UID: 1000, Uname: "user"})
	rc := TarStorePaths([]StorePath{{Path: paths[0], Options: opts}})
	data, err := io.ReadAll(rc)
	must(t, err)
	names := tarNames(t, data)
	if !slices.Contains(names, "/bin/hello") || slices.Contains(names, paths[0]) {
		t.Fatalf("names = %v", names)
	}
}

func TestNix2ContainerDigestMismatch(t *testing.T) {
	_, paths := fakeStore(t)
	sp := []StorePath{{Path: paths[0]}}
	d, n := digestOf(t, sp)
	// The store changed after the build: the stream no longer matches.
	must(t, os.WriteFile(filepath.Join(paths[0], "bin", "hello"), []byte("#!/bin/sh\necho changed\n"), 0o755))
	file := writeN2C(t, t.TempDir(), []Nix2ContainerLayer{{Digest: d, DiffIDs: d, Size: n, Paths: sp}})
	img, err := Open(context.Background(), file)
	must(t, err)
	layers, _ := img.Layers()
	rc, err := layers[0].Compressed()
	must(t, err)
	_, err = io.ReadAll(rc)
	var dm *DigestMismatchError
	if !errors.As(err, &dm) {
		t.Fatalf("err = %v, want digest mismatch", err)
	}
}

func TestNix2ContainerBadFile(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "image.json")
	must(t, os.WriteFile(p, []byte(`{"version": 2, "image-config": {}, "layers": []}`), 0o644))
	if _, err := Open(context.Background(), p); err == nil || !strings.Contains(err.Error(), "version 2") {
		t.Fatalf("err = %v", err)
	}
}

func tarNames(t *testing.T, data []byte) []string {
	t.Helper()
	img, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil })
	must(t, err)
	rc, err := img.Uncompressed()
	must(t, err)
	defer rc.Close()
	return readTarNames(t, rc)
}

func TestLayoutAndArchive(t *testing.T) {
	img, err := random.Image(1024, 2)
	must(t, err)
	dir := filepath.Join(t.TempDir(), "oci")
	p, err := layout.Write(dir, empty.Index)
	must(t, err)
	must(t, p.AppendImage(img))
	want, _ := img.Digest()

	got, err := Open(context.Background(), dir)
	must(t, err)
	if d, _ := got.Digest(); d != want {
		t.Fatalf("layout digest %s, want %s", d, want)
	}

	archive := filepath.Join(t.TempDir(), "img.tar")
	tag, _ := name.NewTag("example.org/app:1")
	must(t, tarball.WriteToFile(archive, tag, img))
	if k, _, _ := Detect(archive); k != KindDockerArchive {
		t.Fatalf("kind = %s", k)
	}
	got, err = Open(context.Background(), archive)
	must(t, err)
	if ls, _ := got.Layers(); len(ls) != 2 {
		t.Fatalf("layers = %d", len(ls))
	}
}

func TestRegistry(t *testing.T) {
	srv := httptest.NewServer(registry.New())
	defer srv.Close()
	u, _ := url.Parse(srv.URL)
	img, err := random.Image(512, 1)
	must(t, err)
	ref := u.Host + "/acme/app:latest"
	r, _ := name.ParseReference(ref)
	must(t, remote.Write(r, img))

	got, err := Open(context.Background(), ref)
	must(t, err)
	want, _ := img.Digest()
	if d, _ := got.Digest(); d != want {
		t.Fatalf("digest %s, want %s", d, want)
	}
	if _, err := Open(context.Background(), u.Host+"/acme/missing:1"); err == nil {
		t.Fatal("want error for a missing image")
	}
}

func TestDetect(t *testing.T) {
	tests := []struct {
		ref  string
		kind Kind
		err  bool
	}{
		{"ghcr.io/acme/app:latest", KindRegistry, false},
		{"docker://./odd", KindRegistry, false},
		{"oci:/some/dir", KindLayout, false},
		{"./missing.tar", "", true},
		{"/no/such/dir", "", true},
		{"result", "", true},
	}
	for _, tt := range tests {
		k, _, err := Detect(tt.ref)
		if k != tt.kind || (err != nil) != tt.err {
			t.Errorf("Detect(%q) = %q, %v", tt.ref, k, err)
		}
	}
	var nf *NotFoundError
	if _, _, err := Detect("./missing.tar"); !errors.As(err, &nf) {
		t.Errorf("want NotFoundError, got %v", err)
	}
	_ = v1.Hash{}
}

// A base-image layer nix2container kept as a gzip file (layer-path) reads
// back compressed as the blob and decompressed as the diff.
func TestNix2ContainerLayerPathGzip(t *testing.T) {
	base, err := random.Layer(2048, "application/vnd.oci.image.layer.v1.tar+gzip")
	must(t, err)
	dir := t.TempDir()
	blob := filepath.Join(dir, "base.tar.gz")
	rc, err := base.Compressed()
	must(t, err)
	data, err := io.ReadAll(rc)
	must(t, err)
	must(t, os.WriteFile(blob, data, 0o644))
	d, _ := base.Digest()
	diff, _ := base.DiffID()
	size, _ := base.Size()
	file := writeN2C(t, dir, []Nix2ContainerLayer{{Digest: d.String(), DiffIDs: diff.String(), Size: size, LayerPath: blob, MediaType: "application/vnd.oci.image.layer.v1.tar+gzip"}})
	img, err := Open(context.Background(), file)
	must(t, err)
	layers, _ := img.Layers()
	urc, err := layers[0].Uncompressed()
	must(t, err)
	h := sha256.New()
	_, err = io.Copy(h, urc)
	must(t, err)
	must(t, urc.Close())
	if got := "sha256:" + hex.EncodeToString(h.Sum(nil)); got != diff.String() {
		t.Fatalf("uncompressed digest %s, want diff ID %s", got, diff)
	}
}

// dockerTools.buildLayeredImage writes gzip-compressed docker archives.
func TestCompressedArchive(t *testing.T) {
	img, err := random.Image(1024, 3)
	must(t, err)
	dir := t.TempDir()
	plain := filepath.Join(dir, "img.tar")
	tag, _ := name.NewTag("example.org/app:1")
	must(t, tarball.WriteToFile(plain, tag, img))
	data, err := os.ReadFile(plain)
	must(t, err)
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(data)
	must(t, zw.Close())
	gz := filepath.Join(dir, "img.tar.gz")
	must(t, os.WriteFile(gz, buf.Bytes(), 0o644))

	if k, _, err := Detect(gz); k != KindDockerArchive || err != nil {
		t.Fatalf("Detect = %s, %v", k, err)
	}
	got, err := Open(context.Background(), gz)
	must(t, err)
	want, _ := img.ConfigName()
	if h, _ := got.ConfigName(); h != want {
		t.Fatalf("config %s, want %s", h, want)
	}
	if ls, _ := got.Layers(); len(ls) != 3 {
		t.Fatalf("layers = %d", len(ls))
	}
}

// TestNix2ContainerPermsApplied checks that a perms rule sets the mode and
// owner of the files it matches, and only those.
func TestNix2ContainerPermsApplied(t *testing.T) {
	_, paths := fakeStore(t)
	opts := &PathOptions{}
	opts.Perms = append(opts.Perms, PathPerm{Regex: "/bin/hello$", Mode: "0700", UID: 1000, Uname: "user"})
	tr := tar.NewReader(TarStorePaths([]StorePath{{Path: paths[0], Options: opts}}))
	matched := 0
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		must(t, err)
		if strings.HasSuffix(hdr.Name, "/bin/hello") {
			matched++
			if hdr.Mode != 0o700 || hdr.Uid != 1000 || hdr.Uname != "user" {
				t.Errorf("%s: mode %o uid %d uname %q, want 700, 1000, user", hdr.Name, hdr.Mode, hdr.Uid, hdr.Uname)
			}
		} else if hdr.Uid != 0 || hdr.Uname != "root" {
			t.Errorf("%s: uid %d uname %q, want root", hdr.Name, hdr.Uid, hdr.Uname)
		}
	}
	if matched != 1 {
		t.Errorf("%d entries matched the rule, want 1", matched)
	}
}

// TestNix2ContainerBadPermsRegex: a perms rule that does not compile fails
// the stream with the rule named.
func TestNix2ContainerBadPermsRegex(t *testing.T) {
	_, paths := fakeStore(t)
	opts := &PathOptions{}
	opts.Perms = append(opts.Perms, PathPerm{Regex: "hello(", Mode: "0700"})
	_, err := io.ReadAll(TarStorePaths([]StorePath{{Path: paths[0], Options: opts}}))
	if err == nil || !strings.Contains(err.Error(), `perms regex "hello("`) {
		t.Fatalf("err = %v, want the bad perms regex named", err)
	}
}
