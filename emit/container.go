package emit

import (
	"fmt"
	"io/fs"
	"maps"
	"path"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/nix2gpu/nix2gpu/compiler"
	"github.com/nix2gpu/nix2gpu/emit/nix"
)

// OCIConfig is the OCI image configuration a container compiles to, as
// plain data: what the flake's imageConfig says, and what verify expects
// to find in the built image.
type OCIConfig struct {
	Entrypoint   []string
	Cmd          []string
	Env          []string // NAME=VALUE, in the container's order
	ExposedPorts []string // NUMBER/PROTOCOL, in the container's order
	Labels       []compiler.Label
	User         string
	WorkingDir   string
}

// ConfigOf works out the OCI image configuration of c.
func ConfigOf(c *compiler.Container) OCIConfig {
	cfg := OCIConfig{Entrypoint: c.Entrypoint, Cmd: c.Cmd, Labels: c.Labels, User: c.User, WorkingDir: c.WorkingDir}
	if cfg.Entrypoint == nil {
		cfg.Entrypoint = DefaultEntrypoint
	}
	for _, e := range c.Env {
		cfg.Env = append(cfg.Env, e.Name+"="+e.Value)
	}
	for _, p := range c.Ports {
		proto := p.Protocol
		if proto == "" {
			proto = "tcp"
		}
		cfg.ExposedPorts = append(cfg.ExposedPorts, strconv.Itoa(p.Number)+"/"+proto)
	}
	return cfg
}

// ImageConfig is the OCI image configuration of c as a Nix expression of
// plain data: no store paths, nothing to build.
func ImageConfig(c *compiler.Container) nix.Expr {
	cfg := ConfigOf(c)
	var labels []nix.Bind
	for _, l := range cfg.Labels {
		labels = append(labels, nix.B(l.Name, nix.Str(l.Value)))
	}
	var bs []nix.Bind
	if len(cfg.Cmd) > 0 {
		bs = append(bs, nix.B("Cmd", nix.Strs(cfg.Cmd)))
	}
	bs = append(bs, nix.B("Entrypoint", nix.Strs(cfg.Entrypoint)))
	bs = append(bs, nix.B("Env", nix.Strs(cfg.Env)))
	if len(cfg.ExposedPorts) > 0 {
		ports := slices.Sorted(slices.Values(cfg.ExposedPorts))
		var binds []nix.Bind
		for _, p := range ports {
			binds = append(binds, nix.B(p, nix.Attrs{}))
		}
		bs = append(bs, nix.B("ExposedPorts", nix.Attrs{Binds: binds}))
	}
	bs = append(bs, nix.B("Labels", nix.Attrs{Binds: labels}))
	if cfg.User != "" {
		bs = append(bs, nix.B("User", nix.Str(cfg.User)))
	}
	if cfg.WorkingDir != "" {
		bs = append(bs, nix.B("WorkingDir", nix.Str(cfg.WorkingDir)))
	}
	return nix.Attrs{Binds: bs}
}

func (g *generator) container(c *compiler.Container) (nix.Expr, error) {
	builder := c.Builder
	if builder == "" {
		builder = compiler.DefaultBuilder
	}
	if builder != compiler.BuilderNix2Container && builder != compiler.BuilderDockerTools {
		return nil, fmt.Errorf("unknown builder %q", builder)
	}
	tag := c.Tag
	if tag == "" {
		tag = compiler.DefaultTag
	}
	withPkgs, err := g.withPkgs(c)
	if err != nil {
		return nil, err
	}
	body := nix.Attrs{Binds: []nix.Bind{
		nix.B("name", nix.Str(c.Name)),
		nix.B("tag", nix.Str(tag)),
		nix.B("builder", nix.Str(string(builder))),
		nix.B("maxLayers", nix.Int(c.MaxLayers)),
		{Comment: "Key of this container's nixpkgs configuration in flake.nix.", Path: []string{"nixpkgs"}, Value: nix.Str(pkgsKey(c))},
		nix.B("registries", nix.Strs(c.Registries)),
		{Gap: true, Comment: "The OCI image configuration, as plain data.", Path: []string{"imageConfig"}, Value: ImageConfig(c)},
		{Gap: true, Comment: "Everything below uses this container's nixpkgs instance.", Path: []string{"withPkgs"}, Value: withPkgs},
	}}
	return nix.Func{Formals: []string{"inputs"}, Body: body}, nil
}

func (g *generator) withPkgs(c *compiler.Container) (nix.Expr, error) {
	var let []nix.Bind
	var pkgs nix.List
	for _, p := range c.Packages {
		sel, err := attrSel("pkgs", p)
		if err != nil {
			return nil, fmt.Errorf("package: %w", err)
		}
		pkgs = append(pkgs, sel)
	}
	if c.CUDA != nil {
		if !nix.IsIdent(c.CUDA.PackageSet) {
			return nil, fmt.Errorf("CUDA package set %q is not an attribute name", c.CUDA.PackageSet)
		}
		let = append(let, nix.B("cudaPackages", nix.Sel("pkgs", c.CUDA.PackageSet)))
		for _, p := range c.CUDA.Packages {
			sel, err := attrSel("cudaPackages", p)
			if err != nil {
				return nil, fmt.Errorf("CUDA package: %w", err)
			}
			pkgs = append(pkgs, sel)
		}
	}
	startup, err := g.startup(c)
	if err != nil {
		return nil, err
	}
	services, modules, err := g.services(c)
	if err != nil {
		return nil, err
	}
	home, err := g.home(c)
	if err != nil {
		return nil, err
	}
	nixConf, err := attrsValue(c.NixConfig)
	if err != nil {
		return nil, fmt.Errorf("nixConfig: %w", err)
	}
	body := nix.Attrs{Binds: gaps([]nix.Bind{
		nix.B("packages", pkgs),
		nix.B("startup", startup),
		{Comment: "process-compose modules beside services-flake's.", Path: []string{"serviceModules"}, Value: modules},
		nix.B("services", services),
		nix.B("home", home),
		nix.B("nixConfig", nixConf),
	})}
	var b nix.Expr = body
	if len(let) > 0 {
		b = nix.Let{Binds: let, Body: body}
	}
	return nix.Func{Arg: "pkgs", Body: b}, nil
}

func (g *generator) startup(c *compiler.Container) (nix.Expr, error) {
	sshPort := c.SSH.Port
	if sshPort == 0 {
		sshPort = compiler.DefaultSSHPort
	}
	var secrets nix.List
	for _, s := range c.Secrets {
		file, err := projectFile(s.File)
		if err != nil {
			return nil, fmt.Errorf("secret %q: %w", s.Name, err)
		}
		mode := s.Mode
		if mode == "" {
			mode = compiler.DefaultSecretMode
		}
		secrets = append(secrets, nix.Attrs{Binds: []nix.Bind{
			nix.B("name", nix.Str(s.Name)),
			{Comment: "Encrypted; it is decrypted only inside the running container.", Path: []string{"file"}, Value: file},
			nix.B("path", nix.Str(s.Path)),
			nix.B("mode", nix.Str(mode)),
			nix.B("owner", nix.Str(s.Owner)),
		}})
	}
	return nix.Attrs{Binds: []nix.Bind{
		{Comment: "The user's startup commands, run before services start.", Path: []string{"script"}, Value: nix.Str(c.Startup)},
		nix.B("ssh", nix.Attrs{Binds: []nix.Bind{
			nix.B("enable", nix.Bool(c.SSH.Enable)),
			nix.B("port", nix.Int(sshPort)),
			nix.B("authorizedKeys", nix.Strs(c.SSH.AuthorizedKeys)),
			nix.B("config", nix.Str(c.SSH.Config)),
		}}),
		nix.B("tailscale", nix.Attrs{Binds: []nix.Bind{
			nix.B("enable", nix.Bool(c.Tailscale.Enable)),
			nix.B("authKeyFile", nix.Str(c.Tailscale.AuthKeyFile)),
			nix.B("hostname", nix.Str(c.Tailscale.Hostname)),
			nix.B("extraArgs", nix.Strs(c.Tailscale.ExtraArgs)),
		}}),
		nix.B("secrets", secrets),
		nix.B("identityPaths", nix.Strs(c.Age.IdentityPaths)),
	}}, nil
}

// projectFile refers to a file of the project directory (the flake's
// root) from a file in nix2gpu/. The name is appended as a string to
// the directory path, so it never has to be a valid path literal.
func projectFile(rel string) (nix.Expr, error) {
	clean := path.Clean("/" + rel)
	if rel == "" || strings.HasPrefix(rel, "/") || clean != "/"+rel || strings.Contains(rel, "\\") {
		return nil, fmt.Errorf("file %q is not a clean path inside the project", rel)
	}
	return nix.BinOp{Op: "+", L: nix.Path("../."), R: nix.Str(clean)}, nil
}

func (g *generator) services(c *compiler.Container) (services nix.Expr, modules nix.List, err error) {
	byType := map[string][]nix.Bind{}
	needed := map[string]bool{}
	for _, s := range c.Services {
		opts, err := attrsValue(s.Options)
		if err != nil {
			return nil, nil, fmt.Errorf("service %s.%s: %w", s.Type, s.Instance, err)
		}
		byType[s.Type] = append(byType[s.Type], nix.B(s.Instance, opts))
		if s.Builtin {
			// The library ships one module per built-in service type.
			if _, err := fs.Stat(nixlib, path.Join("nixlib", builtinModule(s.Type))); err != nil {
				return nil, nil, fmt.Errorf("no built-in service module %q", s.Type)
			}
			needed[s.Type] = true
		}
	}
	var bs []nix.Bind
	for _, t := range slices.Sorted(maps.Keys(byType)) {
		bs = append(bs, nix.B(t, nix.Attrs{Binds: byType[t]}))
	}
	for _, t := range slices.Sorted(maps.Keys(needed)) {
		modules = append(modules, nix.Path("./"+builtinModule(t)))
	}
	return nix.Attrs{Binds: bs}, modules, nil
}

// builtinModule is the library file holding the module of a built-in
// service type.
func builtinModule(typ string) string { return "service-" + typ + ".nix" }

func (g *generator) home(c *compiler.Container) (nix.Expr, error) {
	h := c.Home
	if h == nil {
		return nix.Null{}, nil
	}
	var pkgs nix.List
	for _, p := range h.Packages {
		sel, err := attrSel("pkgs", p)
		if err != nil {
			return nil, fmt.Errorf("home package: %w", err)
		}
		pkgs = append(pkgs, sel)
	}
	programs, err := attrsValue(h.Programs)
	if err != nil {
		return nil, fmt.Errorf("home programs: %w", err)
	}
	var modules nix.List
	for _, m := range h.Modules {
		e, err := value(m)
		if err != nil {
			return nil, fmt.Errorf("home module: %w", err)
		}
		modules = append(modules, e)
	}
	state := h.StateVersion
	if state == "" {
		state = compiler.DefaultStateVersion
	}
	return nix.Attrs{Binds: []nix.Bind{
		nix.B("packages", pkgs),
		nix.B("programs", programs),
		nix.B("modules", modules),
		nix.B("forceRootUser", nix.Bool(h.ForceRootUser)),
		nix.B("stateVersion", nix.Str(state)),
	}}, nil
}

// attrSel turns an attribute path into a selection from root.
func attrSel(root string, p compiler.AttrPath) (nix.Expr, error) {
	if len(p) == 0 {
		return nil, fmt.Errorf("empty attribute path")
	}
	for _, s := range p {
		if s == "" {
			return nil, fmt.Errorf("empty segment in attribute path %q", strings.Join(p, "."))
		}
	}
	return nix.Select{From: nix.Var(root), Path: append([]string(nil), p...)}, nil
}

func attrsValue(as []compiler.Attr) (nix.Expr, error) {
	bs := make([]nix.Bind, 0, len(as))
	seen := map[string]bool{}
	for _, a := range as {
		if seen[a.Name] {
			return nil, fmt.Errorf("duplicate attribute %q", a.Name)
		}
		seen[a.Name] = true
		v, err := value(a.Value)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", a.Name, err)
		}
		bs = append(bs, nix.B(a.Name, v))
	}
	sort.SliceStable(bs, func(i, j int) bool { return bs[i].Path[0] < bs[j].Path[0] })
	return nix.Attrs{Binds: bs}, nil
}

// value lowers an IR value to Nix. Only Raw carries code.
func value(v compiler.Value) (nix.Expr, error) {
	switch v := v.(type) {
	case nil, compiler.Null:
		return nix.Null{}, nil
	case compiler.Bool:
		return nix.Bool(v), nil
	case compiler.Int:
		return nix.Int(v), nil
	case compiler.Float:
		return nix.Float(v), nil
	case compiler.String:
		return nix.Str(v), nil
	case compiler.List:
		l := make(nix.List, 0, len(v))
		for i, e := range v {
			x, err := value(e)
			if err != nil {
				return nil, fmt.Errorf("[%d]: %w", i, err)
			}
			l = append(l, x)
		}
		return l, nil
	case compiler.Attrs:
		return attrsValue(v)
	case compiler.Raw:
		if strings.TrimSpace(v.Code) == "" {
			return nil, fmt.Errorf("empty !nix expression")
		}
		return nix.Raw(v.Code), nil
	case compiler.Ref:
		root := v.Root
		if root == "pkgs" {
			return attrSel("pkgs", v.Path)
		}
		if root == "" {
			return nil, fmt.Errorf("reference without a root")
		}
		return attrSel("inputs", append(compiler.AttrPath{root}, v.Path...))
	case *compiler.Raw:
		return value(*v)
	case *compiler.Ref:
		return value(*v)
	}
	return nil, fmt.Errorf("unsupported value %T", v)
}
