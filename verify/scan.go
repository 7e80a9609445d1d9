package verify

import (
	"archive/tar"
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"path"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/nix2gpu/nix2gpu/image"
)

// LayerInfo is what reading one layer found.
type LayerInfo struct {
	Index     int    `json:"index"`
	Digest    string `json:"digest"`
	MediaType string `json:"mediaType"`
	// Size is the blob size the manifest declares; Read is how many blob
	// bytes were actually read.
	Size    int64 `json:"size"`
	Read    int64 `json:"read"`
	Entries int   `json:"entries"`
	// Verified is true when the blob's sha256 was recomputed and matched.
	Verified bool   `json:"verified"`
	Error    string `json:"error,omitempty"`
}

// entry is one path in the image's merged file system.
type entry struct {
	typ   byte
	mode  int64
	size  int64
	link  string
	layer int
}

// imageFS is the merged file system of an image: metadata of every path,
// plus the contents of the few small files the checks read.
type imageFS struct {
	entries map[string]*entry
	content map[string][]byte
}

// keepContent says which files' contents are kept while scanning: the
// loader configuration, nothing large. In Nix images /etc/ld.so.conf is
// usually a link into the store (buildEnv links every file), so files
// that look like its target are kept too: which file a link reaches is
// known only once every layer has been read.
func keepContent(p string, size int64) bool {
	if size > 1<<20 {
		return false
	}
	return strings.HasSuffix(p, "ld.so.conf") || (strings.Contains(p, "ld.so.conf.d/") && strings.HasSuffix(p, ".conf"))
}

// scanBufSize is the read size for layer blobs: large reads keep the
// hashing and decompression loops busy instead of the syscall path.
const scanBufSize = 1 << 20

// scanLayers reads every layer once: the blob is hashed while it is
// decompressed and walked as a tar, so digest verification costs no second
// read. A failing layer is recorded and the scan goes on with the next.
func scanLayers(ctx context.Context, img v1.Image, byDiffID bool) (*imageFS, []LayerInfo, error) {
	layers, err := img.Layers()
	if err != nil {
		return nil, nil, fmt.Errorf("listing layers: %w", err)
	}
	fsys := &imageFS{entries: map[string]*entry{}, content: map[string][]byte{}}
	infos := make([]LayerInfo, 0, len(layers))
	for i, l := range layers {
		if err := ctx.Err(); err != nil {
			return nil, nil, err
		}
		info := LayerInfo{Index: i}
		if err := scanLayer(l, i, fsys, &info, byDiffID); err != nil {
			info.Error = err.Error()
		}
		infos = append(infos, info)
	}
	return fsys, infos, nil
}

// scanLayer reads one layer. Blobs stored compressed are hashed as stored
// and checked against the manifest digest. Blobs stored as plain tar (an
// uncompressed media type, or byDiffID for sources such as docker archives
// that label plain tar as gzip) are read as they are and checked against
// the config's diff ID: asking those for their compressed form would
// gzip the whole layer just to hash it.
func scanLayer(l v1.Layer, idx int, fsys *imageFS, info *LayerInfo, byDiffID bool) error {
	mt, err := l.MediaType()
	if err != nil {
		return fmt.Errorf("media type: %w", err)
	}
	info.MediaType = string(mt)
	plain := byDiffID || image.IsUncompressed(mt)
	// The manifest digest is what the registry and the runtime check, and
	// for a blob stored as plain tar it covers the same bytes as the diff
	// ID. Sources can compute a diff ID from the bytes they hold (ggcr's
	// OCI layout does for plain layers), which would make a corrupted blob
	// agree with itself; only docker archives, whose manifest digest is
	// not the stored bytes', are checked by diff ID.
	var want v1.Hash
	if byDiffID {
		want, err = l.DiffID()
	} else {
		want, err = l.Digest()
	}
	if err != nil {
		return fmt.Errorf("digest: %w", err)
	}
	info.Digest = want.String()
	if !byDiffID {
		if s, err := l.Size(); err == nil {
			info.Size = s
		}
	}
	var rc io.ReadCloser
	if plain {
		rc, err = l.Uncompressed()
	} else {
		rc, err = l.Compressed()
	}
	if err != nil {
		return fmt.Errorf("opening layer: %w", err)
	}
	defer rc.Close()

	// Layers that check their own digest while streaming (nix2container
	// layers built from the store) are not hashed twice.
	selfVerified := false
	if dv, ok := l.(image.DigestVerifier); ok && dv.VerifiesDigest() {
		selfVerified = true
	}
	hr := &hashingReader{r: rc, h: sha256.New(), skip: selfVerified}
	br := bufio.NewReaderSize(hr, scanBufSize)
	tr, err := image.Decompress(br)
	if err != nil {
		return err
	}
	if err := indexTar(tr, idx, fsys, info); err != nil {
		tr.Close()
		return err
	}
	tr.Close()
	// The tar end marker may leave padding or compression trailer unread;
	// the digest covers the whole blob.
	if _, err := io.Copy(io.Discard, br); err != nil {
		return fmt.Errorf("reading layer: %w", err)
	}
	info.Read = hr.n
	if selfVerified {
		info.Verified = true
		return nil
	}
	if want.Algorithm != "sha256" {
		return nil
	}
	got := hex.EncodeToString(hr.h.Sum(nil))
	if got != want.Hex {
		return &DigestError{Want: want.String(), Got: "sha256:" + got}
	}
	info.Verified = true
	return nil
}

// DigestError is a layer whose content does not hash to its digest.
type DigestError struct{ Want, Got string }

func (e *DigestError) Error() string {
	return fmt.Sprintf("content hashes to %s, the manifest says %s", e.Got, e.Want)
}

func indexTar(r io.Reader, idx int, fsys *imageFS, info *LayerInfo) error {
	tr := tar.NewReader(r)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("reading tar: %w", err)
		}
		info.Entries++
		p := cleanPath(h.Name)
		if p == "" {
			continue
		}
		dir, base := path.Split(p)
		// Whiteouts (OCI image spec, layer changesets) delete what lower
		// layers put at that path.
		if base == ".wh..wh..opq" {
			fsys.removeUnder(strings.TrimSuffix(dir, "/"), true)
			continue
		}
		if strings.HasPrefix(base, ".wh.") {
			fsys.removeUnder(dir+strings.TrimPrefix(base, ".wh."), false)
			continue
		}
		e := &entry{typ: h.Typeflag, mode: h.Mode, size: h.Size, link: h.Linkname, layer: idx}
		if h.Typeflag == tar.TypeLink {
			e.link = cleanPath(h.Linkname)
		}
		fsys.entries[p] = e
		if h.Typeflag == tar.TypeReg && keepContent(p, h.Size) {
			b, err := io.ReadAll(tr)
			if err != nil {
				return fmt.Errorf("reading %s: %w", p, err)
			}
			fsys.content[p] = b
		}
	}
}

// cleanPath turns a tar name ("./etc/", "/nix/store/x") into the form the
// index uses: relative, no trailing slash.
func cleanPath(name string) string {
	p := path.Clean("/" + name)
	return strings.TrimPrefix(p, "/")
}

func (f *imageFS) removeUnder(p string, keepSelf bool) {
	if !keepSelf {
		delete(f.entries, p)
		delete(f.content, p)
	}
	prefix := p + "/"
	if p == "" {
		prefix = ""
	}
	for k := range f.entries {
		if strings.HasPrefix(k, prefix) && k != p {
			delete(f.entries, k)
			delete(f.content, k)
		}
	}
}

type hashingReader struct {
	r    io.Reader
	h    hash.Hash
	n    int64
	skip bool // count only
}

func (h *hashingReader) Read(p []byte) (int, error) {
	n, err := h.r.Read(p)
	if !h.skip {
		h.h.Write(p[:n])
	}
	h.n += int64(n)
	return n, err
}

// maxLinkHops bounds symlink resolution, as the kernel does (ELOOP).
const maxLinkHops = 40

// resolve follows symlinks inside the image, relative and absolute (a
// link to /nix/store/... resolves within the image, not on this host),
// through every path component. It returns the final path and its entry.
func (f *imageFS) resolve(p string) (string, *entry, error) {
	p = cleanPath(p)
	hops := 0
	for {
		parts := strings.Split(p, "/")
		cur := ""
		restarted := false
		for i, part := range parts {
			next := part
			if cur != "" {
				next = cur + "/" + part
			}
			e, ok := f.entries[next]
			if !ok {
				if f.hasChildren(next) && i < len(parts)-1 {
					cur = next
					continue
				}
				return next, nil, fmt.Errorf("%s does not exist in the image", "/"+next)
			}
			if e.typ == tar.TypeSymlink {
				hops++
				if hops > maxLinkHops {
					return next, nil, fmt.Errorf("too many levels of symbolic links at /%s", next)
				}
				rest := strings.Join(parts[i+1:], "/")
				p = cleanPath(linkDest(next, e) + "/" + rest)
				restarted = true
				break
			}
			if e.typ == tar.TypeLink {
				if t, ok := f.entries[e.link]; ok && i == len(parts)-1 {
					return e.link, t, nil
				}
			}
			cur = next
		}
		if !restarted {
			return p, f.entries[p], nil
		}
	}
}

func (f *imageFS) hasChildren(dir string) bool {
	prefix := dir + "/"
	for k := range f.entries {
		if strings.HasPrefix(k, prefix) {
			return true
		}
	}
	return false
}

// linkTarget returns where p points when p or one of its parents is a
// symlink, without requiring the target to exist in the image: runtime
// injection directories appear only when a container starts. Empty when
// nothing on the way is a link.
func (f *imageFS) linkTarget(p string) string {
	parts := strings.Split(cleanPath(p), "/")
	for i := len(parts); i > 0; i-- {
		prefix := strings.Join(parts[:i], "/")
		e, ok := f.entries[prefix]
		if !ok || e.typ != tar.TypeSymlink {
			continue
		}
		return path.Clean(linkDest(prefix, e) + "/" + strings.Join(parts[i:], "/"))
	}
	return ""
}

// linkDest returns the absolute path the symlink e, found at the image
// path at, points to: a relative target is taken from at's directory.
func linkDest(at string, e *entry) string {
	if strings.HasPrefix(e.link, "/") {
		return e.link
	}
	return path.Join(path.Dir("/"+at), e.link)
}
