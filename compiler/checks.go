package compiler

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"path"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/google/go-containerregistry/pkg/name"

	"github.com/nix2gpu/nix2gpu/config"
	"github.com/nix2gpu/nix2gpu/cuda"
	"github.com/nix2gpu/nix2gpu/diag"
)

func sprintf(format string, args ...any) string {
	if len(args) == 0 {
		return format
	}
	return fmt.Sprintf(format, args...)
}

// subRange narrows v's range to runes [off, off+n) of its string value,
// when the token in the file is the plain or simply quoted value (so the
// columns line up); otherwise it returns the whole range.
func subRange(v *config.Value, off, n int) diag.Range {
	r := v.Range
	width := utf8.RuneCountInString(v.Str)
	if r.Start.Line != r.End.Line || n < 1 {
		return r
	}
	shift := 0
	switch r.End.Column - r.Start.Column {
	case width:
	case width + 2:
		shift = 1 // quoted, no escapes
	default:
		return r
	}
	r.Start.Column += shift + off
	r.End.Column = r.Start.Column + n
	return r
}

// ociComponent is one path component of an OCI repository name.
var ociComponent = regexp.MustCompile(`^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$`)

func (c *compiler) checkContainerName(f *config.Field) {
	n := f.Key
	if ociComponent.MatchString(n) && len(n) >= 2 && len(n) <= 128 {
		return
	}
	hint := "use 2 to 128 lower-case letters, digits and separators (., _, __, -), starting and ending with a letter or digit"
	if s := sanitizeName(n); s != "" && s != n {
		hint += fmt.Sprintf(", e.g. %q", s)
	}
	reason := "it must be a valid image repository name"
	switch {
	case len(n) < 2:
		reason = "it must be at least 2 characters long"
	case len(n) > 128:
		reason = "it must be at most 128 characters long"
	case strings.ToLower(n) != n:
		reason = "image names are lower case"
	}
	c.ds = append(c.ds, diag.Diagnostic{Severity: diag.Error, Range: f.KeyRange, Path: "containers." + n, Hint: hint,
		Message: fmt.Sprintf("invalid container name %q: %s", n, reason)})
}

// sanitizeName proposes a valid repository name close to n.
func sanitizeName(n string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(n) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '.', r == '_', r == '-':
			b.WriteRune(r)
		default:
			b.WriteRune('-')
		}
	}
	s := strings.Trim(b.String(), "._-")
	s = regexp.MustCompile(`[._-]{2,}`).ReplaceAllStringFunc(s, func(m string) string {
		if m == "__" || strings.Trim(m, "-") == "" {
			return m
		}
		return "-"
	})
	if len(s) > 128 {
		s = strings.TrimRight(s[:128], "._-")
	}
	if len(s) < 2 || !ociComponent.MatchString(s) {
		return ""
	}
	return s
}

// validTag reports whether tag follows the OCI distribution spec's tag
// grammar, [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}. It is written out rather
// than compiled as a regular expression: the bounded repetition expands
// to over a hundred states, which every process would pay for at start.
func validTag(tag string) bool {
	if len(tag) == 0 || len(tag) > 128 {
		return false
	}
	for i := 0; i < len(tag); i++ {
		b := tag[i]
		switch {
		case 'a' <= b && b <= 'z', 'A' <= b && b <= 'Z', '0' <= b && b <= '9', b == '_':
		case (b == '.' || b == '-') && i > 0:
		default:
			return false
		}
	}
	return true
}

func (c *compiler) checkTag(v *config.Value, tag string) bool {
	if validTag(tag) {
		return true
	}
	c.errorAt(v, "use up to 128 letters, digits, _, . and -, not starting with . or -", "invalid image tag %q", tag)
	return false
}

const portHint = "write NUMBER or NUMBER/PROTOCOL with protocol tcp or udp, e.g. 8080/tcp"

// parsePort reads `8080`, `8080/tcp` or `53/udp`.
func (c *compiler) parsePort(v *config.Value) (Port, bool) {
	if v == nil {
		return Port{}, false
	}
	var num, proto string
	switch v.Kind {
	case config.Int:
		num, proto = v.Str, "tcp"
	case config.String:
		if v.IsNix() {
			return Port{}, false
		}
		var ok bool
		num, proto, ok = strings.Cut(v.Str, "/")
		if !ok {
			proto = "tcp"
		} else if proto != "tcp" && proto != "udp" {
			r := subRange(v, utf8.RuneCountInString(num)+1, utf8.RuneCountInString(proto))
			c.add(diag.Error, r, c.pathOf(v, ""), portHint, "invalid port %q: protocol must be tcp or udp", v.Str)
			return Port{}, false
		}
	default:
		return Port{}, false
	}
	n, err := strconv.Atoi(num)
	if err != nil || strings.HasPrefix(num, "+") || strings.HasPrefix(num, "-") && n == 0 {
		c.errorAt(v, portHint, "invalid port %q: %q is not a number", v.Str, num)
		return Port{}, false
	}
	if n < 1 || n > 65535 {
		c.errorAt(v, "ports are numbered 1 to 65535", "port %d is out of range", n)
		return Port{}, false
	}
	return Port{Number: n, Protocol: proto}, true
}

var envName = regexp.MustCompile(`^[A-Z_][A-Z0-9_]*$`)

// checkEnv checks one env entry: the name's shape, and literal values on
// names that look like they hold a secret.
func (c *compiler) checkEnv(f *config.Field) {
	if !envName.MatchString(f.Key) {
		hint := "use upper-case letters, digits and _, not starting with a digit"
		if s := envSuggestion(f.Key); s != "" {
			hint += fmt.Sprintf(", e.g. %q", s)
		}
		c.ds = append(c.ds, diag.Diagnostic{Severity: diag.Error, Range: f.KeyRange, Path: c.pathOf(f.Value, ""), Hint: hint,
			Message: fmt.Sprintf("invalid environment variable name %q", f.Key)})
		return
	}
	if f.Value == nil || f.Value.Kind != config.String || f.Value.IsNix() || f.Value.Str == "" {
		return
	}
	if looksSecret(f.Key) {
		c.ds = append(c.ds, diag.Diagnostic{Severity: diag.Warning, Range: f.Value.Range, Path: c.pathOf(f.Value, ""),
			Hint:    "values in env are stored in clear in the image and the Nix store; put the value in an age-encrypted file under secrets: and read it at start",
			Message: fmt.Sprintf("%s looks like a secret but has a literal value", f.Key),
			// The value is already in the file; keep it out of CI logs.
			Conceal: f.Value.Str})
	}
}

func envSuggestion(name string) string {
	var b strings.Builder
	for _, r := range strings.ToUpper(name) {
		if (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9') || r == '_' {
			b.WriteRune(r)
		} else {
			b.WriteRune('_')
		}
	}
	s := b.String()
	if s != "" && s[0] >= '0' && s[0] <= '9' {
		s = "_" + s
	}
	if !envName.MatchString(s) {
		return ""
	}
	return s
}

func looksSecret(name string) bool {
	for _, w := range []string{"TOKEN", "PASSWORD", "PASSWD", "SECRET"} {
		if strings.Contains(name, w) {
			return true
		}
	}
	return strings.HasSuffix(name, "_KEY")
}

// unknownCUDA reports a CUDA version nix2gpu does not know.
func (c *compiler) unknownCUDA(v *config.Value, version, fallbackPath string) {
	if v == nil {
		return
	}
	known := cuda.Versions()
	hint := "known versions: " + strings.Join(known, ", ")
	if cl := closestVersion(version, known); cl != "" {
		hint = fmt.Sprintf("did you mean %q? %s", cl, hint)
	}
	c.add(diag.Error, v.Range, c.pathOf(v, fallbackPath+".version"), hint, "unknown CUDA version %q", version)
}

// closestVersion picks the known version numerically nearest to v, or by
// spelling when v is not a number.
func closestVersion(v string, known []string) string {
	maj, min, ok := splitVersion(v)
	if !ok {
		return diag.Suggest(v, known)
	}
	best, bestD := "", math.MaxInt
	for _, k := range known {
		km, kn, _ := splitVersion(k)
		d := abs(km-maj)*100 + abs(kn-min)
		if d < bestD {
			best, bestD = k, d
		}
	}
	return best
}

func splitVersion(v string) (int, int, bool) {
	a, b, ok := strings.Cut(v, ".")
	if !ok {
		b = "0"
	}
	x, err1 := strconv.Atoi(a)
	y, err2 := strconv.Atoi(b)
	return x, y, err1 == nil && err2 == nil
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// capabilities checks and normalises cuda.capabilities: numeric order, no
// duplicates.
func (c *compiler) capabilities(v *config.Value, rel cuda.Release, relKnown bool) []string {
	out := []string{}
	if v == nil || v.Kind != config.List {
		return out
	}
	var caps []cuda.Capability
	seen := map[cuda.Capability]bool{}
	for _, e := range v.List {
		s, ok := c.str(e)
		if !ok || e.Kind == config.Bool {
			continue
		}
		cp, err := cuda.ParseCapability(s)
		if err != nil {
			c.errorAt(e, `write MAJOR.MINOR as a quoted string, e.g. "8.9"`, "invalid compute capability %q", s)
			continue
		}
		if !cuda.IsKnownCapability(cp) {
			c.errorAt(e, "known capabilities: "+knownCaps(), "compute capability %s matches no NVIDIA GPU", cp)
			continue
		}
		if relKnown && !rel.Supports(cp) {
			c.errorAt(e, supportHint(cp), "CUDA %s cannot target compute capability %s (%s)", rel.Version, cp, capExample(cp))
			continue
		}
		if !seen[cp] {
			seen[cp] = true
			caps = append(caps, cp)
		}
	}
	sort.Slice(caps, func(i, j int) bool { return caps[i].Less(caps[j]) })
	for _, cp := range caps {
		out = append(out, cp.String())
	}
	return out
}

func knownCaps() string {
	var s []string
	for _, k := range cuda.KnownCapabilities {
		s = append(s, k.Cap.String())
	}
	return strings.Join(s, ", ")
}

func capExample(cp cuda.Capability) string {
	for _, k := range cuda.KnownCapabilities {
		if k.Cap == cp {
			return k.Example
		}
	}
	return ""
}

// supportHint names the CUDA versions that can target cp.
func supportHint(cp cuda.Capability) string {
	var vs []string
	for _, r := range cuda.Releases {
		if r.Supports(cp) {
			vs = append(vs, r.Version)
		}
	}
	switch len(vs) {
	case 0:
		return fmt.Sprintf("no CUDA version nix2gpu knows supports %s", cp)
	case 1:
		return fmt.Sprintf("only CUDA %s supports %s", vs[0], cp)
	}
	return fmt.Sprintf("CUDA %s to %s support %s; change cuda.version or drop this capability", vs[0], vs[len(vs)-1], cp)
}

// What to write instead of an attribute path that does not parse, by the
// set it is looked up in.
const (
	pkgsPathHint  = "write a nixpkgs attribute path, such as python312Packages.numpy"
	cudaPathHint  = "write an attribute of the CUDA package set, such as cudnn or libcublas"
	inputPathHint = "write INPUT.attribute.path, such as dotfiles.homeModules.default"
)

// attrPaths lowers a list of attribute paths (packages, home.packages,
// cuda.packages), checking their shape. hint is one of the path hints
// above, for where they are looked up.
func (c *compiler) attrPaths(v *config.Value, hint string) []AttrPath {
	out := []AttrPath{}
	if v == nil || v.Kind != config.List {
		return out
	}
	seen := map[string]bool{}
	for _, e := range v.List {
		if e == nil || e.Kind != config.String {
			continue
		}
		if e.IsNix() {
			continue // reported by noteRawNix
		}
		p, ok := c.attrPath(e, hint)
		if !ok {
			continue
		}
		if k := p.String(); !seen[k] {
			seen[k] = true
			out = append(out, p)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].String() < out[j].String() })
	return out
}

func (c *compiler) attrPath(e *config.Value, hint string) (AttrPath, bool) {
	p, err := ParseAttrPath(e.Str)
	if err == nil {
		return p, true
	}
	var ae *AttrPathError
	r := e.Range
	if errors.As(err, &ae) {
		r = subRange(e, ae.Offset, 1)
	}
	hint += "; quote segments that are not identifiers: foo.\"bar@1\""
	c.add(diag.Error, r, c.pathOf(e, ""), hint, "invalid attribute path %q: %v", e.Str, err)
	return nil, false
}

// module lowers one home.modules entry: raw Nix, or an attribute path that
// starts with a flake input.
func (c *compiler) module(e *config.Value) (Expr, bool) {
	if e == nil || e.Kind != config.String {
		return nil, false
	}
	if e.IsNix() {
		return Raw{Code: e.Str, Range: e.Range}, true
	}
	p, ok := c.attrPath(e, inputPathHint)
	if !ok {
		return nil, false
	}
	roots := c.moduleRoots()
	found := false
	for _, r := range roots {
		if r == p[0] {
			found = true
		}
	}
	if !found {
		hint := "declare it under inputs:, e.g. `inputs: { " + p[0] + ": github:OWNER/REPO }`"
		if s := diag.Suggest(p[0], roots); s != "" {
			hint = fmt.Sprintf("did you mean %q? Otherwise %s", s, hint)
		}
		r := subRange(e, 0, utf8.RuneCountInString(p[0]))
		c.add(diag.Error, r, c.pathOf(e, ""), hint, "home module %q does not start with a declared input", e.Str)
		return nil, false
	}
	if len(p) < 2 {
		c.errorAt(e, fmt.Sprintf("select a module from the input, e.g. %s.homeModules.default", p[0]), "home module %q names a whole flake input, not a module", e.Str)
		return nil, false
	}
	return Ref{Root: p[0], Path: p[1:]}, true
}

// moduleRoots are the names a home module may start with: the inputs the
// user declared and the ones nix2gpu knows.
func (c *compiler) moduleRoots() []string {
	roots := append([]string{}, c.inputNames...)
	roots = append(roots, InputNix2Container, InputServicesFlake, InputProcessComposeFlake, InputHomeManager, InputAgenix)
	return sortedUnique(roots)
}

// secretFile checks secrets.<name>.file: relative, inside the project
// directory (also through symlinks), and present when a FS is given.
func (c *compiler) secretFile(v *config.Value) (string, bool) {
	s, ok := c.str(v)
	if !ok {
		return "", false
	}
	hint := "write the path of the encrypted file relative to the directory of the config file, e.g. secrets/token.age"
	switch {
	case s == "":
		c.errorAt(v, hint, "secret file is empty")
		return "", false
	case strings.HasPrefix(s, "/") || strings.HasPrefix(s, `\`) || len(s) > 1 && s[1] == ':':
		c.errorAt(v, hint, "secret file %q is an absolute path", s)
		return "", false
	}
	clean := cleanRel(s)
	if clean == ".." || strings.HasPrefix(clean, "../") {
		c.errorAt(v, "secrets must live in the project directory so they travel with it; move the file inside", "secret file %q is outside the project directory", s)
		return "", false
	}
	if c.opts.FS == nil {
		return clean, true
	}
	resolved, err := resolveInFS(c.opts.FS, clean)
	switch {
	case errors.Is(err, errEscapes):
		c.errorAt(v, "secrets must live in the project directory; replace the symlink with the file", "secret file %q resolves outside the project directory through a symlink", s)
		return "", false
	case err != nil:
		c.errorAt(v, "encrypt it first, e.g. `agenix -e "+clean+"`, or fix the path", "secret file %q does not exist", s)
		return "", false
	}
	fi, err := fs.Stat(c.opts.FS, resolved)
	if err != nil {
		c.errorAt(v, "encrypt it first, e.g. `agenix -e "+clean+"`, or fix the path", "secret file %q does not exist", s)
		return "", false
	}
	if fi.IsDir() {
		c.errorAt(v, "name the encrypted file, not its directory", "secret file %q is a directory", s)
		return "", false
	}
	if !isAgeEncrypted(c.opts.FS, resolved) {
		c.errorAt(v, "encrypt it with age or agenix (e.g. `age -r <recipient> -o "+clean+" plain.txt`) and delete the clear copy; a clear file would be copied into the world-readable Nix store", "secret file %q is not age-encrypted", s)
		return "", false
	}
	return clean, true
}

var errEscapes = errors.New("path escapes the project directory")

// resolveInFS follows symlinks in p, one component at a time, without
// leaving fsys. It returns the resolved path, errEscapes when a link points
// outside, or the error of a missing component.
func resolveInFS(fsys fs.FS, p string) (string, error) {
	parts := strings.Split(p, "/")
	done := "."
	for hops := 0; len(parts) > 0; {
		next := path.Join(done, parts[0])
		parts = parts[1:]
		target, err := fs.ReadLink(fsys, next)
		if err != nil {
			if _, serr := fs.Lstat(fsys, next); serr != nil {
				return "", serr
			}
			// Not a link (or links unsupported by fsys): keep going.
			done = next
			continue
		}
		if hops++; hops > 40 {
			return "", fmt.Errorf("%s: too many levels of symbolic links", p)
		}
		if path.IsAbs(target) {
			return "", errEscapes
		}
		joined := path.Join(done, target)
		if joined == ".." || strings.HasPrefix(joined, "../") {
			return "", errEscapes
		}
		// Resolve the target's own components before the rest.
		parts = append(strings.Split(joined, "/"), parts...)
		done = "."
	}
	return done, nil
}

var secretMode = regexp.MustCompile(`^0?[0-7]{3}$`)

func (c *compiler) secretMode(v *config.Value) (string, bool) {
	s, ok := c.str(v)
	if !ok {
		return "", false
	}
	if !secretMode.MatchString(s) {
		c.errorAt(v, `write an octal file mode as a quoted string, e.g. "0400"`, "invalid file mode %q", s)
		return "", false
	}
	if len(s) == 3 {
		s = "0" + s
	}
	return s, true
}

func (c *compiler) checkTailscale(v *config.Value, ct *Container) {
	if v == nil || v.Kind != config.Map || !ct.Tailscale.Enable {
		return
	}
	kf := v.Get("authKeyFile")
	if ct.Tailscale.AuthKeyFile == "" {
		at := v.Get("enable")
		c.warnAt(at, "without an auth key the container cannot join the tailnet unattended; add a secret holding the key and set authKeyFile to its path", "tailscale is enabled without authKeyFile")
		return
	}
	k := ct.Tailscale.AuthKeyFile
	if strings.HasPrefix(k, "tskey-") {
		c.errorAt(kf, "never put the key itself in the config: store it in an age-encrypted file under secrets: and set authKeyFile to that secret's path", "authKeyFile holds an auth key, not a file path")
		ct.Tailscale.AuthKeyFile = ""
		return
	}
	if !strings.HasPrefix(k, "/") {
		c.errorAt(kf, "use the absolute path inside the container, e.g. the path of a secret such as /run/secrets/ts-auth", "authKeyFile %q is not an absolute path", k)
		ct.Tailscale.AuthKeyFile = ""
		return
	}
	for _, s := range ct.Secrets {
		if s.Path == k {
			return
		}
	}
	c.add(diag.Note, kf.Range, c.pathOf(kf, ""), "declare the key under secrets: so it is decrypted there at start, or mount it at run time", "authKeyFile %q is not the path of any secret", k)
}

// checkRegistry checks that a registries entry is a repository reference.
func (c *compiler) checkRegistry(v *config.Value) bool {
	s := v.Str
	hint := "write REGISTRY/REPOSITORY, e.g. ghcr.io/acme/app; the tag comes from `tag:`"
	ref, err := name.ParseReference(s, name.WithDefaultTag(""))
	if err != nil {
		c.errorAt(v, "write REGISTRY/REPOSITORY in lower case, e.g. ghcr.io/acme/app; the tag comes from `tag:`", "registry entry %q is not a valid image repository", s)
		return false
	}
	switch r := ref.(type) {
	case name.Digest:
		c.errorAt(v, hint, "registry entry %q includes a digest", s)
		return false
	case name.Tag:
		if r.TagStr() != "" {
			c.errorAt(v, hint, "registry entry %q includes a tag", s)
			return false
		}
	}
	return true
}

// noteRawNix reports every `!nix` value: a note where raw Nix is accepted
// (so its use shows in validate output) and an error elsewhere.
func (c *compiler) noteRawNix(root *config.Value) {
	var walk func(v *config.Value, path []string)
	walk = func(v *config.Value, path []string) {
		if v == nil {
			return
		}
		switch v.Kind {
		case config.Map:
			for _, f := range v.Map {
				walk(f.Value, append(path, f.Key))
			}
		case config.List:
			for i, e := range v.List {
				walk(e, append(path, strconv.Itoa(i)))
			}
		case config.String:
			if !v.IsNix() {
				return
			}
			p := config.PathString(path)
			if rawNixAllowed(path) {
				c.add(diag.Note, v.Range, p, "nix2gpu cannot check it; mistakes show up when Nix evaluates the flake", "raw Nix code at %s is passed through unchecked", p)
			} else {
				c.add(diag.Error, v.Range, p, "!nix is accepted only in service options, home.programs, home.modules and nixConfig", "raw Nix code is not allowed at %s", p)
			}
		}
	}
	// Each level appends its key in place; only a diagnostic keeps a copy.
	walk(root, make([]string, 0, 16))
}

// rawNixAllowed reports whether a `!nix` value may appear at path: the
// places whose content is handed to Nix modules as is.
func rawNixAllowed(path []string) bool {
	var rel []string
	switch {
	case len(path) >= 3 && path[0] == "containers":
		rel = path[2:]
	case len(path) >= 2 && path[0] == "defaults":
		rel = path[1:]
	default:
		return false
	}
	switch rel[0] {
	case "services":
		return len(rel) >= 4
	case "nixConfig":
		return len(rel) >= 2
	case "home":
		return len(rel) >= 3 && (rel[1] == "programs" || rel[1] == "modules")
	}
	return false
}

// ageHeaders are the first bytes of age's binary and ASCII-armored
// formats (age-encryption.org/v1 specification).
var ageHeaders = [][]byte{
	[]byte("age-encryption.org/v1"),
	[]byte("-----BEGIN AGE ENCRYPTED FILE-----"),
}

// isAgeEncrypted reads only the first bytes of name: enough to tell an
// encrypted file from a clear one without loading a secret.
func isAgeEncrypted(fsys fs.FS, name string) bool {
	f, err := fsys.Open(name)
	if err != nil {
		return false
	}
	defer f.Close()
	head := make([]byte, 64)
	n, _ := io.ReadFull(f, head)
	head = bytes.TrimLeft(head[:n], " \t\r\n")
	for _, h := range ageHeaders {
		if bytes.HasPrefix(head, h) {
			return true
		}
	}
	return false
}

// checkSSHKeys refuses authorized keys that span lines: each entry is one
// line of authorized_keys, and a newline would smuggle in a second key
// that a reviewer reading one quoted string does not see.
func (c *compiler) checkSSHKeys(v *config.Value) {
	keys := v.Get("authorizedKeys")
	if keys == nil || keys.Kind != config.List {
		return
	}
	for _, k := range keys.List {
		if k.Kind == config.String && strings.ContainsAny(k.Str, "\r\n") {
			c.errorAt(k, "put each key in its own list entry", "authorized key contains a line break")
		}
	}
}

func (c *compiler) checkSSH(v *config.Value, s SSH) {
	c.checkSSHKeys(v)
	if !s.Enable || len(s.AuthorizedKeys) > 0 || v == nil || v.Kind != config.Map {
		return
	}
	c.warnAt(v.Get("enable"), "add a public key under ssh.authorizedKeys, or mount one at run time", "ssh is enabled without authorizedKeys")
}

// checkAbsolute reports a path inside the container that is not absolute.
func (c *compiler) checkAbsolute(v *config.Value, p, what, example string) bool {
	if strings.HasPrefix(p, "/") {
		return true
	}
	c.errorAt(v, fmt.Sprintf("paths inside the container are absolute, e.g. %s", example), "%s %q is not an absolute path", what, p)
	return false
}
