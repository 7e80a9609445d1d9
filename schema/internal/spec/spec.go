// Package spec is the validation tree of the nix2gpu.yaml format as plain
// data. It is worked out from the CUE schema at `go generate` time (package
// cueschema) and compiled into the binary as a Go literal, so that checking
// a file evaluates no CUE at run time. Nodes refer to each other by index,
// which lets shared definitions (#Container, the service types) appear
// once and keeps the literal free of initialisation code.
package spec

import "sort"

// Kind is a set of the kinds a value may have.
type Kind uint16

// The kinds, as bits of a Kind.
const (
	Null Kind = 1 << iota
	Bool
	Int
	Float
	String
	Bytes
	List
	Struct

	Number    = Int | Float
	Composite = List | Struct
	Top       = Null | Bool | Number | String | Bytes | List | Struct
)

// None is the Node index meaning "no node".
const None = -1

// Tree is the whole validation tree; Nodes[Root] is #Config.
type Tree struct {
	Root  int
	Nodes []Node
	// Regexps holds every regular expression of the tree once; patterns
	// and predicates refer to them by index (Re), so a check finds its
	// compiled expression without hashing the text.
	Regexps []string
}

// Node is one place of the schema. Which fields are set depends on its
// shape: a map (Fields, Patterns, Open), a list (Elem), a disjunction of
// differently shaped alternatives (Alts) or a scalar (Plain, Enum, Pred).
type Node struct {
	Kinds Kind // the kinds data may have here
	Any   bool // anything goes
	Nix   bool // raw Nix (!nix) is accepted here and below

	// Maps.
	Fields   []Field // sorted by Name
	Patterns []Pattern
	Open     bool // keys other than Fields are allowed, unchecked
	Map      bool // a map, even with no fields

	// Lists.
	Elem int // None when not a list

	// Disjunctions.
	Alts []int

	// Scalars.
	Plain    bool     // only the kind is constrained
	Concrete string   // the one value allowed, as CUE writes it; "" if none
	Enum     []string // the values allowed, as CUE writes them, sorted
	Pred     *Pred    // the constraint; nil only when Plain or Any
	// Words explains Pred in prose per kind of data ("must match ^/"),
	// for the scalar kinds the node accepts.
	Words []KindWords
	// TypeWords is Words for all the node's kinds but null, for the
	// options reference.
	TypeWords string

	Doc string // the doc comment of the definition, when there is one
}

// KindWords is the prose form of a constraint for data of one kind.
type KindWords struct {
	Kind  Kind
	Words string
}

// Field is a named key of a map.
type Field struct {
	Name     string
	Node     int
	Required bool
	Doc      string // doc comment
	Default  string // marked default as compact JSON; "" when none
}

// Pattern is a constraint on the keys of a map ([#Name]: T).
type Pattern struct {
	Expr string // regular expression; "" matches any key
	Re   int    // Expr's index in Tree.Regexps, when Expr is not ""
	Node int
}

// Op is a predicate's operation.
type Op uint8

// The operations of a Pred.
const (
	OpKind      Op = iota + 1 // data has one of Kinds (Uint: also >= 0)
	OpEqual                   // data equals Value, Bool, N or F (by Kinds)
	OpAnd                     // every Args holds
	OpOr                      // one of Args holds
	OpMatch                   // string matching Value
	OpNotMatch                // string not matching Value
	OpLess                    // number < the bound (N or F, by Kinds)
	OpLessEq                  // number <= the bound
	OpGreater                 // number > the bound
	OpGreaterEq               // number >= the bound
	OpMinRunes                // string of at least N characters
	OpMaxRunes                // string of at most N characters
)

// Pred is a scalar constraint of the schema, translated from CUE.
type Pred struct {
	Op    Op
	Kinds Kind    // OpKind; OpEqual and bounds: Int (N holds the number) or Float (F)
	Uint  bool    // OpKind: a non-negative integer
	Value string  // OpEqual on a string, OpMatch, OpNotMatch
	Re    int     // OpMatch, OpNotMatch: Value's index in Tree.Regexps
	Bool  bool    // OpEqual on a bool
	N     int64   // OpMinRunes, OpMaxRunes; an integer to equal or bound by, within ±MaxExactInt
	F     float64 // a float to equal or bound by
	Args  []Pred  // OpAnd, OpOr
}

// MaxExactInt is the largest integer constant the schema may hold: every
// integer up to it is a float64 exactly, so float data compares with it
// exactly.
const MaxExactInt = 1 << 53

// Field returns the field called name, or nil.
func (n *Node) Field(name string) *Field {
	i := sort.Search(len(n.Fields), func(i int) bool { return n.Fields[i].Name >= name })
	if i < len(n.Fields) && n.Fields[i].Name == name {
		return &n.Fields[i]
	}
	return nil
}

// Names lists the field names, sorted.
func (n *Node) Names() []string {
	names := make([]string, len(n.Fields))
	for i, f := range n.Fields {
		names[i] = f.Name
	}
	return names
}

// IsMap reports whether data here is checked as a map. The generator
// sets Map on every node that has fields, patterns or `...`.
func (n *Node) IsMap() bool { return n.Map }

// WordsFor returns the prose form of the constraint for data of kind k.
func (n *Node) WordsFor(k Kind) string {
	for _, w := range n.Words {
		if w.Kind == k {
			return w.Words
		}
	}
	return ""
}
