// Package compiler lowers a validated nix2gpu.yaml into the typed
// intermediate representation the Nix emitter consumes: defaults merged,
// values normalised and sorted, GPU conventions applied. It does no I/O
// beyond what the caller hands it.
package compiler

import "github.com/nix2gpu/nix2gpu/diag"

// Project is a whole nix2gpu.yaml after lowering. Every slice is sorted
// (by name) so that output does not depend on map order.
type Project struct {
	Version int
	// Source is the config file name, relative to the project directory,
	// recorded in the generated files' header.
	Source     string
	Inputs     []Input // sorted by name; only those in use, plus user extras
	Systems    []string
	Containers []*Container // sorted by name
}

// Input is one flake input.
type Input struct {
	Name string
	URL  string
	// Follows maps an input of this input to one of ours, e.g.
	// home-manager's nixpkgs follows our nixpkgs.
	Follows []Follow
	// Flake is false for non-flake inputs (flake = false).
	Flake bool
}

// Follow is `inputs.<name>.inputs.<Input>.follows = "<Target>"`.
type Follow struct{ Input, Target string }

// Builder chooses how the image is assembled.
type Builder string

const (
	BuilderNix2Container Builder = "nix2container"
	BuilderDockerTools   Builder = "dockerTools"
)

// Container is one image.
type Container struct {
	Name       string
	Tag        string
	Builder    Builder
	MaxLayers  int
	CUDA       *CUDA      // nil for a CPU-only image
	Packages   []AttrPath // from nixpkgs (pkgs.<path>)
	Env        []EnvVar   // sorted by name; GPU defaults merged under the user's
	Labels     []Label    // sorted by name; CUDA labels merged under the user's
	Ports      []Port     // sorted by number, then protocol
	User       string
	WorkingDir string
	// Entrypoint overrides the nix2gpu startup (tini -> startup script)
	// when not nil.
	Entrypoint []string
	Cmd        []string
	Startup    string // shell, appended to the startup script
	SSH        SSH
	Tailscale  Tailscale
	Secrets    []Secret // sorted by name
	Age        Age
	Services   []Service // sorted by type, then instance
	Home       *Home     // nil when home-manager is not used
	NixConfig  []Attr    // nix.conf settings, sorted by name
	Registries []string
	// Range points at the container's key in the config, for messages from
	// later stages.
	Range diag.Range
}

// CUDA is the GPU toolkit configuration of a container.
type CUDA struct {
	Version      string     // "12.8"
	PackageSet   string     // "cudaPackages_12_8"
	Capabilities []string   // nixpkgs config.cudaCapabilities, e.g. ["8.9", "9.0"]; empty = nixpkgs default
	Packages     []AttrPath // attributes of the package set (cudaPackages.<path>)
	RequireCUDA  string     // NVIDIA_REQUIRE_CUDA value
}

// AttrPath is a Nix attribute path, one segment per element, never joined
// into text before the emitter quotes what needs quoting.
type AttrPath []string

// EnvVar is one environment variable of the image.
type EnvVar struct{ Name, Value string }

// Label is one OCI label.
type Label struct{ Name, Value string }

// Port is an exposed port.
type Port struct {
	Number   int
	Protocol string // "tcp" or "udp"
}

// SSH configures the in-container sshd.
type SSH struct {
	Enable         bool
	Port           int
	AuthorizedKeys []string
	Config         string // extra sshd_config lines
}

// Tailscale configures tailscaled; the auth key is read from a file at
// start, never stored in the image.
type Tailscale struct {
	Enable      bool
	AuthKeyFile string
	Hostname    string
	ExtraArgs   []string
}

// Secret is an age-encrypted file decrypted at container start.
type Secret struct {
	Name string
	// File is the encrypted file relative to the project directory (slash
	// separated, validated not to escape it).
	File  string
	Path  string // where the clear text appears in the container
	Mode  string // e.g. "0400"
	Owner string
}

// Age configures agenix decryption.
type Age struct {
	IdentityPaths []string
}

// Service is one services-flake (or nix2gpu AI) service instance.
type Service struct {
	Type     string // "postgres", "comfyui", ...
	Instance string // "pg1"
	// Builtin is true for nix2gpu's own service modules (comfyui, vllm, …)
	// rather than services-flake's.
	Builtin bool
	Options []Attr // sorted by name
}

// Home is the home-manager configuration of the container user.
type Home struct {
	Packages      []AttrPath
	Programs      []Attr // programs.<name> = { ... }, sorted
	Modules       []Expr // input attribute paths or raw !nix expressions
	ForceRootUser bool
	StateVersion  string
}

// Value is data that reaches Nix: the options of a service, home-manager
// programs, nix.conf settings. Raw is the only variant that carries code,
// and only from an explicit `!nix` tag.
type Value interface{ isValue() }

type (
	Null   struct{}
	Bool   bool
	Int    int64
	Float  float64
	String string
	List   []Value
	Attrs  []Attr // sorted by name
	// Raw is a Nix expression the user wrote with the !nix tag.
	Raw struct {
		Code  string
		Range diag.Range
	}
	// Ref is an attribute selection from a flake input or pkgs, e.g.
	// inputs.dotfiles.homeModules.john; Root names what it starts from.
	Ref struct {
		Root string // an input name, or "pkgs"
		Path AttrPath
	}
)

// Attr is one name = value pair.
type Attr struct {
	Name  string
	Value Value
}

// Expr is what may appear where Nix code is expected: a reference or raw
// code.
type Expr interface {
	Value
	isExpr()
}

func (Null) isValue()   {}
func (Bool) isValue()   {}
func (Int) isValue()    {}
func (Float) isValue()  {}
func (String) isValue() {}
func (List) isValue()   {}
func (Attrs) isValue()  {}
func (Raw) isValue()    {}
func (Ref) isValue()    {}
func (Raw) isExpr()     {}
func (Ref) isExpr()     {}
