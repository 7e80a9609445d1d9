package verify

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/nix2gpu/nix2gpu/image"
)

func TestDockerArchivePlainLayers(t *testing.T) {
	img := fixtures(t)["good"]
	archive := filepath.Join(t.TempDir(), "img.tar")
	tag, _ := name.NewTag("example.org/app:1")
	if err := tarball.WriteToFile(archive, tag, img); err != nil {
		t.Fatal(err)
	}
	got, err := image.Open(context.Background(), archive)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := Image(context.Background(), got, Options{PlainLayers: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Layers) != 1 || !rep.Layers[0].Verified || rep.Findings.Has(CheckDigest) {
		t.Fatalf("layers = %+v, findings = %v", rep.Layers, rep.Findings)
	}
}

// A blob changed on disk after it was written is caught by the digest
// check, gzip-compressed or not.
func TestCorruptLayerDetected(t *testing.T) {
	for _, compressed := range []bool{false, true} {
		img := fixtures(t)["good"]
		if compressed {
			var err error
			img, err = mutate.AppendLayers(empty.Image, mustRandomLayer(t))
			if err != nil {
				t.Fatal(err)
			}
		}
		rep := verifyCorrupted(t, img, func(data []byte) { data[len(data)-1] ^= 0xff })
		if !hasSeverity(rep.Findings.ByCheck(CheckDigest), Error) {
			t.Errorf("compressed=%v: corruption not detected: %v", compressed, rep.Findings)
		}
	}
}

func mustRandomLayer(t *testing.T) v1.Layer {
	l, err := random.Layer(4096, "application/vnd.oci.image.layer.v1.tar+gzip")
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// BenchmarkScanPlainLayer measures the one-pass read (hash + tar walk) of
// an uncompressed layer; compare with BenchmarkSHA256 on the same bytes
// (the sha256sum baseline).
func BenchmarkScanPlainLayer(b *testing.B) {
	files := []file{{name: "big.bin", body: string(make([]byte, 64<<20))}}
	img := buildImage(b, goodConfig(), files)
	layers, _ := img.Layers()
	size, _ := layers[0].Size()
	b.SetBytes(size)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		fsys := &imageFS{entries: map[string]*entry{}, content: map[string][]byte{}}
		var info LayerInfo
		if err := scanLayer(layers[0], 0, fsys, &info, false); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSHA256(b *testing.B) {
	img := buildImage(b, goodConfig(), []file{{name: "big.bin", body: string(make([]byte, 64<<20))}})
	layers, _ := img.Layers()
	size, _ := layers[0].Size()
	b.SetBytes(size)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		rc, _ := layers[0].Uncompressed()
		h := sha256.New()
		io.Copy(h, rc)
		rc.Close()
	}
}

// A plain-tar layer in an OCI layout is checked against the manifest
// digest. ggcr derives the diff ID of such a layer from the bytes it
// reads, so a check by diff ID would accept a corrupted blob.
func TestCorruptPlainLayerInLayout(t *testing.T) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	body := bytes.Repeat([]byte("nix2gpu "), 4096)
	if err := tw.WriteHeader(&tar.Header{Name: "data.bin", Mode: 0o644, Size: int64(len(body)), Typeflag: tar.TypeReg}); err != nil {
		t.Fatal(err)
	}
	if _, err := tw.Write(body); err != nil {
		t.Fatal(err)
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	img, err := mutate.AppendLayers(empty.Image, static.NewLayer(buf.Bytes(), types.OCIUncompressedLayer))
	if err != nil {
		t.Fatal(err)
	}
	rep := verifyCorrupted(t, img, func(data []byte) { data[1024] ^= 0xff }) // inside the file's content
	if !hasSeverity(rep.Findings.ByCheck(CheckDigest), Error) {
		t.Fatalf("corrupted plain layer not detected: layers %+v", rep.Layers)
	}
}

// verifyCorrupted writes img to an OCI layout, lets corrupt change the
// bytes of its first layer's blob on disk, and verifies the layout.
func verifyCorrupted(t *testing.T, img v1.Image, corrupt func([]byte)) *Report {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "oci")
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.AppendImage(img); err != nil {
		t.Fatal(err)
	}
	layers, _ := img.Layers()
	d, _ := layers[0].Digest()
	blob := filepath.Join(dir, "blobs", d.Algorithm, d.Hex)
	data, err := os.ReadFile(blob)
	if err != nil {
		t.Fatal(err)
	}
	corrupt(data)
	if err := os.WriteFile(blob, data, 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := image.Open(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := Image(context.Background(), got, Options{})
	if err != nil {
		t.Fatal(err)
	}
	return rep
}
