package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
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
		ds.Errorf(diag.Range{Filename: path}, "run 'nix2gpu init' to create one", "cannot read config: %v", unwrapPathError(err))
		return nil, ds
	}
	lim = lim.withDefaults()
	if fi.IsDir() {
		ds.Errorf(diag.Range{Filename: path}, "pass the YAML file, not its directory", "%s is a directory", path)
		return nil, ds
	}
	if fi.Size() > int64(lim.MaxBytes) {
		ds.Errorf(diag.Range{Filename: path}, "split the project or remove generated content", "file is %d bytes, over the limit of %d bytes", fi.Size(), lim.MaxBytes)
		return nil, ds
	}
	src, err := os.ReadFile(path)
	if err != nil {
		ds.Errorf(diag.Range{Filename: path}, "", "cannot read config: %v", unwrapPathError(err))
		return nil, ds
	}
	return Parse(path, src, lim)
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
	return &File{Name: name, Dir: filepath.Dir(name), Source: src, Root: root}, p.ds
}

type parser struct {
	name  string
	src   []byte
	lim   Limits
	lines []int // byte offset of each line start
	ds    diag.Diagnostics
	nodes int
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
	line := 0
	for line+1 < len(p.lines) && p.lines[line+1] <= off {
		line++
	}
	col := utf8.RuneCount(p.src[p.lines[line]:off]) + 1
	pos := diag.Pos{Line: line + 1, Column: col, Byte: off}
	end := pos
	end.Column++
	return diag.Range{Filename: p.name, Start: pos, End: end}
}

func (p *parser) fileRange() diag.Range { return diag.Range{Filename: p.name} }

func (p *parser) parse() *Value {
	if len(p.src) > p.lim.MaxBytes {
		p.ds.Errorf(p.fileRange(), "split the project or remove generated content", "file is %d bytes, over the limit of %d bytes", len(p.src), p.lim.MaxBytes)
		return nil
	}
	if !p.checkBytes() {
		return nil
	}
	if len(bytes.TrimSpace(stripComments(p.src))) == 0 {
		p.ds.Errorf(p.fileRange(), "start with `version: 1`, or run 'nix2gpu init' to write a commented example", "file is empty")
		return nil
	}
	p.checkTabs()
	if p.ds.HasErrors() {
		return nil
	}
	dec := yaml.NewDecoder(bytes.NewReader(p.src))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		p.yamlError(err)
		return nil
	}
	var second yaml.Node
	if err := dec.Decode(&second); err == nil {
		r := p.nodeRange(&second)
		if second.Kind == yaml.DocumentNode && len(second.Content) > 0 {
			r = p.nodeRange(second.Content[0])
		}
		if r.Start.Line > 1 {
			// Point at the `---` that starts the second document.
			if i := bytes.LastIndex(p.src[:p.lines[min(r.Start.Line-1, len(p.lines)-1)]], []byte("---")); i >= 0 {
				r = p.at(i)
			}
		}
		p.ds.Errorf(r, "keep one document per file; remove the `---` separator", "file holds more than one YAML document")
		return nil
	} else if !errors.Is(err, io.EOF) {
		p.yamlError(err)
		return nil
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 {
		p.ds.Errorf(p.fileRange(), "start with `version: 1`", "file is empty")
		return nil
	}
	top := doc.Content[0]
	if top.Kind != yaml.MappingNode {
		p.ds.Errorf(p.nodeRange(top), "the file must be a map of settings, starting with `version: 1`", "top level is a %s, not a map", describeNode(top))
		return nil
	}
	return p.convert(top, 0, map[*yaml.Node]bool{})
}

// checkBytes rejects invalid UTF-8 and NUL bytes, pointing at the first.
func (p *parser) checkBytes() bool {
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
	if bytes.HasPrefix(p.src, []byte("\xef\xbb\xbf")) {
		p.ds.Warnf(p.at(0), "save the file as UTF-8 without a byte order mark", "file starts with a UTF-8 byte order mark")
	}
	return ok
}

// checkTabs reports tabs used for indentation, which YAML forbids and
// yaml.v3 reports with a cryptic message.
func (p *parser) checkTabs() {
	for i, start := range p.lines {
		line := p.src[start:]
		if j := bytes.IndexByte(line, '\n'); j >= 0 {
			line = line[:j]
		}
		for j, b := range line {
			if b == ' ' {
				continue
			}
			if b == '\t' {
				r := p.at(start + j)
				r.Start.Line = i + 1
				p.ds.Errorf(r, "indent with spaces; YAML does not allow tabs for indentation", "tab character in indentation")
			}
			break
		}
	}
}

// stripComments blanks out full-line comments so a file of only comments
// counts as empty.
func stripComments(src []byte) []byte {
	var out []byte
	for _, line := range bytes.Split(src, []byte("\n")) {
		t := bytes.TrimSpace(line)
		if len(t) == 0 || t[0] == '#' || bytes.Equal(t, []byte("---")) || bytes.Equal(t, []byte("...")) {
			continue
		}
		out = append(out, line...)
		out = append(out, '\n')
	}
	return out
}

var yamlLineRE = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// yamlError turns a yaml.v3 syntax error into a diagnostic on its line.
func (p *parser) yamlError(err error) {
	msg := err.Error()
	r := p.fileRange()
	if m := yamlLineRE.FindStringSubmatch(msg); m != nil {
		n, _ := strconv.Atoi(m[1])
		if n >= 1 && n <= len(p.lines) {
			r = p.at(p.lines[n-1])
			// Point at the first non-blank character of the line.
			for off := p.lines[n-1]; off < len(p.src) && (p.src[off] == ' '); off++ {
				r = p.at(off + 1)
			}
		}
		msg = m[2]
	} else {
		msg = strings.TrimPrefix(msg, "yaml: ")
	}
	p.ds.Errorf(r, "check the indentation and quoting on this line and the one before it", "YAML syntax error: %s", msg)
}

// nodeRange is the range of a yaml node's token: its start, and its end
// when the token fits on one line.
func (p *parser) nodeRange(n *yaml.Node) diag.Range {
	if n.Line < 1 || n.Line > len(p.lines) {
		return p.fileRange()
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

// tokenWidth measures, in runes, the scalar token at the start of rest.
func tokenWidth(rest []byte, n *yaml.Node) int {
	s := string(bytes.TrimRight(rest, "\r"))
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
		tag := ""
		if n.Tag != "" && !strings.HasPrefix(n.Tag, "!!") && strings.HasPrefix(s, n.Tag) {
			tag = n.Tag
			s = strings.TrimLeft(s[len(tag):], " ")
		}
		if strings.HasPrefix(s, n.Value) && !strings.Contains(n.Value, "\n") {
			return utf8.RuneCountInString(n.Value)
		}
	}
	return 0
}

func describeNode(n *yaml.Node) string {
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
		p.ds.Errorf(p.nodeRange(n), "aliases that expand to huge documents are not supported; write the values out", "document expands to more than %d values", p.lim.MaxNodes)
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
				p.ds.Errorf(kr, "use a plain string as the key", "map key is a %s, not a string", describeNode(kn))
				continue
			}
			key := kn.Value
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
		p.ds.Errorf(r, "!nix applies to a string holding a Nix expression, e.g. `!nix \"{ pkgs, ... }: { }\"`", "!nix tag on a %s", describeNode(n))
		return
	}
	p.ds.Errorf(r, "remove the tag; the only tag nix2gpu knows is !nix (raw Nix code)", "unknown YAML tag %q", n.Tag)
}

func (p *parser) scalar(n *yaml.Node, r diag.Range) *Value {
	if len(n.Value) > p.lim.MaxStringBytes {
		p.ds.Errorf(r, "keep large content in a separate file", "value is %d bytes, over the limit of %d bytes", len(n.Value), p.lim.MaxStringBytes)
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
			p.ds.Errorf(r, "use a smaller number", "integer %s is out of range", n.Value)
		}
	case "!!float":
		v.Kind = Float
		if err := n.Decode(&v.Float); err != nil {
			p.ds.Errorf(r, "", "invalid number %q", n.Value)
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
