package verify

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/nix2gpu/nix2gpu/image"
)

// A nix2container image file, its layer streamed from a fake store: the
// entrypoint is found through the absolute store names nix2container
// writes, and the layer digest is verified.
func TestNix2ContainerImage(t *testing.T) {
	root := t.TempDir()
	pkg := filepath.Join(root, "nix", "store", "aaaa-startup")
	if err := os.MkdirAll(filepath.Join(pkg, "bin"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(pkg, "bin", "startup"), []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	paths := []image.StorePath{{Path: pkg}}
	h := sha256.New()
	n, err := io.Copy(h, image.TarStorePaths(paths))
	if err != nil {
		t.Fatal(err)
	}
	d := "sha256:" + hex.EncodeToString(h.Sum(nil))
	doc := map[string]any{
		"version": 1,
		"image-config": map[string]any{
			"Entrypoint": []string{filepath.Join(pkg, "bin", "startup")},
			"Env":        []string{"PATH=/bin"},
		},
		"layers": []map[string]any{{"digest": d, "diff_ids": d, "size": n, "paths": paths, "mediatype": "application/vnd.oci.image.layer.v1.tar"}},
		"arch":   "amd64",
	}
	data, _ := json.Marshal(doc)
	file := filepath.Join(t.TempDir(), "image.json")
	if err := os.WriteFile(file, data, 0o644); err != nil {
		t.Fatal(err)
	}
	img, err := image.Open(context.Background(), file)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := Image(context.Background(), img, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Findings.Worst() == Error || !rep.Layers[0].Verified {
		t.Fatalf("findings = %v, layers = %+v", rep.Findings, rep.Layers)
	}

	// Change the store after the "build": the digest check catches it.
	if err := os.WriteFile(filepath.Join(pkg, "bin", "startup"), []byte("#!/bin/bash\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	rep, err = Image(context.Background(), img, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !hasSeverity(rep.Findings.ByCheck(CheckDigest), Error) {
		t.Fatalf("changed store not detected: %v", rep.Findings)
	}
}
