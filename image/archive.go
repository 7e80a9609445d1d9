package image

import (
	"fmt"
	"io"
	"os"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// openArchive reads a docker-archive tarball (`docker save`, nixpkgs
// dockerTools). Plain archives are read in place. Compressed ones
// (dockerTools.buildLayeredImage writes .tar.gz by default) cannot be
// read in place, because the archive is opened once per member and a
// gzip stream cannot seek: they are decompressed once into an unlinked
// temporary file, which disappears with the process.
func openArchive(path string) (v1.Image, error) {
	head, err := readHead(path, 512)
	if err != nil {
		return nil, err
	}
	if !isGzip(head) && !isZstd(head) {
		img, err := tarball.ImageFromPath(path, nil)
		if err != nil {
			return nil, fmt.Errorf("reading docker archive %s: %w", path, err)
		}
		return img, nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	plain, err := decompressed(f)
	if err != nil {
		return nil, fmt.Errorf("reading docker archive %s: %w", path, err)
	}
	defer plain.Close()
	tmp, err := os.CreateTemp("", "nix2gpu-archive-*.tar")
	if err != nil {
		return nil, fmt.Errorf("decompressing docker archive: %w", err)
	}
	// Unlinked at once: the open descriptor keeps the data readable for
	// as long as the image is used, and nothing is left behind.
	os.Remove(tmp.Name())
	size, err := io.Copy(tmp, plain)
	if err != nil {
		tmp.Close()
		return nil, fmt.Errorf("decompressing docker archive %s: %w", path, err)
	}
	opener := func() (io.ReadCloser, error) {
		return io.NopCloser(io.NewSectionReader(tmp, 0, size)), nil
	}
	img, err := tarball.Image(opener, nil)
	if err != nil {
		tmp.Close()
		return nil, fmt.Errorf("reading docker archive %s: %w", path, err)
	}
	return img, nil
}
