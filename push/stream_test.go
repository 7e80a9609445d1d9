package push

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/nix2gpu/nix2gpu/internal/testregistry"
)

// bigLayerSize is large next to what a streaming push holds in memory
// (buffers of some kilobytes) and small enough to write quickly.
const bigLayerSize = 128 << 20

// fileLayer is an uncompressed layer read from a file on each request, as
// OCI layouts and nix2container layers are.
type fileLayer struct {
	path   string
	digest v1.Hash
	size   int64
}

func (l *fileLayer) Digest() (v1.Hash, error)             { return l.digest, nil }
func (l *fileLayer) DiffID() (v1.Hash, error)             { return l.digest, nil }
func (l *fileLayer) Size() (int64, error)                 { return l.size, nil }
func (l *fileLayer) MediaType() (types.MediaType, error)  { return types.OCIUncompressedLayer, nil }
func (l *fileLayer) Compressed() (io.ReadCloser, error)   { return os.Open(l.path) }
func (l *fileLayer) Uncompressed() (io.ReadCloser, error) { return os.Open(l.path) }

// writeBigLayer writes incompressible bytes to path and returns their digest.
func writeBigLayer(t *testing.T, path string) v1.Hash {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h := sha256.New()
	src := rand.NewChaCha8([32]byte{'n', 'i', 'x', '2', 'g', 'p', 'u'})
	if _, err := io.CopyN(io.MultiWriter(f, h), src, bigLayerSize); err != nil {
		t.Fatal(err)
	}
	return v1.Hash{Algorithm: "sha256", Hex: hex.EncodeToString(h.Sum(nil))}
}

// TestPushStreamsLayers pushes a 128 MiB layer from a fresh process and
// checks that process's peak memory stays far below the layer's size: the
// layer goes from file to socket without being held in memory.
func TestPushStreamsLayers(t *testing.T) {
	if os.Getenv("NIX2GPU_STREAM_CHILD") != "" {
		streamChild(t)
		return
	}
	if testing.Short() {
		t.Skip("pushes 128 MiB")
	}
	reg := testregistry.Start(t)
	layerPath := filepath.Join(t.TempDir(), "layer")
	digest := writeBigLayer(t, layerPath)

	cmd := exec.Command(os.Args[0], "-test.run=^TestPushStreamsLayers$", "-test.count=1")
	cmd.Env = append(os.Environ(),
		"NIX2GPU_STREAM_CHILD=1",
		"NIX2GPU_STREAM_LAYER="+layerPath,
		"NIX2GPU_STREAM_DIGEST="+digest.String(),
		"NIX2GPU_STREAM_REF="+reg.Host+"/nix2gpu/big:1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child push: %v\n%s", err, out)
	}
	ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	if !ok {
		t.Skip("no rusage on this platform")
	}
	peak := ru.Maxrss << 10 // Linux reports kilobytes
	t.Logf("peak RSS of a %d MiB push: %d MiB", bigLayerSize>>20, peak>>20)
	if raceEnabled {
		t.Log("race detector on: its shadow memory makes the bound meaningless")
	} else if peak > bigLayerSize/2 {
		t.Errorf("peak RSS %d MiB for a %d MiB layer: the layer seems buffered", peak>>20, bigLayerSize>>20)
	}
	if got := pulledDigest(t, reg.Host+"/nix2gpu/big:1"); got.Hex == "" {
		t.Error("image not in the registry")
	}
}

func streamChild(t *testing.T) {
	digest, err := v1.NewHash(os.Getenv("NIX2GPU_STREAM_DIGEST"))
	if err != nil {
		t.Fatal(err)
	}
	layer := &fileLayer{path: os.Getenv("NIX2GPU_STREAM_LAYER"), digest: digest, size: bigLayerSize}
	img, err := mutate.AppendLayers(empty.Image, layer)
	if err != nil {
		t.Fatal(err)
	}
	res, err := Push(context.Background(), img, []string{os.Getenv("NIX2GPU_STREAM_REF")}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if res[0].Uploaded != 2 {
		t.Fatalf("result %+v, want 2 uploads", res[0])
	}
}
