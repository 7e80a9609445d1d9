package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"gopkg.in/yaml.v3"

	"github.com/nix2gpu/nix2gpu/diag"
)

// Limits bound the work a single file can cause. The zero value means
// DefaultLimits.
type Limits struct {
	MaxBytes       int // file size
	MaxDepth       int // nesting of maps and lists
	MaxNodes       int // values after alias expansion
	MaxStringBytes int // one scalar
}

// DefaultLimits are generous for real projects (a thousand containers fit
// easily) and stop hostile input early.
var DefaultLimits = Limits{
	MaxBytes:       8 << 20,
	MaxDepth:       64,
	MaxNodes:       1 << 20,
	MaxStringBytes: 1 << 20,
}

// File is a parsed nix2gpu.yaml.
type File struct {
	Name   string // as given by the user; used in diagnostics
	Dir    string // directory relative paths resolve against
	Source []byte
	Root   *Value // a map
}

// Load reads and parses the file at path. name is how diagnostics refer to
// it (usually path as the user typed it).
func Load(path string, lim Limits) (*File, diag.Diagnostics) {
	var ds diag.Diagnostics
	fi, err := os.Stat(path)
	if err != nil {
		hint := "check the file's permissions"
		if errors.Is(err, fs.ErrNotExist) {
			hint = "run 'nix2gpu init' to create one, or pass the path of the file"
		}
		ds.Errorf(diag.Range{Filename: path}, hint, "cannot read config: %v", unwrapPathError(err))
		return nil, ds
	}
	lim = lim.withDefaults()
	if fi.IsDir() {
		ds.Errorf(diag.Range{Filename: path}, "pass the YAML file, not its directory", "%s is a directory", path)
		return nil, ds
	}
	if !fi.Mode().IsRegular() {
		ds.Errorf(diag.Range{Filename: path}, "point nix2gpu at a regular YAML file", "%s is not a regular file (%s)", path, fileKind(fi.Mode()))
		return nil, ds
	}
	if fi.Size() > int64(lim.MaxBytes) {
		ds.Errorf(diag.Range{Filename: path}, "split the project or remove generated content", "file is %d bytes, over the limit of %d bytes", fi.Size(), lim.MaxBytes)
		return nil, ds
	}
	src, err := ReadLimited(path, lim.MaxBytes)
	if err != nil {
		ds.Errorf(diag.Range{Filename: path}, "check the file's permissions", "cannot read config: %v", unwrapPathError(err))
		return nil, ds
	}
	return Parse(path, src, lim)
}

// ReadLimited reads at most max+1 bytes of the regular file at path, so a
// file that grows (or a device behind a symlink swapped in after a Stat)
// can never make nix2gpu read without bound. Parse reports a result over
// max with its size hint.
func ReadLimited(path string, max int) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file (%s)", filepath.Base(path), fileKind(fi.Mode()))
	}
	return io.ReadAll(io.LimitReader(f, int64(max)+1))
}

func fileKind(m fs.FileMode) string {
	switch {
	case m&fs.ModeDevice != 0 || m&fs.ModeCharDevice != 0:
		return "a device"
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m.IsDir():
		return "a directory"
	}
	return "not a plain file"
}

func unwrapPathError(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

func (l Limits) withDefaults() Limits {
	if l.MaxBytes <= 0 {
		l.MaxBytes = DefaultLimits.MaxBytes
	}
	if l.MaxDepth <= 0 {
		l.MaxDepth = DefaultLimits.MaxDepth
	}
	if l.MaxNodes <= 0 {
		l.MaxNodes = DefaultLimits.MaxNodes
	}
	if l.MaxStringBytes <= 0 {
		l.MaxStringBytes = DefaultLimits.MaxStringBytes
	}
	return l
}

// Parse parses src, which came from the file called name. It returns every
// problem it can find; the File is nil when the document cannot be used.
func Parse(name string, src []byte, lim Limits) (*File, diag.Diagnostics) {
	lim = lim.withDefaults()
	p := &parser{name: name, src: src, lim: lim, lines: lineStarts(src)}
	root := p.parse()
	p.ds = p.ds.Sort()
	if p.ds.HasErrors() {
		return nil, p.ds
	}
	// Source is what positions refer to: without the byte order mark,
	// which YAML does not count as a column.
	return &File{Name: name, Dir: filepath.Dir(name), Source: p.src, Root: root}, p.ds
}

type parser struct {
	name  string
	src   []byte
	lim   Limits
	lines []int // byte offset of each line start
	ds    diag.Diagnostics
	nodes int
	// expanding is the outermost alias being expanded, where a blown
	// node budget is reported: the anchor's own values are innocent.
	expanding *yaml.Node
}

func lineStarts(src []byte) []int {
	starts := []int{0}
	for i, b := range src {
		if b == '\n' {
			starts = append(starts, i+1)
		}
	}
	return starts
}

// at returns the range of one character at a byte offset.
func (p *parser) at(off int) diag.Range {
	off = max(0, min(off, len(p.src)))
	line := sort.Search(len(p.lines), func(i int) bool { return p.lines[i] > off }) - 1
	col := utf8.RuneCount(p.src[p.lines[line]:off]) + 1
	pos := diag.Pos{Line: line + 1, Column: col, Byte: off}
	end := pos
	end.Column++
	return diag.Range{Filename: p.name, Start: pos, End: end}
}

// line returns line n (1-based) without its line ending.
func (p *parser) line(n int) []byte {
	if n < 1 || n > len(p.lines) {
		return nil
	}
	end := len(p.src)
	if n < len(p.lines) {
		end = p.lines[n] - 1
	}
	return bytes.TrimSuffix(p.src[p.lines[n-1]:end], []byte("\r"))
}

func (p *parser) fileRange() diag.Range { return diag.Range{Filename: p.name} }

func (p *parser) parse() *Value {
	if len(p.src) > p.lim.MaxBytes {
		// A bounded reader stops one byte past the limit, so that length
		// says only "too large", not the real size.
		msg := fmt.Sprintf("file is %d bytes, over the limit of %d bytes", len(p.src), p.lim.MaxBytes)
		if len(p.src) == p.lim.MaxBytes+1 {
			msg = fmt.Sprintf("file is over the limit of %d bytes", p.lim.MaxBytes)
		}
		p.ds.Errorf(p.fileRange(), "split the project or remove generated content", "%s", msg)
		return nil
	}
	if !p.checkBytes() {
		return nil
	}
	if onlyComments(p.src) {
		p.ds.Errorf(p.fileRange(), "start with `version: 1`, or run 'nix2gpu init' to write a commented example", "file is empty")
		return nil
	}
	doc, err := decodeOne(p.src)
	if err != nil {
		p.yamlError(err)
		return nil
	}
	if doc == nil || len(doc.Content) == 0 {
		p.ds.Errorf(p.fileRange(), "start with `version: 1`", "file is empty")
		return nil
	}
	top := doc.Content[0]
	if top.Kind != yaml.MappingNode {
		p.ds.Errorf(p.nodeRange(top), "the file must be a map of settings, starting with `version: 1`", "top level is %s, not a map", describeNode(top))
		return nil
	}
	return p.convert(top, 0, map[*yaml.Node]bool{})
}

// errSecondDocument is decodeOne's answer to a file holding more than one
// YAML document.
type errSecondDocument struct{ node *yaml.Node }

func (errSecondDocument) Error() string { return "more than one document" }

// decodeOne decodes the single document of src. A second document is an
// errSecondDocument; a syntax error anywhere is returned as yaml.v3 reports
// it.
func decodeOne(src []byte) (*yaml.Node, error) {
	dec := yaml.NewDecoder(bytes.NewReader(src))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, nil
		}
		return nil, err
	}
	var second yaml.Node
	if err := dec.Decode(&second); err == nil {
		return nil, errSecondDocument{&second}
	} else if !errors.Is(err, io.EOF) {
		return nil, err
	}
	return &doc, nil
}

// checkBytes rejects what is not UTF-8 text: NUL bytes, invalid UTF-8,
// UTF-16, and carriage returns that are not part of CRLF (YAML would count
// them as line breaks, editors and this reader do not). A UTF-8 byte order
// mark is dropped with a warning.
func (p *parser) checkBytes() bool {
	if bytes.HasPrefix(p.src, []byte("\xff\xfe")) || bytes.HasPrefix(p.src, []byte("\xfe\xff")) {
		p.ds.Errorf(p.at(0), "save the file as UTF-8", "file is UTF-16 encoded")
		return false
	}
	ok := true
	if i := bytes.IndexByte(p.src, 0); i >= 0 {
		p.ds.Errorf(p.at(i), "the file must be UTF-8 text; remove the NUL byte", "file contains a NUL byte")
		ok = false
	}
	for i := 0; i < len(p.src); {
		r, size := utf8.DecodeRune(p.src[i:])
		if r == utf8.RuneError && size <= 1 {
			p.ds.Errorf(p.at(i), "save the file as UTF-8", "invalid UTF-8 byte 0x%02x", p.src[i])
			return false
		}
		i += size
	}
	for i, b := range p.src {
		if b == '\r' && (i+1 == len(p.src) || p.src[i+1] != '\n') {
			p.ds.Errorf(p.at(i), "save the file with LF or CRLF line endings", "carriage return without a line feed")
			ok = false
			break
		}
	}
	if ok && bytes.HasPrefix(p.src, []byte("\xef\xbb\xbf")) {
		p.ds.Warnf(p.at(0), "save the file as UTF-8 without a byte order mark", "file starts with a UTF-8 byte order mark")
		p.src = p.src[3:]
		p.lines = lineStarts(p.src)
	}
	return ok
}

// onlyComments reports whether src holds nothing but blank lines,
// full-line comments and document markers: a file that counts as empty.
func onlyComments(src []byte) bool {
	for line := range bytes.SplitSeq(src, []byte("\n")) {
		t := bytes.TrimSpace(line)
		if len(t) == 0 || t[0] == '#' || bytes.Equal(t, []byte("---")) || bytes.Equal(t, []byte("...")) {
			continue
		}
		return false
	}
	return true
}

var yamlLineRE = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// yamlError turns a yaml.v3 error into a diagnostic. yaml.v3 reports the
// line of the enclosing construct rather than of the problem (and no line
// at all on line 1), so the line is found again by parsing growing
// prefixes of the file: the first prefix that fails the same way ends on
// the offending line. The column comes from what the message is about.
func (p *parser) yamlError(err error) {
	var sd errSecondDocument
	if errors.As(err, &sd) {
		p.ds.Errorf(p.secondDocument(sd.node), "keep one document per file; remove the `---` separator and what follows, or merge the documents", "file holds more than one YAML document")
		return
	}
	msg, reported := splitYAMLError(err)
	line := p.findErrorLine(msg, reported)
	if line < 1 {
		line = 1
	}
	if off, ok := p.tabInIndentation(line, msg); ok {
		p.ds.Errorf(p.at(off), "indent with spaces; YAML does not allow tabs in indentation", "tab character in indentation")
		return
	}
	if name, ok := strings.CutPrefix(msg, "unknown anchor '"); ok {
		name = strings.TrimSuffix(name, "' referenced")
		if off, found := p.findAlias(name); found {
			r := p.at(off)
			r.End.Column = r.Start.Column + utf8.RuneCountInString(name) + 1
			p.ds.Errorf(r, "define the anchor (&"+name+") before using it, or write the value out", "alias *%s refers to an anchor that is not defined before it", name)
			return
		}
	}
	start := p.lines[line-1]
	r := p.at(start + errorColumn(p.line(line), msg))
	p.ds.Errorf(r, yamlHint(msg), "YAML syntax error: %s", msg)
}

func splitYAMLError(err error) (msg string, line int) {
	msg = err.Error()
	if m := yamlLineRE.FindStringSubmatch(msg); m != nil {
		line, _ = strconv.Atoi(m[1])
		return m[2], line
	}
	return strings.TrimPrefix(msg, "yaml: "), 0
}

// maxRelocateBytes bounds the work of findErrorLine, so that a syntax
// error near the end of a huge file costs little.
const maxRelocateBytes = 4 << 20

func (p *parser) findErrorLine(msg string, reported int) int {
	n := len(p.lines)
	failsAt := func(k int) bool {
		end := len(p.src)
		if k < n {
			end = p.lines[k]
		}
		_, err := decodeOne(p.src[:end])
		if err == nil {
			return false
		}
		m, _ := splitYAMLError(err)
		return m == msg
	}
	if n*len(p.src)/2 <= maxRelocateBytes {
		// Small file: try every prefix, which finds the first failing one
		// exactly.
		for k := 1; k <= n; k++ {
			if failsAt(k) {
				return k
			}
		}
	} else {
		// Large file: a prefix that fails keeps failing as it grows, in
		// practice, so bisect.
		lo, hi := 1, n
		for lo < hi {
			mid := (lo + hi) / 2
			if failsAt(mid) {
				hi = mid
			} else {
				lo = mid + 1
			}
		}
		if failsAt(lo) {
			return lo
		}
	}
	return min(reported, n)
}

// tabInIndentation finds a tab in the leading whitespace of line, or of an
// earlier line when yaml.v3 complained about a tab.
func (p *parser) tabInIndentation(line int, msg string) (int, bool) {
	lead := func(n int) (int, bool) {
		for j, b := range p.line(n) {
			switch b {
			case ' ':
				continue
			case '\t':
				return p.lines[n-1] + j, true
			}
			return 0, false
		}
		return 0, false
	}
	if off, ok := lead(line); ok {
		return off, true
	}
	if strings.Contains(msg, "tab character") {
		for n := line; n >= 1; n-- {
			if off, ok := lead(n); ok {
				return off, true
			}
		}
	}
	return 0, false
}

// findAlias returns the offset of the first `*name` alias token.
func (p *parser) findAlias(name string) (int, bool) {
	tok := []byte("*" + name)
	for i := 0; i < len(p.src); {
		j := bytes.Index(p.src[i:], tok)
		if j < 0 {
			return 0, false
		}
		off := i + j
		after := off + len(tok)
		startOK := off == 0 || bytes.IndexByte([]byte(" \t[{,:-\n"), p.src[off-1]) >= 0
		endOK := after == len(p.src) || bytes.IndexByte([]byte(" \t]},\r\n"), p.src[after]) >= 0
		if startOK && endOK {
			return off, true
		}
		i = off + 1
	}
	return 0, false
}

// errorColumn guesses the byte offset within line that a yaml.v3 message
// is about, falling back to the first non-blank character.
func errorColumn(line []byte, msg string) int {
	first := len(line) - len(bytes.TrimLeft(line, " \t"))
	if first == len(line) {
		first = 0
	}
	switch {
	case strings.HasPrefix(msg, "mapping values are not allowed"):
		// The second `key: value` separator on the line is the offender.
		if seps := mappingSeparators(line); len(seps) >= 2 {
			return seps[1]
		}
	case strings.HasPrefix(msg, "found character that cannot start any token"):
		for i := first; i < len(line); i++ {
			if bytes.IndexByte([]byte("@`%"), line[i]) >= 0 && (i == first || bytes.IndexByte([]byte(" [{,"), line[i-1]) >= 0) {
				return i
			}
		}
	case strings.HasPrefix(msg, "found unexpected end of stream"), strings.HasPrefix(msg, "found unknown escape character"),
		strings.Contains(msg, "did not find expected hexdecimal number"):
		if i := bytes.IndexAny(line, `"'`); i >= 0 {
			if strings.HasPrefix(msg, "found unknown escape") {
				if j := bytes.IndexByte(line[i:], '\\'); j >= 0 {
					return i + j
				}
			}
			return i
		}
	case strings.HasPrefix(msg, "did not find expected node content"):
		if i := bytes.LastIndexAny(line, "[{"); i >= 0 {
			return i
		}
	case strings.HasPrefix(msg, "did not find expected ',' or ']'"):
		if i := bytes.LastIndexByte(line, '['); i >= 0 {
			return i
		}
	case strings.HasPrefix(msg, "did not find expected ',' or '}'"):
		if i := bytes.LastIndexByte(line, '{'); i >= 0 {
			return i
		}
	}
	return first
}

// mappingSeparators returns the offsets of `: ` (or a final `:`) outside
// quotes and before any comment.
func mappingSeparators(line []byte) []int {
	var out []int
	var quote byte
	for i := 0; i < len(line); i++ {
		b := line[i]
		switch {
		case quote != 0:
			if b == quote {
				quote = 0
			}
		case b == '"' || b == '\'':
			if i == 0 || bytes.IndexByte([]byte(" [{,:"), line[i-1]) >= 0 {
				quote = b
			}
		case b == '#' && (i == 0 || line[i-1] == ' '):
			return out
		case b == ':' && (i+1 == len(line) || line[i+1] == ' ' || line[i+1] == '\t'):
			out = append(out, i)
		}
	}
	return out
}

func yamlHint(msg string) string {
	switch {
	case strings.HasPrefix(msg, "mapping values are not allowed"):
		return "a value containing \": \" must be quoted, or the line is indented too far"
	case strings.HasPrefix(msg, "found unexpected end of stream"):
		return "close the quoted string that starts here"
	case strings.HasPrefix(msg, "did not find expected ',' or ']'"):
		return "close the [ list ] that starts here, and separate its items with commas"
	case strings.HasPrefix(msg, "did not find expected ',' or '}'"):
		return "close the { map } that starts here, and separate its entries with commas"
	case strings.HasPrefix(msg, "found character that cannot start any token"):
		return "quote values that start with @, ` or %"
	case strings.HasPrefix(msg, "did not find expected key"):
		return "this line is not indented like the keys around it; align it with its siblings"
	case strings.HasPrefix(msg, "could not find expected ':'"):
		return "write `key: value`; quote a value that runs over several lines"
	case strings.HasPrefix(msg, "found unknown escape character"):
		return "in double quotes write \\\\ for a backslash, or use single quotes"
	}
	return "check the indentation and quoting on this line and the one before it"
}

// secondDocument finds the `---` that starts the second document.
func (p *parser) secondDocument(second *yaml.Node) diag.Range {
	var markers []int
	leading, content := false, false
	for n := 1; n <= len(p.lines); n++ {
		l := p.line(n)
		isMarker := bytes.HasPrefix(l, []byte("---")) && (len(l) == 3 || l[3] == ' ' || l[3] == '\t')
		if isMarker {
			if !content && len(markers) == 0 {
				leading = true
			}
			markers = append(markers, n)
			content = true
			continue
		}
		t := bytes.TrimSpace(l)
		if len(t) > 0 && t[0] != '#' && t[0] != '%' {
			content = true
		}
	}
	idx := 0
	if leading {
		idx = 1
	}
	if idx < len(markers) {
		r := p.at(p.lines[markers[idx]-1])
		r.End.Column = r.Start.Column + 3
		return r
	}
	if second != nil && len(second.Content) > 0 {
		return p.nodeRange(second.Content[0])
	}
	return p.at(0)
}

// nodeRange is the range of a yaml node's token: its start, and its end
// when the token fits on one line.
func (p *parser) nodeRange(n *yaml.Node) diag.Range {
	if n.Line < 1 {
		return p.at(0)
	}
	if n.Line > len(p.lines) {
		return p.at(len(p.src))
	}
	lineStart := p.lines[n.Line-1]
	lineEnd := len(p.src)
	if n.Line < len(p.lines) {
		lineEnd = p.lines[n.Line] - 1
	}
	line := p.src[lineStart:lineEnd]
	// Column counts runes; find the byte offset.
	off := 0
	for c := 1; c < n.Column && off < len(line); c++ {
		_, size := utf8.DecodeRune(line[off:])
		off += size
	}
	start := diag.Pos{Line: n.Line, Column: n.Column, Byte: lineStart + off}
	end := start
	end.Column++
	if n.Kind == yaml.ScalarNode || n.Kind == yaml.AliasNode {
		if w := tokenWidth(line[off:], n); w > 0 {
			end.Column = start.Column + w
		}
	}
	end.Byte = start.Byte
	return diag.Range{Filename: p.name, Start: start, End: end}
}

// tokenWidth measures, in runes, the scalar token at the start of rest,
// including its tag and anchor when they come first.
func tokenWidth(rest []byte, n *yaml.Node) int {
	s := string(bytes.TrimRight(rest, "\r"))
	prefix := 0
	// Skip `!tag ` and `&anchor ` properties in front of the value.
	for len(s) > 0 && (s[0] == '!' || s[0] == '&') && n.Kind != yaml.AliasNode {
		i := strings.IndexAny(s, " \t")
		if i < 0 {
			return 0
		}
		j := i
		for j < len(s) && (s[j] == ' ' || s[j] == '\t') {
			j++
		}
		prefix += utf8.RuneCountInString(s[:j])
		s = s[j:]
	}
	w := valueWidth(s, n)
	if w == 0 {
		return 0
	}
	return prefix + w
}

func valueWidth(s string, n *yaml.Node) int {
	switch {
	case n.Kind == yaml.AliasNode:
		return utf8.RuneCountInString("*" + n.Value)
	case n.Style&yaml.DoubleQuotedStyle != 0:
		for i := 1; i < len(s); i++ {
			if s[i] == '\\' {
				i++
				continue
			}
			if s[i] == '"' {
				return utf8.RuneCountInString(s[:i+1])
			}
		}
	case n.Style&yaml.SingleQuotedStyle != 0:
		for i := 1; i < len(s); i++ {
			if s[i] == '\'' {
				if i+1 < len(s) && s[i+1] == '\'' {
					i++
					continue
				}
				return utf8.RuneCountInString(s[:i+1])
			}
		}
	case n.Style&(yaml.LiteralStyle|yaml.FoldedStyle) != 0:
		return 1
	default:
		if n.Value != "" && strings.HasPrefix(s, n.Value) && !strings.Contains(n.Value, "\n") {
			return utf8.RuneCountInString(n.Value)
		}
	}
	return 0
}

// describeNode names the kind of a node with its article: "a list".
func describeNode(n *yaml.Node) string {
	k := nodeKind(n)
	if k == "alias" {
		return "an alias"
	}
	return "a " + k
}

func nodeKind(n *yaml.Node) string {
	switch n.Kind {
	case yaml.SequenceNode:
		return "list"
	case yaml.MappingNode:
		return "map"
	case yaml.AliasNode:
		return "alias"
	}
	switch n.ShortTag() {
	case "!!null":
		return "null"
	case "!!bool":
		return "boolean"
	case "!!int", "!!float":
		return "number"
	}
	return "string"
}

// convert builds a Value from a yaml node, expanding aliases within the
// node budget and checking keys, tags and limits.
func (p *parser) convert(n *yaml.Node, depth int, active map[*yaml.Node]bool) *Value {
	p.nodes++
	if p.nodes == p.lim.MaxNodes+1 {
		at := n
		if p.expanding != nil {
			at = p.expanding
		}
		p.ds.Errorf(p.nodeRange(at), "aliases that expand to huge documents are not supported; write the values out", "document expands to more than %d values", p.lim.MaxNodes)
	}
	if p.nodes > p.lim.MaxNodes {
		return &Value{Kind: Null, Range: p.nodeRange(n)}
	}
	if depth > p.lim.MaxDepth {
		p.ds.Errorf(p.nodeRange(n), "flatten the structure", "nesting is deeper than %d levels", p.lim.MaxDepth)
		p.nodes = p.lim.MaxNodes + 1 // stop further work
		return &Value{Kind: Null, Range: p.nodeRange(n)}
	}
	r := p.nodeRange(n)
	switch n.Kind {
	case yaml.AliasNode:
		if n.Alias == nil || active[n.Alias] {
			p.ds.Errorf(r, "remove the alias", "alias *%s refers to itself", n.Value)
			return &Value{Kind: Null, Range: r}
		}
		active[n.Alias] = true
		if p.expanding == nil {
			p.expanding = n
			defer func() { p.expanding = nil }()
		}
		v := p.convert(n.Alias, depth, active)
		delete(active, n.Alias)
		// The value lives where the alias is used, for diagnostics.
		cp := *v
		cp.Range = r
		return &cp
	case yaml.MappingNode:
		if n.Tag != "" && n.Tag != "!!map" {
			p.badTag(n, r)
		}
		v := &Value{Kind: Map, Range: r}
		seen := map[string]*Field{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			kn, vn := n.Content[i], n.Content[i+1]
			kr := p.nodeRange(kn)
			if kn.Kind == yaml.ScalarNode && kn.Tag == "!!merge" {
				p.ds.Errorf(kr, "write the keys out, or put shared settings under `defaults:`", "YAML merge keys (<<) are not supported")
				continue
			}
			if kn.Kind != yaml.ScalarNode {
				p.ds.Errorf(kr, "use a plain string as the key", "map key is %s, not a string", describeNode(kn))
				continue
			}
			key := kn.Value
			if kn.Tag == NixTag {
				p.ds.Errorf(kr, "keys are plain names; !nix applies to values only", "!nix tag on a map key")
				continue
			}
			if kn.Tag != "" && !strings.HasPrefix(kn.Tag, "!!") {
				p.badTag(kn, kr)
				continue
			}
			if strings.ContainsRune(key, 0) {
				p.ds.Errorf(kr, "remove the \\0 escape from the key", "key contains a NUL character")
				continue
			}
			if prev, dup := seen[key]; dup {
				p.ds.Errorf(kr, fmt.Sprintf("the first %q is at line %d; remove one of them", key, prev.KeyRange.Start.Line), "duplicate key %q", key)
				continue
			}
			f := &Field{Key: key, KeyRange: kr, Value: p.convert(vn, depth+1, active)}
			seen[key] = f
			v.Map = append(v.Map, f)
		}
		return v
	case yaml.SequenceNode:
		if n.Tag != "" && n.Tag != "!!seq" {
			p.badTag(n, r)
		}
		v := &Value{Kind: List, Range: r}
		for _, c := range n.Content {
			v.List = append(v.List, p.convert(c, depth+1, active))
		}
		return v
	case yaml.ScalarNode:
		return p.scalar(n, r)
	}
	p.ds.Errorf(r, "", "unexpected YAML node")
	return &Value{Kind: Null, Range: r}
}

func (p *parser) badTag(n *yaml.Node, r diag.Range) {
	if n.Tag == NixTag {
		p.ds.Errorf(r, "!nix applies to a string holding a Nix expression, e.g. `!nix \"{ pkgs, ... }: { }\"`", "!nix tag on %s", describeNode(n))
		return
	}
	p.ds.Errorf(r, "remove the tag; the only tag nix2gpu knows is !nix (raw Nix code)", "unknown YAML tag %q", n.Tag)
}

func (p *parser) scalar(n *yaml.Node, r diag.Range) *Value {
	if len(n.Value) > p.lim.MaxStringBytes {
		p.ds.Errorf(r, "keep large content in a separate file", "value is %d bytes, over the limit of %d bytes", len(n.Value), p.lim.MaxStringBytes)
		return &Value{Kind: String, Range: r}
	}
	if strings.ContainsRune(n.Value, 0) {
		p.ds.Errorf(r, "Nix strings cannot hold a NUL character; remove the \\0 escape", "string contains a NUL character")
		return &Value{Kind: String, Range: r}
	}
	v := &Value{Str: n.Value, Range: r}
	tag := n.Tag
	if tag == NixTag {
		v.Kind, v.Tag = String, NixTag
		return v
	}
	if tag != "" && !strings.HasPrefix(tag, "!!") {
		p.badTag(n, r)
		v.Kind = String
		return v
	}
	switch n.ShortTag() {
	case "!!null":
		v.Kind = Null
	case "!!bool":
		v.Kind = Bool
		if err := n.Decode(&v.Bool); err != nil {
			p.ds.Errorf(r, "write true or false", "invalid boolean %q", n.Value)
		}
	case "!!int":
		v.Kind = Int
		if err := n.Decode(&v.Int); err != nil {
			if looksNumeric(n.Value) {
				p.ds.Errorf(r, "use a number between -9223372036854775808 and 9223372036854775807, or quote it", "integer %s is out of range", n.Value)
			} else {
				p.ds.Errorf(r, "remove the !!int tag or write a whole number", "invalid integer %q", n.Value)
			}
		}
	case "!!float":
		v.Kind = Float
		if err := n.Decode(&v.Float); err != nil {
			p.ds.Errorf(r, "remove the !!float tag or write a number", "invalid number %q", n.Value)
		}
	case "!!str":
		v.Kind = String
	case "!!binary", "!!timestamp":
		// Timestamps and binaries are only strings to nix2gpu.
		v.Kind = String
	default:
		p.badTag(n, r)
		v.Kind = String
	}
	return v
}

// looksNumeric reports whether s is written like an integer (so a failed
// decode means it overflowed).
func looksNumeric(s string) bool {
	s = strings.TrimLeft(s, "+-")
	s = strings.ReplaceAll(s, "_", "")
	if s == "" {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}
