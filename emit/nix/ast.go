// Package nix is a small Nix syntax tree and its one printer. The emitter
// builds generated files from these nodes, so user data only ever becomes
// string, number or attribute-name literals; the printer decides all
// quoting and layout, and prints the same tree to the same bytes.
package nix

// Expr is a Nix expression node.
type Expr interface{ isExpr() }

type (
	// Str is a string literal; the printer escapes it.
	Str string
	// Int is an integer literal.
	Int int64
	// Float is a float literal.
	Float float64
	// Bool is true or false.
	Bool bool
	// Null is null.
	Null struct{}
	// Var references a variable in scope. It must be an identifier the
	// emitter chose, never user data.
	Var string
	// Path is a relative path literal such as ./nix2gpu/image.nix, chosen
	// by the emitter.
	Path string
	// List is a list literal.
	List []Expr
	// Raw is user-written Nix code (the !nix tag). It is printed inside
	// parentheses, exactly as given.
	Raw string
)

// Select is From.a.b."c-d": an attribute selection.
type Select struct {
	From Expr
	Path []string
}

// Attrs is an attribute set literal.
type Attrs struct {
	Rec   bool
	Binds []Bind
}

// Bind is one binding of a set or let: `a.b = v;` or an inherit.
type Bind struct {
	// Comment, when set, is printed as `# ...` lines above the binding.
	Comment string
	// Gap puts an empty line before the binding (not before the first).
	Gap   bool
	Path  []string
	Value Expr
	// Inherit, when not nil, makes this `inherit (From) names;` (From may
	// be nil for a plain inherit); Path and Value are then unused.
	Inherit *Inherit
}

// Inherit is `inherit (From) Names;`.
type Inherit struct {
	From  Expr
	Names []string
}

// Func is a function: `arg: body` or `{ a, b, ... }: body`.
type Func struct {
	Arg      string   // plain argument name, or "" when Formals is used
	Formals  []string // set pattern names
	Ellipsis bool
	Body     Expr
}

// Call applies Fn to Args in order.
type Call struct {
	Fn   Expr
	Args []Expr
}

// Let is `let binds in body`.
type Let struct {
	Binds []Bind
	Body  Expr
}

// BinOp is a binary operator such as ++, //, + or ==.
type BinOp struct {
	Op   string
	L, R Expr
}

// File is a whole .nix file: header comment lines and one expression.
type File struct {
	Header []string
	Body   Expr
}

func (Str) isExpr()    {}
func (Int) isExpr()    {}
func (Float) isExpr()  {}
func (Bool) isExpr()   {}
func (Null) isExpr()   {}
func (Var) isExpr()    {}
func (Path) isExpr()   {}
func (List) isExpr()   {}
func (Raw) isExpr()    {}
func (Select) isExpr() {}
func (Attrs) isExpr()  {}
func (Func) isExpr()   {}
func (Call) isExpr()   {}
func (Let) isExpr()    {}
func (BinOp) isExpr()  {}

// Sel is shorthand for a selection from a variable.
func Sel(from string, path ...string) Select { return Select{From: Var(from), Path: path} }

// B is shorthand for a binding of a one-segment name.
func B(name string, v Expr) Bind { return Bind{Path: []string{name}, Value: v} }

// Strs turns strings into a list of string literals.
func Strs(ss []string) List {
	l := make(List, 0, len(ss))
	for _, s := range ss {
		l = append(l, Str(s))
	}
	return l
}
