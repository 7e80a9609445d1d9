// Command ocigen writes an OCI image layout with one large layer of random
// bytes, for timing layer digest verification and pushes. The layer is an
// uncompressed tar (random data does not compress, and gzip would make
// generation, not the code under test, dominate the run), so its digest
// and its diff ID are the same.
//
// Usage:
//
//	go run ./bench/ocigen -mib 1024 -o bench/out/oci-1g
package main

import (
	"archive/tar"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"hash"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"time"
)

func main() {
	mib := flag.Int("mib", 1024, "size of the random file inside the layer, in MiB")
	out := flag.String("o", "", "output directory (created; must not exist or be empty)")
	seed := flag.Uint64("seed", 1, "random seed; the same seed gives the same layout")
	flag.Parse()
	if *out == "" || *mib < 1 {
		fmt.Fprintln(os.Stderr, "usage: ocigen -mib N -o DIR")
		os.Exit(2)
	}
	if err := write(*out, int64(*mib)<<20, *seed); err != nil {
		fmt.Fprintf(os.Stderr, "ocigen: %v\n", err)
		os.Exit(1)
	}
}

// descriptor is the part of an OCI descriptor the layout needs.
type descriptor struct {
	MediaType   string            `json:"mediaType"`
	Digest      string            `json:"digest"`
	Size        int64             `json:"size"`
	Annotations map[string]string `json:"annotations,omitempty"`
}

func write(dir string, size int64, seed uint64) error {
	blobs := filepath.Join(dir, "blobs", "sha256")
	if err := os.MkdirAll(blobs, 0o755); err != nil {
		return err
	}
	layer, err := writeLayer(blobs, size, seed)
	if err != nil {
		return fmt.Errorf("layer: %w", err)
	}
	cfg := map[string]any{
		"architecture": "amd64",
		"os":           "linux",
		"created":      time.Unix(0, 0).UTC().Format(time.RFC3339),
		"config": map[string]any{
			"Env": []string{
				"PATH=/bin:/usr/bin",
				"NVIDIA_VISIBLE_DEVICES=all",
				"NVIDIA_DRIVER_CAPABILITIES=compute,utility",
				"NVIDIA_REQUIRE_CUDA=cuda>=12.8",
				"LD_LIBRARY_PATH=/usr/lib64:/usr/local/nvidia/lib64",
			},
			"Entrypoint": []string{"/bin/tini", "--", "/bin/startup"},
			"Labels":     map[string]string{"org.nix2gpu.cuda.version": "12.8"},
			"WorkingDir": "/workspace",
		},
		"rootfs": map[string]any{"type": "layers", "diff_ids": []string{layer.Digest}},
	}
	config, err := writeJSON(blobs, "application/vnd.oci.image.config.v1+json", cfg)
	if err != nil {
		return fmt.Errorf("config: %w", err)
	}
	manifest, err := writeJSON(blobs, "application/vnd.oci.image.manifest.v1+json", map[string]any{
		"schemaVersion": 2,
		"mediaType":     "application/vnd.oci.image.manifest.v1+json",
		"config":        config,
		"layers":        []descriptor{layer},
	})
	if err != nil {
		return fmt.Errorf("manifest: %w", err)
	}
	manifest.Annotations = map[string]string{"org.opencontainers.image.ref.name": "latest"}
	index, err := json.Marshal(map[string]any{
		"schemaVersion": 2,
		"mediaType":     "application/vnd.oci.image.index.v1+json",
		"manifests":     []descriptor{manifest},
	})
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "index.json"), index, 0o644); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "oci-layout"), []byte(`{"imageLayoutVersion":"1.0.0"}`), 0o644)
}

// writeLayer streams a tar holding one file of size random bytes into the
// blob directory, hashing as it writes, and renames it to its digest.
func writeLayer(blobs string, size int64, seed uint64) (descriptor, error) {
	tmp, err := os.CreateTemp(blobs, "layer-*")
	if err != nil {
		return descriptor{}, err
	}
	defer os.Remove(tmp.Name())
	h := sha256.New()
	cw := &countWriter{w: io.MultiWriter(tmp, h)}
	tw := tar.NewWriter(cw)
	hdr := &tar.Header{Name: "data/random.bin", Mode: 0o644, Size: size, ModTime: time.Unix(0, 0), Typeflag: tar.TypeReg}
	if err := tw.WriteHeader(hdr); err != nil {
		return descriptor{}, err
	}
	rng := rand.NewChaCha8(seedBytes(seed))
	if _, err := io.CopyN(tw, rng, size); err != nil {
		return descriptor{}, err
	}
	if err := tw.Close(); err != nil {
		return descriptor{}, err
	}
	if err := tmp.Chmod(0o644); err != nil {
		return descriptor{}, err
	}
	if err := tmp.Close(); err != nil {
		return descriptor{}, err
	}
	d := descriptor{MediaType: "application/vnd.oci.image.layer.v1.tar", Digest: digest(h), Size: cw.n}
	return d, os.Rename(tmp.Name(), filepath.Join(blobs, d.Digest[len("sha256:"):]))
}

func writeJSON(blobs, mediaType string, v any) (descriptor, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return descriptor{}, err
	}
	h := sha256.New()
	h.Write(b)
	d := descriptor{MediaType: mediaType, Digest: digest(h), Size: int64(len(b))}
	return d, os.WriteFile(filepath.Join(blobs, d.Digest[len("sha256:"):]), b, 0o644)
}

func digest(h hash.Hash) string { return "sha256:" + hex.EncodeToString(h.Sum(nil)) }

func seedBytes(seed uint64) [32]byte {
	var s [32]byte
	for i := 0; i < 8; i++ {
		s[i] = byte(seed >> (8 * i))
	}
	return s
}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}
