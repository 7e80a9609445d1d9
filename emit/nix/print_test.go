package nix

import "testing"

func TestAttrName(t *testing.T) {
	tests := []struct{ in, want string }{
		{"git", "git"},
		{"python312Packages", "python312Packages"},
		{"foo-bar", "foo-bar"},
		{"foo'", "foo'"},
		{"_x", "_x"},
		{"1abc", `"1abc"`},
		{"-x", `"-x"`},
		{"a.b", `"a.b"`},
		{"8188/tcp", `"8188/tcp"`},
		{"", `""`},
		{"if", `"if"`},
		{"let", `"let"`},
		{"rec", `"rec"`},
		{"inherit", `"inherit"`},
		{"or", `"or"`},
		{"in", `"in"`},
		{"with", `"with"`},
		{"assert", `"assert"`},
		{"then", `"then"`},
		{"else", `"else"`},
		{"ünï", `"ünï"`},
		{"${x}", `"\${x}"`},
	}
	for _, tt := range tests {
		if got := AttrName(tt.in); got != tt.want {
			t.Errorf("AttrName(%q) = %s, want %s", tt.in, got, tt.want)
		}
	}
}

func TestQuote(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", `""`},
		{"plain", `"plain"`},
		{`a"b`, `"a\"b"`},
		{`a\b`, `"a\\b"`},
		{"${x}", `"\${x}"`},
		{"$${x}", `"\$\${x}"`},
		{"$HOME", `"$HOME"`},
		{"a$", `"a$"`},
		{"''${x}", `"''\${x}"`},
		{"l1\nl2", `"l1\nl2"`},
		{"\t\r", `"\t\r"`},
		{"日本 🚀", `"日本 🚀"`},
	}
	for _, tt := range tests {
		if got := Quote(tt.in); got != tt.want {
			t.Errorf("Quote(%q) = %s, want %s", tt.in, got, tt.want)
		}
	}
}

func TestPrintLayout(t *testing.T) {
	tests := []struct {
		name string
		in   Expr
		want string
	}{
		{"empty set", Attrs{}, "{ }"},
		{"empty list", List{}, "[ ]"},
		{"short list inline", Strs([]string{"a", "b"}), `[ "a" "b" ]`},
		{"selections inline", List{Sel("pkgs", "git"), Sel("pkgs", "python3Packages", "torch")}, "[ pkgs.git pkgs.python3Packages.torch ]"},
		{"odd segment quoted", Sel("pkgs", "foo.bar", "if"), `pkgs."foo.bar"."if"`},
		{"long list breaks", Strs([]string{"aaaaaaaaaaaaaaaaaaaa", "bbbbbbbbbbbbbbbbbbbbbbbb", "cccccccccccccccccccccccc", "dddddd"}),
			"[\n  \"aaaaaaaaaaaaaaaaaaaa\"\n  \"bbbbbbbbbbbbbbbbbbbbbbbb\"\n  \"cccccccccccccccccccccccc\"\n  \"dddddd\"\n]"},
		{"set one per line", Attrs{Binds: []Bind{B("a", Int(1)), B("b-c", Bool(true)), B("8188/tcp", Attrs{})}},
			"{\n  a = 1;\n  b-c = true;\n  \"8188/tcp\" = { };\n}"},
		{"nested set", Attrs{Binds: []Bind{B("x", Attrs{Binds: []Bind{B("y", Null{})}})}}, "{\n  x = {\n    y = null;\n  };\n}"},
		{"gap", Attrs{Binds: []Bind{{Gap: true, Path: []string{"a"}, Value: Int(1)}, {Gap: true, Path: []string{"b"}, Value: Int(2)}}}, "{\n  a = 1;\n\n  b = 2;\n}"},
		{"comment", Attrs{Binds: []Bind{{Comment: "why", Path: []string{"a"}, Value: Int(1)}}}, "{\n  # why\n  a = 1;\n}"},
		{"inherit", Attrs{Binds: []Bind{{Inherit: &Inherit{Names: []string{"inputs"}}}, {Inherit: &Inherit{From: Var("pkgs"), Names: []string{"git"}}}}},
			"{\n  inherit inputs;\n  inherit (pkgs) git;\n}"},
		{"negative int", List{Int(-3)}, "[ (-3) ]"},
		{"float", List{Float(1), Float(0.25), Float(-2.5)}, "[ 1.0 0.25 (-2.5) ]"},
		{"raw parenthesised", Raw("x: x"), "(x: x)"},
		{"raw with comment", Raw("1 # one"), "(1 # one\n)"},
		{"call args", Call{Fn: Var("import"), Args: []Expr{Path("./a.nix"), Call{Fn: Var("f"), Args: []Expr{Int(1)}}}}, "import ./a.nix (f 1)"},
		{"call in list", List{Call{Fn: Var("f"), Args: []Expr{Int(1)}}}, "[\n  (f 1)\n]"},
		{"func formals", Func{Formals: []string{"pkgs", "lib"}, Ellipsis: true, Body: Var("pkgs")}, "{ pkgs, lib, ... }: pkgs"},
		{"func arg", Func{Arg: "x", Body: BinOp{Op: "++", L: Var("x"), R: List{}}}, "x: x ++ [ ]"},
		{"let", Let{Binds: []Bind{B("a", Int(1))}, Body: Var("a")}, "let\n  a = 1;\nin\na"},
		{"select of call", Select{From: Call{Fn: Var("f"), Args: []Expr{Int(1)}}, Path: []string{"out"}}, "(f 1).out"},
		{"multiline string", Str("echo a\n  b\n\nc\n"), "''\n  echo a\n    b\n\n  c\n''"},
		{"string needing escapes stays quoted", Str("a ${b}\nc\n"), `"a \${b}\nc\n"`},
		{"indented common prefix stays quoted", Str("  a\n  b\n"), `"  a\n  b\n"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := String(tt.in); got != tt.want {
				t.Errorf("got\n%s\nwant\n%s", got, tt.want)
			}
		})
	}
}

func TestPrintFileHeader(t *testing.T) {
	got := string(Print(File{Header: []string{"Generated.", "", "More."}, Body: Null{}}))
	want := "# Generated.\n#\n# More.\nnull\n"
	if got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}
