package compiler

import (
	"io/fs"
	"path"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/nix2gpu/nix2gpu/config"
	"github.com/nix2gpu/nix2gpu/cuda"
	"github.com/nix2gpu/nix2gpu/diag"
)

// Options configure Compile.
type Options struct {
	// FS is the project directory (the one holding nix2gpu.yaml). It is
	// used only to check that secrets files exist and stay inside it; a
	// nil FS skips those existence checks.
	FS fs.FS
}

// Defaults applied when the config leaves a setting out.
const (
	DefaultTag          = "latest"
	DefaultBuilder      = BuilderNix2Container
	DefaultMaxLayers    = 50
	DefaultUser         = "root"
	DefaultSystem       = "x86_64-linux"
	DefaultSSHPort      = 22
	DefaultSecretMode   = "0400"
	DefaultStateVersion = "25.05"
)

// Input names nix2gpu knows how to wire in, and their default URLs.
const (
	InputNixpkgs             = "nixpkgs"
	InputNix2Container       = "nix2container"
	InputServicesFlake       = "services-flake"
	InputProcessComposeFlake = "process-compose-flake"
	InputHomeManager         = "home-manager"
	InputAgenix              = "agenix"
)

// DefaultInputURL returns the URL nix2gpu uses for a known input when the
// config does not override it.
func DefaultInputURL(name string) (string, bool) {
	switch name {
	case InputNixpkgs:
		return "github:NixOS/nixpkgs/nixos-unstable", true
	case InputNix2Container:
		return "github:nlewo/nix2container", true
	case InputServicesFlake:
		return "github:juspay/services-flake", true
	case InputProcessComposeFlake:
		return "github:Platonic-Systems/process-compose-flake", true
	case InputHomeManager:
		return "github:nix-community/home-manager", true
	case InputAgenix:
		return "github:ryantm/agenix", true
	}
	return "", false
}

// IsBuiltinService reports whether a service type is one of nix2gpu's own
// modules rather than a services-flake one.
func IsBuiltinService(typ string) bool {
	switch typ {
	case "comfyui", "vllm":
		return true
	}
	return false
}

// Compile checks f beyond what the schema can express and lowers it to a
// Project. It never panics on ill-typed input: values of the wrong type
// are skipped (the schema reports them). The Project is returned even when
// there are errors, as far as it could be built.
func Compile(f *config.File, opts Options) (*Project, diag.Diagnostics) {
	c := &compiler{file: f, opts: opts}
	if f == nil || f.Root == nil {
		return &Project{Version: 1, Systems: []string{DefaultSystem}}, nil
	}
	p := c.lower()
	return p, c.ds.Sort()
}

type compiler struct {
	file  *config.File
	opts  Options
	ds    diag.Diagnostics
	paths map[*config.Value]pathEntry // where each original value sits, for Path; built on first use
	// inputNames are the inputs a module reference may start with.
	inputNames []string
}

// pathEntry links a value of the document to its parent, so its dotted
// path can be built when a diagnostic needs it (most values never do).
type pathEntry struct {
	parent *config.Value
	key    string // map key, or "" for a list element
	index  int
}

// indexPaths records where every value of the document sits, so
// diagnostics about values that reached a container through `defaults`
// name the place the user wrote them.
func (c *compiler) indexPaths(v, parent *config.Value, key string, index int) {
	if v == nil {
		return
	}
	if _, ok := c.paths[v]; ok {
		return // an anchor reached again through an alias
	}
	c.paths[v] = pathEntry{parent, key, index}
	switch v.Kind {
	case config.Map:
		for _, f := range v.Map {
			c.indexPaths(f.Value, v, f.Key, 0)
		}
	case config.List:
		for i, e := range v.List {
			c.indexPaths(e, v, "", i)
		}
	}
}

// pathOf is the dotted path of v (config.PathString's form), falling back
// to fallback for values built by merging.
func (c *compiler) pathOf(v *config.Value, fallback string) string {
	if c.paths == nil {
		// Only diagnostics need paths; a clean file never indexes.
		// Merging builds new values and leaves the document as it is, so
		// the index is the same whenever it is built.
		c.paths = map[*config.Value]pathEntry{}
		c.indexPaths(c.file.Root, nil, "", 0)
	}
	e, ok := c.paths[v]
	if !ok {
		return fallback
	}
	var segs []string
	for depth := 0; e.parent != nil && depth < 1<<16; depth++ {
		if e.parent.Kind == config.Map {
			segs = append(segs, e.key)
		} else {
			segs = append(segs, strconv.Itoa(e.index))
		}
		e = c.paths[e.parent]
	}
	slices.Reverse(segs)
	// The same spelling as the schema's paths, so they can be compared.
	return config.PathString(segs)
}

func (c *compiler) add(sev diag.Severity, r diag.Range, path, hint, format string, args ...any) {
	d := diag.Diagnostic{Severity: sev, Range: r, Hint: hint, Path: path}
	d.Message = sprintf(format, args...)
	c.ds = append(c.ds, d)
}

func (c *compiler) errorAt(v *config.Value, hint, format string, args ...any) {
	c.add(diag.Error, v.Range, c.pathOf(v, ""), hint, format, args...)
}

func (c *compiler) warnAt(v *config.Value, hint, format string, args ...any) {
	c.add(diag.Warning, v.Range, c.pathOf(v, ""), hint, format, args...)
}

func (c *compiler) lower() *Project {
	root := c.file.Root
	p := &Project{Version: 1, Source: filepath.ToSlash(filepath.Base(c.file.Name))}
	if v := root.Get("version"); v != nil && v.Kind == config.Int {
		p.Version = int(v.Int)
	}
	c.noteRawNix(root)
	p.Systems = c.systems(root.Get("systems"))

	userInputs := c.userInputs(root.Get("inputs"))
	c.inputNames = []string{InputNixpkgs}
	for _, in := range userInputs {
		c.inputNames = append(c.inputNames, in.Name)
	}

	defaults := root.Get("defaults")
	if defaults != nil && defaults.Kind != config.Map {
		defaults = nil
	}
	if cs := root.Get("containers"); cs != nil && cs.Kind == config.Map {
		for _, f := range cs.Map {
			v := f.Value
			if v == nil || v.Kind == config.Null {
				v = &config.Value{Kind: config.Map, Range: f.KeyRange}
			}
			if v.Kind != config.Map {
				continue
			}
			merged := Merge(defaults, v)
			p.Containers = append(p.Containers, c.container(f, merged, p.Systems))
		}
	}
	sort.Slice(p.Containers, func(i, j int) bool { return p.Containers[i].Name < p.Containers[j].Name })
	p.Inputs = c.inputs(p, userInputs)
	return p
}

func (c *compiler) systems(v *config.Value) []string {
	var out []string
	for _, s := range stringList(v) {
		out = append(out, s.Str)
	}
	if len(out) == 0 {
		return []string{DefaultSystem}
	}
	return sortedUnique(out)
}

// userInputs reads `inputs:`: each is a URL string, or a map with url,
// flake and follows.
func (c *compiler) userInputs(v *config.Value) []Input {
	if v == nil || v.Kind != config.Map {
		return nil
	}
	var out []Input
	for _, f := range v.Map {
		if f.Key == "self" {
			// The schema's name pattern allows it, but in a flake self
			// is the flake itself.
			c.ds = append(c.ds, diag.Diagnostic{Severity: diag.Error, Range: f.KeyRange, Path: "inputs.self",
				Hint: "give the input another name; self always means the generated flake", Message: `"self" cannot name a flake input`})
			continue
		}
		in := Input{Name: f.Key, Flake: true}
		switch val := f.Value; {
		case val == nil:
			continue
		case val.Kind == config.String:
			in.URL = val.Str
		case val.Kind == config.Map:
			if u := val.Get("url"); u != nil && u.Kind == config.String {
				in.URL = u.Str
			}
			if fl := val.Get("flake"); fl != nil && fl.Kind == config.Bool {
				in.Flake = fl.Bool
			}
			if fo := val.Get("follows"); fo != nil && fo.Kind == config.Map {
				for _, ff := range fo.Map {
					if ff.Value != nil && ff.Value.Kind == config.String {
						in.Follows = append(in.Follows, Follow{Input: ff.Key, Target: ff.Value.Str})
					}
				}
				sort.Slice(in.Follows, func(i, j int) bool { return in.Follows[i].Input < in.Follows[j].Input })
			}
		default:
			continue
		}
		out = append(out, in)
	}
	return out
}

// inputs decides the flake inputs: nixpkgs always, the integrations the
// containers use, and every input the user declared. User entries override
// the URL (and flake/follows) of known ones.
func (c *compiler) inputs(p *Project, user []Input) []Input {
	used := map[string]bool{InputNixpkgs: true}
	for _, ct := range p.Containers {
		if ct.Builder == BuilderNix2Container {
			used[InputNix2Container] = true
		}
		if len(ct.Services) > 0 {
			used[InputServicesFlake] = true
			used[InputProcessComposeFlake] = true
		}
		if ct.Home != nil {
			used[InputHomeManager] = true
			// A module taken from a known integration input turns it on.
			for _, m := range ct.Home.Modules {
				if r, ok := m.(Ref); ok {
					if _, known := DefaultInputURL(r.Root); known {
						used[r.Root] = true
					}
				}
			}
		}
		if len(ct.Secrets) > 0 {
			used[InputAgenix] = true
		}
	}
	byName := map[string]Input{}
	for name := range used {
		byName[name] = defaultInput(name)
	}
	for _, u := range user {
		in, known := byName[u.Name]
		if !known {
			in = defaultInput(u.Name)
		}
		if u.URL != "" {
			in.URL = u.URL
		}
		in.Flake = u.Flake
		if len(u.Follows) > 0 {
			in.Follows = u.Follows
		}
		byName[u.Name] = in
	}
	out := make([]Input, 0, len(byName))
	for _, in := range byName {
		out = append(out, in)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// defaultInput is the input nix2gpu declares for name before the user's
// settings apply: a flake, at its default URL when nix2gpu knows one, and
// for home-manager and agenix following the project's nixpkgs.
func defaultInput(name string) Input {
	url, _ := DefaultInputURL(name)
	in := Input{Name: name, URL: url, Flake: true}
	switch name {
	case InputHomeManager, InputAgenix:
		in.Follows = []Follow{{Input: "nixpkgs", Target: InputNixpkgs}}
	}
	return in
}

func (c *compiler) container(f *config.Field, v *config.Value, systems []string) *Container {
	ct := &Container{
		Name:      f.Key,
		Tag:       DefaultTag,
		Builder:   DefaultBuilder,
		MaxLayers: DefaultMaxLayers,
		User:      DefaultUser,
		Range:     f.KeyRange,
	}
	base := "containers." + f.Key
	c.checkContainerName(f)
	if tv := v.Get("tag"); tv != nil {
		if s, ok := c.str(tv); ok && c.checkTag(tv, s) {
			ct.Tag = s
		}
	}
	if s, ok := c.str(v.Get("builder")); ok && (s == string(BuilderNix2Container) || s == string(BuilderDockerTools)) {
		ct.Builder = Builder(s)
	}
	if m := v.Get("maxLayers"); m != nil && m.Kind == config.Int && m.Int > 0 && m.Int < 1<<20 {
		ct.MaxLayers = int(m.Int)
	}
	if s, ok := c.str(v.Get("user")); ok && s != "" {
		ct.User = s
	}
	ct.WorkingDir = homeDir(ct.User)
	if wd := v.Get("workingDir"); wd != nil {
		if s, ok := c.str(wd); ok && s != "" && c.checkAbsolute(wd, s, "workingDir", "/workspace") {
			ct.WorkingDir = s
		}
	}
	ct.CUDA = c.cuda(v.Get("cuda"), base+".cuda")
	ct.Packages = c.attrPaths(v.Get("packages"), pkgsPathHint)
	ct.Ports = c.ports(v.Get("ports"))
	ct.Entrypoint = c.command(v.Get("entrypoint"))
	ct.Cmd = c.command(v.Get("cmd"))
	if s, ok := c.str(v.Get("startup")); ok {
		ct.Startup = s
	}
	ct.SSH = c.ssh(v.Get("ssh"))
	c.checkSSH(v.Get("ssh"), ct.SSH)
	ct.Tailscale = c.tailscale(v.Get("tailscale"))
	ct.Secrets = c.secrets(v.Get("secrets"), ct.User)
	c.checkTailscale(v.Get("tailscale"), ct)
	if a := v.Get("age"); a != nil && a.Kind == config.Map {
		for _, s := range stringList(a.Get("identityPaths")) {
			if c.checkAbsolute(s, s.Str, "identity path", "/root/.ssh/id_ed25519") {
				ct.Age.IdentityPaths = append(ct.Age.IdentityPaths, s.Str)
			}
		}
	}
	ct.Services = c.services(v.Get("services"))
	ct.Home = c.home(v.Get("home"))
	ct.NixConfig = c.attrs(v.Get("nixConfig"))
	ct.Registries = c.registries(v.Get("registries"))
	ct.Env = c.env(v.Get("env"), gpuEnv(ct, systems))
	ct.Labels = c.labels(v.Get("labels"), gpuLabels(ct))
	return ct
}

// homeDir is the conventional home of user, used as the default working
// directory.
func homeDir(user string) string {
	if user == "root" || user == "0" {
		return "/root"
	}
	return "/home/" + user
}

// str reads a string scalar; numbers and booleans count by their source
// text, since YAML users often leave versions and tags unquoted.
func (c *compiler) str(v *config.Value) (string, bool) {
	if v == nil {
		return "", false
	}
	switch v.Kind {
	case config.String:
		if v.IsNix() {
			return "", false
		}
		return v.Str, true
	case config.Int, config.Float, config.Bool:
		return v.Str, true
	}
	return "", false
}

// stringList returns the string elements of a list, skipping others.
func stringList(v *config.Value) []*config.Value {
	if v == nil || v.Kind != config.List {
		return nil
	}
	var out []*config.Value
	for _, e := range v.List {
		if e != nil && e.Kind == config.String && !e.IsNix() {
			out = append(out, e)
		}
	}
	return out
}

func (c *compiler) command(v *config.Value) []string {
	if v == nil {
		return nil
	}
	switch v.Kind {
	case config.String:
		if v.IsNix() {
			return nil
		}
		return []string{v.Str}
	case config.List:
		out := []string{}
		for _, e := range v.List {
			if s, ok := c.str(e); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

func (c *compiler) cuda(v *config.Value, path string) *CUDA {
	version := cuda.DefaultVersion
	var caps, pkgs *config.Value
	switch {
	case v == nil || v.Kind == config.Null:
	case v.Kind == config.Bool:
		if !v.Bool {
			return nil
		}
	case v.Kind == config.Map:
		if vv := v.Get("version"); vv != nil {
			if s, ok := c.str(vv); ok {
				version = s
			}
		}
		caps, pkgs = v.Get("capabilities"), v.Get("packages")
	default:
		return nil
	}
	cu := &CUDA{Version: version, Capabilities: []string{}, Packages: []AttrPath{}}
	rel, known := cuda.Lookup(version)
	if !known {
		c.unknownCUDA(v.Get("version"), version, path)
		// Keep going with a best-effort package set name so the rest of
		// the container still lowers.
		cu.PackageSet = "cudaPackages_" + strings.ReplaceAll(version, ".", "_")
		cu.RequireCUDA = cuda.Release{Version: version}.RequireCUDA()
	} else {
		cu.PackageSet = rel.Attr
		cu.RequireCUDA = rel.RequireCUDA()
	}
	cu.Capabilities = c.capabilities(caps, rel, known)
	cu.Packages = c.attrPaths(pkgs, cudaPathHint)
	return cu
}

func (c *compiler) ports(v *config.Value) []Port {
	if v == nil || v.Kind != config.List {
		return []Port{}
	}
	out := []Port{}
	seen := map[Port]*config.Value{}
	for _, e := range v.List {
		port, ok := c.parsePort(e)
		if !ok {
			continue
		}
		if prev, dup := seen[port]; dup {
			c.errorAt(e, sprintf("the first is at line %d; remove one of them", prev.Range.Start.Line), "duplicate port %d/%s", port.Number, port.Protocol)
			continue
		}
		seen[port] = e
		out = append(out, port)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Number != out[j].Number {
			return out[i].Number < out[j].Number
		}
		return out[i].Protocol < out[j].Protocol
	})
	return out
}

func (c *compiler) ssh(v *config.Value) SSH {
	s := SSH{Port: DefaultSSHPort, AuthorizedKeys: []string{}}
	if v == nil || v.Kind != config.Map {
		return s
	}
	if e := v.Get("enable"); e != nil && e.Kind == config.Bool {
		s.Enable = e.Bool
	}
	if p := v.Get("port"); p != nil && p.Kind == config.Int && p.Int >= 1 && p.Int <= 65535 {
		s.Port = int(p.Int)
	}
	for _, k := range stringList(v.Get("authorizedKeys")) {
		s.AuthorizedKeys = append(s.AuthorizedKeys, k.Str)
	}
	if cfg, ok := c.str(v.Get("config")); ok {
		s.Config = cfg
	}
	return s
}

func (c *compiler) tailscale(v *config.Value) Tailscale {
	t := Tailscale{ExtraArgs: []string{}}
	if v == nil || v.Kind != config.Map {
		return t
	}
	if e := v.Get("enable"); e != nil && e.Kind == config.Bool {
		t.Enable = e.Bool
	}
	t.AuthKeyFile, _ = c.str(v.Get("authKeyFile"))
	t.Hostname, _ = c.str(v.Get("hostname"))
	for _, a := range stringList(v.Get("extraArgs")) {
		t.ExtraArgs = append(t.ExtraArgs, a.Str)
	}
	return t
}

func (c *compiler) secrets(v *config.Value, user string) []Secret {
	out := []Secret{}
	if v == nil || v.Kind != config.Map {
		return out
	}
	paths := map[string]string{}
	for _, f := range v.Map {
		sv := f.Value
		if sv == nil || sv.Kind != config.Map {
			continue
		}
		s := Secret{Name: f.Key, Path: "/run/secrets/" + f.Key, Mode: DefaultSecretMode, Owner: user}
		if fv := sv.Get("file"); fv != nil {
			if file, ok := c.secretFile(fv); ok {
				s.File = file
			}
		}
		pv := sv.Get("path")
		if pv != nil {
			if p, ok := c.str(pv); ok && p != "" && c.checkAbsolute(pv, p, "secret path", "/run/secrets/"+f.Key) {
				s.Path = p
			}
		}
		if m := sv.Get("mode"); m != nil {
			if mode, ok := c.secretMode(m); ok {
				s.Mode = mode
			}
		}
		if o, ok := c.str(sv.Get("owner")); ok && o != "" {
			s.Owner = o
		}
		if prev, dup := paths[s.Path]; dup {
			at := pv
			if at == nil {
				at = sv
			}
			c.errorAt(at, "give each secret its own path", "secrets %q and %q both decrypt to %s", prev, s.Name, s.Path)
		}
		paths[s.Path] = s.Name
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

func (c *compiler) services(v *config.Value) []Service {
	out := []Service{}
	if v == nil || v.Kind != config.Map {
		return out
	}
	for _, tf := range v.Map {
		if tf.Value == nil || tf.Value.Kind != config.Map {
			continue
		}
		for _, inf := range tf.Value.Map {
			s := Service{Type: tf.Key, Instance: inf.Key, Builtin: IsBuiltinService(tf.Key), Options: []Attr{}}
			if inf.Value != nil && inf.Value.Kind == config.Map {
				s.Options = c.attrs(inf.Value)
			}
			out = append(out, s)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Type != out[j].Type {
			return out[i].Type < out[j].Type
		}
		return out[i].Instance < out[j].Instance
	})
	return out
}

func (c *compiler) home(v *config.Value) *Home {
	if v == nil || v.Kind != config.Map {
		return nil
	}
	h := &Home{StateVersion: DefaultStateVersion, Programs: []Attr{}, Modules: []Expr{}}
	h.Packages = c.attrPaths(v.Get("packages"), pkgsPathHint)
	h.Programs = c.attrs(v.Get("programs"))
	if m := v.Get("modules"); m != nil && m.Kind == config.List {
		for _, e := range m.List {
			if x, ok := c.module(e); ok {
				h.Modules = append(h.Modules, x)
			}
		}
	}
	if fr := v.Get("forceRootUser"); fr != nil && fr.Kind == config.Bool {
		h.ForceRootUser = fr.Bool
	}
	if sv, ok := c.str(v.Get("stateVersion")); ok && sv != "" {
		h.StateVersion = sv
	}
	return h
}

func (c *compiler) registries(v *config.Value) []string {
	out := []string{}
	seen := map[string]bool{}
	for _, e := range stringList(v) {
		if !c.checkRegistry(e) || seen[e.Str] {
			continue
		}
		seen[e.Str] = true
		out = append(out, e.Str)
	}
	return out
}

// attrs lowers a map of settings into sorted attributes.
func (c *compiler) attrs(v *config.Value) []Attr {
	out := []Attr{}
	if v == nil || v.Kind != config.Map {
		return out
	}
	for _, f := range v.Map {
		out = append(out, Attr{Name: f.Key, Value: c.value(f.Value)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// value lowers arbitrary data. Only a `!nix` string becomes code.
func (c *compiler) value(v *config.Value) Value {
	if v == nil {
		return Null{}
	}
	switch v.Kind {
	case config.Bool:
		return Bool(v.Bool)
	case config.Int:
		return Int(v.Int)
	case config.Float:
		return Float(v.Float)
	case config.String:
		if v.IsNix() {
			return Raw{Code: v.Str, Range: v.Range}
		}
		return String(v.Str)
	case config.List:
		out := List{}
		for _, e := range v.List {
			out = append(out, c.value(e))
		}
		return out
	case config.Map:
		return Attrs(c.attrs(v))
	}
	return Null{}
}

// env merges the user's variables over the generated ones, checking
// their names.
func (c *compiler) env(v *config.Value, base []EnvVar) []EnvVar {
	return overlay(c, v, base, c.checkEnv)
}

// labels merges the user's labels over the generated ones.
func (c *compiler) labels(v *config.Value, base []Label) []Label {
	return overlay(c, v, base, nil)
}

// nameValue is the shape of EnvVar and Label.
type nameValue = struct{ Name, Value string }

// overlay lays the string entries of the user's map v over the generated
// base entries, a user entry replacing a generated one of the same name,
// and sorts the result by name so the generated files are the same from
// run to run. check, when set, sees every user entry first.
func overlay[T ~nameValue](c *compiler, v *config.Value, base []T, check func(*config.Field)) []T {
	vals := map[string]string{}
	for _, b := range base {
		vals[nameValue(b).Name] = nameValue(b).Value
	}
	if v != nil && v.Kind == config.Map {
		for _, f := range v.Map {
			if check != nil {
				check(f)
			}
			if s, ok := c.str(f.Value); ok {
				vals[f.Key] = s
			}
		}
	}
	out := make([]T, 0, len(vals))
	for k, val := range vals {
		out = append(out, T{Name: k, Value: val})
	}
	sort.Slice(out, func(i, j int) bool { return nameValue(out[i]).Name < nameValue(out[j]).Name })
	return out
}

// sortedUnique sorts s in place and drops repeats.
func sortedUnique(s []string) []string {
	slices.Sort(s)
	return slices.Compact(s)
}

// cleanRel cleans a slash-separated relative path.
func cleanRel(p string) string { return path.Clean(filepath.ToSlash(p)) }
