package image

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash"
	"io"
	"os"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/partial"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
)

// Nix2ContainerImage is the image file `nix build` writes for a
// nix2container image (nix2container's types.Image, format version 1).
// Layers are not stored anywhere: each lists the Nix store paths it is made
// of, and the tar is produced on demand from the store.
type Nix2ContainerImage struct {
	Version     int                  `json:"version"`
	ImageConfig v1.Config            `json:"image-config"`
	Layers      []Nix2ContainerLayer `json:"layers"`
	Arch        string               `json:"arch"`
	Created     *time.Time           `json:"created"`
}

// Nix2ContainerLayer is one layer entry of the image file.
type Nix2ContainerLayer struct {
	Digest    string      `json:"digest"`
	Size      int64       `json:"size"`
	DiffIDs   string      `json:"diff_ids"`
	Paths     []StorePath `json:"paths"`
	MediaType string      `json:"mediatype"`
	// LayerPath is set for layers nix2container already wrote as a tar
	// file (non-reproducible builds, base images).
	LayerPath string     `json:"layer-path"`
	History   v1.History `json:"History"`
}

// StorePath is a store path a layer includes, and how it is transformed on
// its way into the tar.
type StorePath struct {
	Path    string       `json:"path"`
	Options *PathOptions `json:"options"`
}

// PathOptions mirror nix2container's per-path options: a regex rewrite of
// the destination name (to move a path from /nix/store to /) and
// ownership/mode overrides selected by regex on the source path.
type PathOptions struct {
	Rewrite struct {
		Regex string `json:"regex"`
		Repl  string `json:"repl"`
	} `json:"rewrite"`
	Perms []PathPerm `json:"perms"`
}

// PathPerm sets the mode and owner of the files whose source path
// matches Regex.
type PathPerm struct {
	Regex string `json:"regex"`
	Mode  string `json:"mode"`
	UID   int    `json:"uid"`
	GID   int    `json:"gid"`
	Uname string `json:"uname"`
	Gname string `json:"gname"`
}

// ReadNix2Container parses a nix2container image file.
func ReadNix2Container(path string) (*Nix2ContainerImage, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading nix2container image: %w", err)
	}
	var img Nix2ContainerImage
	if err := json.Unmarshal(data, &img); err != nil {
		return nil, fmt.Errorf("parsing nix2container image %s: %w", path, err)
	}
	if img.Version != 1 {
		return nil, fmt.Errorf("nix2container image %s has format version %d; this nix2gpu reads version 1", path, img.Version)
	}
	return &img, nil
}

// OpenNix2Container returns the image a nix2container image file
// describes. Layer blobs are tar streams built from the store paths at
// read time, never copied first; when the file records a digest, reading a
// layer to its end fails if the stream does not match it.
func OpenNix2Container(path string) (v1.Image, error) {
	n, err := ReadNix2Container(path)
	if err != nil {
		return nil, err
	}
	img := &n2cImage{src: path, img: n}
	if err := img.build(); err != nil {
		return nil, err
	}
	return img, nil
}

// n2cImage implements v1.Image itself rather than through partial, so
// its layers reach callers as *n2cLayer and can say that they verify their
// own digest (see DigestVerifier).
type n2cImage struct {
	src      string
	img      *Nix2ContainerImage
	config   []byte
	manifest []byte
	order    []*n2cLayer
	layers   map[v1.Hash]*n2cLayer
}

var _ v1.Image = (*n2cImage)(nil)

func (i *n2cImage) build() error {
	cfg := v1.ConfigFile{
		Architecture: i.img.Arch,
		OS:           "linux",
		Config:       i.img.ImageConfig,
		RootFS:       v1.RootFS{Type: "layers"},
	}
	if cfg.Architecture == "" {
		cfg.Architecture = "amd64"
	}
	if i.img.Created != nil {
		cfg.Created = v1.Time{Time: *i.img.Created}
	}
	m := v1.Manifest{SchemaVersion: 2, MediaType: types.OCIManifestSchema1}
	i.layers = map[v1.Hash]*n2cLayer{}
	for k, l := range i.img.Layers {
		diffID, err := v1.NewHash(l.DiffIDs)
		if err != nil {
			return fmt.Errorf("%s: layer %d: bad diff_ids %q: %w", i.src, k, l.DiffIDs, err)
		}
		digest, err := v1.NewHash(l.Digest)
		if err != nil {
			return fmt.Errorf("%s: layer %d: bad digest %q: %w", i.src, k, l.Digest, err)
		}
		mt := types.MediaType(l.MediaType)
		if mt == "" {
			mt = types.OCIUncompressedLayer
		}
		cfg.RootFS.DiffIDs = append(cfg.RootFS.DiffIDs, diffID)
		cfg.History = append(cfg.History, l.History)
		layer := &n2cLayer{entry: l, digest: digest, diffID: diffID, mediaType: mt}
		i.layers[digest] = layer
		i.order = append(i.order, layer)
		m.Layers = append(m.Layers, v1.Descriptor{MediaType: mt, Size: l.Size, Digest: digest})
	}
	var err error
	if i.config, err = json.Marshal(cfg); err != nil {
		return err
	}
	m.Config = v1.Descriptor{
		MediaType: types.OCIConfigJSON,
		Size:      int64(len(i.config)),
		Digest:    sha256Hash(i.config),
	}
	i.manifest, err = json.Marshal(m)
	return err
}

func (i *n2cImage) RawConfigFile() ([]byte, error)      { return i.config, nil }
func (i *n2cImage) MediaType() (types.MediaType, error) { return types.OCIManifestSchema1, nil }
func (i *n2cImage) RawManifest() ([]byte, error)        { return i.manifest, nil }
func (i *n2cImage) Size() (int64, error)                { return int64(len(i.manifest)), nil }
func (i *n2cImage) Digest() (v1.Hash, error)            { return sha256Hash(i.manifest), nil }
func (i *n2cImage) ConfigName() (v1.Hash, error)        { return sha256Hash(i.config), nil }
func (i *n2cImage) ConfigFile() (*v1.ConfigFile, error) {
	return v1.ParseConfigFile(bytes.NewReader(i.config))
}
func (i *n2cImage) Manifest() (*v1.Manifest, error) {
	return v1.ParseManifest(bytes.NewReader(i.manifest))
}

func (i *n2cImage) Layers() ([]v1.Layer, error) {
	out := make([]v1.Layer, len(i.order))
	for k, l := range i.order {
		out[k] = l
	}
	return out, nil
}

func (i *n2cImage) LayerByDigest(h v1.Hash) (v1.Layer, error) {
	if l, ok := i.layers[h]; ok {
		return l, nil
	}
	if h == sha256Hash(i.config) {
		return partial.ConfigLayer(i)
	}
	return nil, fmt.Errorf("%s: no layer with digest %s", i.src, h)
}

func (i *n2cImage) LayerByDiffID(h v1.Hash) (v1.Layer, error) {
	for _, l := range i.order {
		if l.diffID == h {
			return l, nil
		}
	}
	return nil, fmt.Errorf("%s: no layer with diff ID %s", i.src, h)
}

// DigestVerifier is implemented by layers whose Compressed and
// Uncompressed streams already fail on a digest mismatch, so a reader
// need not hash them a second time.
type DigestVerifier interface {
	VerifiesDigest() bool
}

// n2cLayer is one nix2container layer. nix2container writes uncompressed
// tar layers, so the blob and the diff are the same bytes.
type n2cLayer struct {
	entry     Nix2ContainerLayer
	digest    v1.Hash
	diffID    v1.Hash
	mediaType types.MediaType
}

var (
	_ v1.Layer       = (*n2cLayer)(nil)
	_ DigestVerifier = (*n2cLayer)(nil)
)

// VerifiesDigest: reading a layer to its end fails on a mismatch.
func (l *n2cLayer) VerifiesDigest() bool { return l.digest.Algorithm == "sha256" }

func (l *n2cLayer) Digest() (v1.Hash, error)            { return l.digest, nil }
func (l *n2cLayer) DiffID() (v1.Hash, error)            { return l.diffID, nil }
func (l *n2cLayer) Size() (int64, error)                { return l.entry.Size, nil }
func (l *n2cLayer) MediaType() (types.MediaType, error) { return l.mediaType, nil }

// Compressed returns the blob. Layers that nix2container left as tar files
// are read from disk; the others are streamed from the store. Either way
// the stream is checked against the recorded digest as it is read.
func (l *n2cLayer) Compressed() (io.ReadCloser, error) {
	var rc io.ReadCloser
	if l.entry.LayerPath != "" {
		f, err := os.Open(l.entry.LayerPath)
		if err != nil {
			return nil, fmt.Errorf("opening layer tar: %w", err)
		}
		rc = f
	} else {
		rc = TarStorePaths(l.entry.Paths)
	}
	return newVerifyingReader(rc, l.digest), nil
}

// Uncompressed is the layer as a tar stream. Layers built from store paths
// are plain tar already; a base-image layer nix2container kept as a file
// (layer-path) may be compressed and is decompressed here.
func (l *n2cLayer) Uncompressed() (io.ReadCloser, error) {
	rc, err := l.Compressed()
	if err != nil {
		return nil, err
	}
	if IsUncompressed(l.mediaType) {
		return rc, nil
	}
	return decompressed(rc)
}

// IsUncompressed reports whether mt is a layer media type for plain tar.
func IsUncompressed(mt types.MediaType) bool {
	switch mt {
	case types.OCIUncompressedLayer, types.DockerUncompressedLayer, types.OCIUncompressedRestrictedLayer:
		return true
	}
	return false
}

// decompressed is Decompress for a stream of its own: closing the result
// closes rc too.
func decompressed(rc io.ReadCloser) (io.ReadCloser, error) {
	d, err := Decompress(bufio.NewReaderSize(rc, 1<<20))
	if err != nil {
		rc.Close()
		return nil, err
	}
	return &stackedCloser{Reader: d, closers: []io.Closer{d, rc}}, nil
}

// Decompress sniffs gzip or zstd magic bytes at the start of br and
// returns the decoded stream; anything else passes through as it is. The
// bytes are trusted over a media type: docker archives often label plain
// tar layers as gzip. Closing the result releases the decoder, not br.
func Decompress(br *bufio.Reader) (io.ReadCloser, error) {
	head, _ := br.Peek(4)
	switch {
	case isGzip(head):
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("gzip: %w", err)
		}
		return zr, nil
	case isZstd(head):
		zr, err := zstd.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("zstd: %w", err)
		}
		return zr.IOReadCloser(), nil
	}
	return io.NopCloser(br), nil
}

type stackedCloser struct {
	io.Reader
	closers []io.Closer
}

func (s *stackedCloser) Close() error {
	var first error
	for _, c := range s.closers {
		if err := c.Close(); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// verifyingReader hashes what passes through it and turns a clean EOF into
// an error when the hash differs from the expected digest.
type verifyingReader struct {
	rc   io.ReadCloser
	h    hash.Hash
	want v1.Hash
	done bool
}

func newVerifyingReader(rc io.ReadCloser, want v1.Hash) io.ReadCloser {
	if want.Algorithm != "sha256" {
		return rc
	}
	return &verifyingReader{rc: rc, h: sha256.New(), want: want}
}

// DigestMismatchError reports a layer whose content differs from the
// digest the image records.
type DigestMismatchError struct {
	Want, Got v1.Hash
}

func (e *DigestMismatchError) Error() string {
	return fmt.Sprintf("layer content has digest %s, but the image records %s", e.Got, e.Want)
}

func (v *verifyingReader) Read(p []byte) (int, error) {
	n, err := v.rc.Read(p)
	v.h.Write(p[:n])
	if err == io.EOF && !v.done {
		v.done = true
		got := v1.Hash{Algorithm: "sha256", Hex: hex.EncodeToString(v.h.Sum(nil))}
		if got != v.want {
			return n, &DigestMismatchError{Want: v.want, Got: got}
		}
	}
	return n, err
}

func (v *verifyingReader) Close() error { return v.rc.Close() }

func sha256Hash(b []byte) v1.Hash {
	s := sha256.Sum256(b)
	return v1.Hash{Algorithm: "sha256", Hex: hex.EncodeToString(s[:])}
}
