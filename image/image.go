// Package image opens container images from wherever nix2gpu meets them: a
// registry, an OCI layout directory, a docker-archive tarball, or the image
// JSON file nix2container's `nix build` produces. Every source comes back as
// one go-containerregistry v1.Image, so verify and push never care where an
// image came from.
package image

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// Kind is where an image is read from.
type Kind string

const (
	KindRegistry      Kind = "registry"
	KindLayout        Kind = "oci-layout"
	KindDockerArchive Kind = "docker-archive"
	KindNix2Container Kind = "nix2container"
)

// Explicit prefixes force a kind when the guess would be wrong, e.g. a
// registry reference that happens to name an existing file.
var prefixes = []struct {
	prefix string
	kind   Kind
}{
	{"docker://", KindRegistry},
	{"registry:", KindRegistry},
	{"oci:", KindLayout},
	{"oci-layout:", KindLayout},
	{"docker-archive:", KindDockerArchive},
	{"nix2container:", KindNix2Container},
	{"nix:", KindNix2Container},
}

// NotFoundError reports that a local image path does not exist.
type NotFoundError struct{ Path string }

func (e *NotFoundError) Error() string { return fmt.Sprintf("%s: no such file or directory", e.Path) }

// Option configures Open.
type Option func(*options)

type options struct {
	remote []remote.Option
}

// WithRemoteOptions adds go-containerregistry remote options (transport,
// platform, keychain) for registry references.
func WithRemoteOptions(o ...remote.Option) Option {
	return func(opts *options) { opts.remote = append(opts.remote, o...) }
}

// Open returns the image ref names. ref is a registry reference
// ("ghcr.io/acme/app:latest"), a path to an OCI layout directory, a
// docker-archive tarball, or a nix2container image JSON (a `result` link
// works); the kind is detected from the path, or forced with a prefix such
// as "oci:" or "docker://".
func Open(ctx context.Context, ref string, opts ...Option) (v1.Image, error) {
	kind, target, err := Detect(ref)
	if err != nil {
		return nil, err
	}
	return OpenKind(ctx, kind, target, opts...)
}

// OpenKind opens target as an image of the given kind, as Detect returned
// them; for callers that need the kind as well as the image.
func OpenKind(ctx context.Context, kind Kind, target string, opts ...Option) (v1.Image, error) {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	switch kind {
	case KindRegistry:
		return openRemote(ctx, target, o)
	case KindLayout:
		return openLayout(target)
	case KindDockerArchive:
		return openArchive(target)
	case KindNix2Container:
		return OpenNix2Container(target)
	}
	return nil, fmt.Errorf("unknown image kind %q", kind)
}

// Detect decides how ref is read and returns the kind and the reference
// without any kind prefix.
func Detect(ref string) (Kind, string, error) {
	for _, p := range prefixes {
		if strings.HasPrefix(ref, p.prefix) {
			return p.kind, strings.TrimPrefix(ref, p.prefix), nil
		}
	}
	fi, err := os.Stat(ref)
	if err != nil {
		if looksLikePath(ref) {
			return "", ref, &NotFoundError{Path: ref}
		}
		return KindRegistry, ref, nil
	}
	if fi.IsDir() {
		if _, err := os.Stat(filepath.Join(ref, "oci-layout")); err == nil {
			return KindLayout, ref, nil
		}
		return "", ref, fmt.Errorf("%s is a directory but not an OCI layout (no oci-layout file)", ref)
	}
	head, err := readHead(ref, 512)
	if err != nil {
		return "", ref, err
	}
	switch {
	case isNix2ContainerJSON(ref, head):
		return KindNix2Container, ref, nil
	case isTar(head), isGzip(head), isZstd(head):
		return KindDockerArchive, ref, nil
	}
	return "", ref, fmt.Errorf("%s is neither a docker-archive tarball nor a nix2container image JSON", ref)
}

// looksLikePath tells a missing file from a registry reference: references
// never start with / or ., and never end in an archive or JSON suffix.
func looksLikePath(ref string) bool {
	// "result" and "result-<container>" are the links nix build leaves.
	if strings.HasPrefix(ref, "/") || strings.HasPrefix(ref, ".") || ref == "result" || strings.HasPrefix(ref, "result-") {
		return true
	}
	for _, s := range []string{".tar", ".tar.gz", ".tgz", ".json"} {
		if strings.HasSuffix(ref, s) {
			return true
		}
	}
	_, err := name.ParseReference(ref)
	return err != nil
}

func readHead(path string, n int) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	buf := make([]byte, n)
	m, err := io.ReadFull(f, buf)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	return buf[:m], nil
}

func isTar(head []byte) bool {
	return len(head) >= 262 && bytes.Equal(head[257:262], []byte("ustar"))
}

func isGzip(head []byte) bool { return len(head) >= 2 && head[0] == 0x1f && head[1] == 0x8b }

func isZstd(head []byte) bool { return bytes.HasPrefix(head, []byte{0x28, 0xb5, 0x2f, 0xfd}) }

// isNix2ContainerJSON peeks at the first bytes: nix2container image files
// are JSON objects whose keys include "image-config" and "layers".
func isNix2ContainerJSON(path string, head []byte) bool {
	t := bytes.TrimLeft(head, " \t\r\n")
	if len(t) == 0 || t[0] != '{' {
		return false
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return false
	}
	return bytes.Contains(data, []byte(`"image-config"`)) && bytes.Contains(data, []byte(`"layers"`))
}

func openRemote(ctx context.Context, ref string, o options) (v1.Image, error) {
	r, err := name.ParseReference(ref)
	if err != nil {
		return nil, fmt.Errorf("parsing image reference %q: %w", ref, err)
	}
	ropts := append([]remote.Option{
		remote.WithContext(ctx),
		remote.WithAuthFromKeychain(authn.DefaultKeychain),
	}, o.remote...)
	img, err := remote.Image(r, ropts...)
	if err != nil {
		return nil, fmt.Errorf("fetching %s: %w", r, err)
	}
	return img, nil
}

// openLayout reads an OCI layout. "DIR" needs exactly one image in it;
// "DIR:NAME" picks the manifest annotated with that ref name or tag.
func openLayout(target string) (v1.Image, error) {
	dir, want := target, ""
	if _, err := os.Stat(dir); err != nil {
		if i := strings.LastIndex(target, ":"); i > 0 {
			dir, want = target[:i], target[i+1:]
		}
	}
	p, err := layout.FromPath(dir)
	if err != nil {
		return nil, fmt.Errorf("reading OCI layout %s: %w", dir, err)
	}
	idx, err := p.ImageIndex()
	if err != nil {
		return nil, fmt.Errorf("reading OCI layout %s: %w", dir, err)
	}
	m, err := idx.IndexManifest()
	if err != nil {
		return nil, fmt.Errorf("reading OCI layout %s: %w", dir, err)
	}
	var picked []v1.Descriptor
	for _, d := range m.Manifests {
		if !d.MediaType.IsImage() {
			continue
		}
		refName := d.Annotations["org.opencontainers.image.ref.name"]
		if want == "" || refName == want || strings.HasSuffix(refName, ":"+want) {
			picked = append(picked, d)
		}
	}
	switch {
	case len(picked) == 0 && want != "":
		return nil, fmt.Errorf("OCI layout %s has no image named %q", dir, want)
	case len(picked) == 0:
		return nil, fmt.Errorf("OCI layout %s holds no image", dir)
	case len(picked) > 1:
		return nil, fmt.Errorf("OCI layout %s holds %d images; name one as %s:NAME", dir, len(picked), dir)
	}
	img, err := idx.Image(picked[0].Digest)
	if err != nil {
		return nil, fmt.Errorf("reading image %s from %s: %w", picked[0].Digest, dir, err)
	}
	return img, nil
}
