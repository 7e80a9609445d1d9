package image

import (
	"archive/tar"
	"bufio"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"
)

// TarStorePaths streams the tar nix2container builds for a layer from the
// listed store paths. It reproduces nix2container's layout byte for byte,
// so the stream hashes to the digest recorded in the image file:
//
//   - every listed path is walked (lstat, symlinks not followed), its
//     destination name rewritten by the path's regex option;
//   - parent directories that were not walked themselves (/, /nix,
//     /nix/store) get a synthetic 0755 root-owned entry;
//   - entries are written depth first, names sorted at each level, with
//     absolute names;
//   - owner is root:root unless a perms option matches the source path,
//     symlinks get mode 0777, mtime is 1970-01-01T00:00:01Z.
//
// Files are read straight from the store while the tar is written: nothing
// is copied or buffered whole. Checked against nix2container's own tar
// writer (nix.TarPathsSum, commit 20d3395, March 2026): identical sha256
// on the same store paths, long names, symlinks and setuid files included.
func TarStorePaths(paths []StorePath) io.ReadCloser {
	pr, pw := io.Pipe()
	go func() {
		// A large buffer keeps tar's 512-byte header writes from each
		// becoming a pipe hand-off.
		bw := bufio.NewWriterSize(pw, 1<<20)
		err := writeStoreTar(bw, paths)
		if err == nil {
			err = bw.Flush()
		}
		pw.CloseWithError(err)
	}()
	return pr
}

type tarNode struct {
	src      string
	info     fs.FileInfo
	perms    []compiledPerm // the perms of the store path the file came from
	children map[string]*tarNode
}

// compiledPerm is a PathPerm with its regular expression compiled once per
// store path rather than once per file; a bad expression is reported when
// the first file it would apply to is written.
type compiledPerm struct {
	PathPerm
	re  *regexp.Regexp
	err error
}

func compilePerms(opts *PathOptions) []compiledPerm {
	if opts == nil {
		return nil
	}
	out := make([]compiledPerm, len(opts.Perms))
	for i, p := range opts.Perms {
		out[i].PathPerm = p
		out[i].re, out[i].err = regexp.Compile(p.Regex)
	}
	return out
}

func newTarNode() *tarNode { return &tarNode{children: map[string]*tarNode{}} }

var (
	epoch      = time.Unix(0, 0).UTC()
	epochPlus1 = time.Unix(1, 0).UTC()
)

func writeStoreTar(w io.Writer, paths []StorePath) error {
	root := newTarNode()
	for _, p := range paths {
		var rewrite *regexp.Regexp
		if p.Options != nil && p.Options.Rewrite.Regex != "" {
			re, err := regexp.Compile(p.Options.Rewrite.Regex)
			if err != nil {
				return fmt.Errorf("rewrite regex %q: %w", p.Options.Rewrite.Regex, err)
			}
			rewrite = re
		}
		perms := compilePerms(p.Options)
		err := filepath.Walk(p.Path, func(src string, info fs.FileInfo, err error) error {
			if err != nil {
				return fmt.Errorf("reading store path: %w", err)
			}
			dst := src
			if rewrite != nil {
				dst = rewrite.ReplaceAllString(src, p.Options.Rewrite.Repl)
			}
			if dst == "" {
				return nil
			}
			n := root
			for _, part := range splitTarPath(dst) {
				c, ok := n.children[part]
				if !ok {
					c = newTarNode()
					n.children[part] = c
				}
				n = c
			}
			n.src, n.info, n.perms = src, info, perms
			return nil
		})
		if err != nil {
			return err
		}
	}
	tw := tar.NewWriter(w)
	if err := writeTarNode(tw, "", root); err != nil {
		return err
	}
	return tw.Close()
}

// splitTarPath splits a cleaned path on "/"; an absolute path starts with
// an empty component, which becomes the "/" entry.
func splitTarPath(p string) []string {
	c := filepath.Clean(p)
	if c == "/" {
		return []string{""}
	}
	return strings.Split(c, "/")
}

func writeTarNode(tw *tar.Writer, base string, n *tarNode) error {
	for _, k := range slices.Sorted(maps.Keys(n.children)) {
		c := n.children[k]
		dst := filepath.Join(base, k)
		if k == "" {
			dst = "/"
		}
		var err error
		if c.info == nil {
			err = tw.WriteHeader(&tar.Header{
				Name: dst, Typeflag: tar.TypeDir, Mode: 0o755,
				Uname: "root", Gname: "root",
				ModTime: epochPlus1, AccessTime: epoch, ChangeTime: epoch,
			})
		} else {
			err = writeTarEntry(tw, c.src, dst, c.info, c.perms)
		}
		if err != nil {
			return err
		}
		if err := writeTarNode(tw, dst, c); err != nil {
			return err
		}
	}
	return nil
}

func writeTarEntry(tw *tar.Writer, src, dst string, info fs.FileInfo, perms []compiledPerm) error {
	link := ""
	if info.Mode()&fs.ModeSymlink != 0 {
		l, err := os.Readlink(src)
		if err != nil {
			return err
		}
		link = l
	}
	hdr, err := tar.FileInfoHeader(info, link)
	if err != nil {
		return fmt.Errorf("%s: %w", src, err)
	}
	hdr.Name = dst
	hdr.Uid, hdr.Gid, hdr.Uname, hdr.Gname = 0, 0, "root", "root"
	if link != "" {
		hdr.Mode = 0o777
	}
	for _, p := range perms {
		if p.err != nil {
			return fmt.Errorf("perms regex %q: %w", p.Regex, p.err)
		}
		if !p.re.MatchString(src) {
			continue
		}
		hdr.Uid, hdr.Gid = p.UID, p.GID
		if p.Uname != "" {
			hdr.Uname = p.Uname
		}
		if p.Gname != "" {
			hdr.Gname = p.Gname
		}
		if p.Mode != "" {
			if _, err := fmt.Sscanf(p.Mode, "%o", &hdr.Mode); err != nil {
				return fmt.Errorf("perms mode %q: %w", p.Mode, err)
			}
		}
	}
	hdr.ModTime, hdr.AccessTime, hdr.ChangeTime = epochPlus1, epoch, epoch
	if err := tw.WriteHeader(hdr); err != nil {
		return fmt.Errorf("%s: %w", src, err)
	}
	if !info.Mode().IsRegular() {
		return nil
	}
	f, err := os.Open(src)
	if err != nil {
		return err
	}
	defer f.Close()
	if _, err := io.Copy(tw, f); err != nil {
		return fmt.Errorf("%s: %w", src, err)
	}
	return nil
}
