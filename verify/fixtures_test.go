package verify

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/nix2gpu/nix2gpu/image"
)

var update = flag.Bool("update", false, "rewrite testdata/images fixtures")

// file is one tar entry of a test layer.
type file struct {
	name string
	body string
	mode int64
	link string // symlink target
	dir  bool
}

func tarLayer(t testing.TB, files []file) v1.Layer {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, f := range files {
		h := &tar.Header{Name: f.name, Mode: f.mode, Uname: "root", Gname: "root"}
		switch {
		case f.dir:
			h.Typeflag = tar.TypeDir
			if h.Mode == 0 {
				h.Mode = 0o755
			}
		case f.link != "":
			h.Typeflag, h.Linkname, h.Mode = tar.TypeSymlink, f.link, 0o777
		default:
			h.Typeflag, h.Size = tar.TypeReg, int64(len(f.body))
			if h.Mode == 0 {
				h.Mode = 0o644
			}
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if h.Typeflag == tar.TypeReg {
			tw.Write([]byte(f.body))
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	// Uncompressed static layers keep the fixtures byte-stable across Go
	// versions (gzip output is not).
	return static.NewLayer(buf.Bytes(), types.OCIUncompressedLayer)
}

const storeBin = "nix/store/abc123-nix2gpu-startup/bin/startup"

// goodFiles is a small Nix-style GPU image: the entrypoint is a symlink
// into the store, the CUDA runtime is present, the loader is configured.
func goodFiles() []file {
	return []file{
		{name: "nix/store/abc123-nix2gpu-startup/bin/", dir: true},
		{name: storeBin, body: "#!/bin/sh\nexec sleep infinity\n", mode: 0o755},
		{name: "nix/store/def456-cuda_cudart-12.8.90/lib/libcudart.so.12.8.90", body: "ELF", mode: 0o755},
		{name: "nix/store/def456-cuda_cudart-12.8.90/lib/libcudart.so.12", link: "libcudart.so.12.8.90"},
		{name: "nix/store/def456-cuda_cudart-12.8.90/lib/stubs/libcuda.so", body: "stub"},
		{name: "bin/", dir: true},
		{name: "bin/startup", link: "/" + storeBin},
		{name: "sbin/ldconfig", body: "ELF", mode: 0o755},
		{name: "etc/ld.so.conf", body: "/usr/lib/x86_64-linux-gnu\n/usr/lib64\n"},
	}
}

func goodEnv() []string {
	return []string{
		"PATH=/bin:/usr/bin",
		"NVIDIA_VISIBLE_DEVICES=all",
		"NVIDIA_DRIVER_CAPABILITIES=compute,utility",
		"NVIDIA_REQUIRE_CUDA=cuda>=12.8",
		"CUDA_VERSION=12.8.90",
		"LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu:/usr/lib64",
	}
}

func goodLabels() map[string]string {
	return map[string]string{
		"org.nix2gpu.cuda.version":      "12.8",
		"org.nix2gpu.cuda.capabilities": "8.9,9.0+PTX",
	}
}

func buildImage(t testing.TB, cfg v1.Config, layers ...[]file) v1.Image {
	t.Helper()
	img := empty.Image
	for _, fs := range layers {
		var err error
		img, err = mutate.AppendLayers(img, tarLayer(t, fs))
		if err != nil {
			t.Fatal(err)
		}
	}
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	cf = cf.DeepCopy()
	cf.Architecture, cf.OS = "amd64", "linux"
	cf.Config = cfg
	img, err = mutate.ConfigFile(img, cf)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

func goodConfig() v1.Config {
	return v1.Config{
		Entrypoint:   []string{"/bin/startup"},
		Env:          goodEnv(),
		Labels:       goodLabels(),
		ExposedPorts: map[string]struct{}{"8188/tcp": {}},
	}
}

// fixtures are the images the tests and the CLI scripts use.
func fixtures(t testing.TB) map[string]v1.Image {
	good := buildImage(t, goodConfig(), goodFiles())

	baked := append(goodFiles(),
		file{name: "usr/lib/x86_64-linux-gnu/libcuda.so.550.54.15", body: "ELF", mode: 0o755},
		file{name: "usr/lib/x86_64-linux-gnu/libcuda.so.1", link: "libcuda.so.550.54.15"},
		file{name: "usr/lib/x86_64-linux-gnu/libnvidia-ml.so.1", body: "ELF", mode: 0o755},
	)
	withDriver := buildImage(t, goodConfig(), baked)

	noEnvCfg := goodConfig()
	noEnvCfg.Env = []string{"PATH=/bin"}
	noEnv := buildImage(t, noEnvCfg, goodFiles())

	missingCfg := goodConfig()
	missingCfg.Entrypoint = []string{"/bin/does-not-exist"}
	missing := buildImage(t, missingCfg, goodFiles())

	// The same files split over two layers, the second deleting a file.
	split := buildImage(t, goodConfig(), goodFiles()[:5], append(goodFiles()[5:], file{name: "etc/.wh.motd"}))

	return map[string]v1.Image{
		"good": good, "driver-libs": withDriver, "no-env": noEnv,
		"missing-entrypoint": missing, "two-layers": split,
	}
}

// TestArchiveFixture keeps testdata/images/good.tar.gz, a gzip-compressed
// docker archive as nixpkgs' dockerTools writes them, in step with the
// good image (compared by config digest: gzip bytes vary between Go
// versions).
func TestArchiveFixture(t *testing.T) {
	img := fixtures(t)["good"]
	file := filepath.Join("..", "testdata", "images", "good.tar.gz")
	if *update {
		var plain bytes.Buffer
		tag, _ := name.NewTag("nix2gpu.local/good:latest")
		if err := tarball.Write(tag, img, &plain); err != nil {
			t.Fatal(err)
		}
		var gz bytes.Buffer
		zw := gzip.NewWriter(&gz)
		zw.Write(plain.Bytes())
		if err := zw.Close(); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(file, gz.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	got, err := image.Open(context.Background(), file)
	if err != nil {
		t.Fatalf("%v (run with -update)", err)
	}
	want, _ := img.ConfigName()
	if h, _ := got.ConfigName(); h != want {
		t.Errorf("good.tar.gz is stale (run go test ./verify -run TestArchiveFixture -update)")
	}
}

// TestFixtures keeps testdata/images (used by the CLI scripts) in step
// with the builders above: `go test ./verify -run TestFixtures -update`.
func TestFixtures(t *testing.T) {
	root := filepath.Join("..", "testdata", "images")
	for name, img := range fixtures(t) {
		dir := filepath.Join(root, name)
		if *update {
			os.RemoveAll(dir)
			p, err := layout.Write(dir, empty.Index)
			if err != nil {
				t.Fatal(err)
			}
			if err := p.AppendImage(img); err != nil {
				t.Fatal(err)
			}
			continue
		}
		p, err := layout.FromPath(dir)
		if err != nil {
			t.Fatalf("%s: %v (run with -update)", name, err)
		}
		idx, err := p.ImageIndex()
		if err != nil {
			t.Fatal(err)
		}
		m, err := idx.IndexManifest()
		if err != nil {
			t.Fatal(err)
		}
		want, _ := img.Digest()
		if len(m.Manifests) != 1 || m.Manifests[0].Digest != want {
			t.Errorf("%s: fixture is stale (run go test ./verify -run TestFixtures -update)", name)
		}
	}
}
