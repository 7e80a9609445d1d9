package cli

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/nix2gpu/nix2gpu/compiler"
	"github.com/nix2gpu/nix2gpu/config"
	"github.com/nix2gpu/nix2gpu/diag"
	"github.com/nix2gpu/nix2gpu/schema"
)

// DefaultConfigFile is the config file commands read when none is given.
const DefaultConfigFile = "nix2gpu.yaml"

// configPath resolves the FILE argument of a command: the default name
// when it is empty, relative paths against the working directory. display
// is how diagnostics name the file: as the user typed it.
func configPath(env *Env, file string) (path, display string) {
	if file == "" {
		file = DefaultConfigFile
	}
	display = file
	path = file
	if !filepath.IsAbs(path) {
		path = filepath.Join(env.Dir, path)
	}
	return path, display
}

// checkConfigReadable returns a usage error (exit 2) when FILE does not
// exist, is a directory or cannot be read: the command was pointed at the
// wrong place, which is not a finding about the file's content.
func checkConfigReadable(env *Env, file string) error {
	path, display := configPath(env, file)
	fi, err := os.Stat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if file == "" {
			return exitf(ExitUsage, "no %s in this directory; run 'nix2gpu init' to create one, or pass the file's path", DefaultConfigFile)
		}
		return exitf(ExitUsage, "%s: no such file", display)
	case err != nil:
		return exitf(ExitUsage, "%s: cannot read: %v", display, unwrapPathErr(err))
	case fi.IsDir():
		return exitf(ExitUsage, "%s is a directory; pass the YAML file inside it", display)
	}
	fh, err := os.Open(path)
	if err != nil {
		return exitf(ExitUsage, "%s: cannot read: %v", display, unwrapPathErr(err))
	}
	fh.Close()
	return nil
}

func unwrapPathErr(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// loadProject runs the front end on FILE: read and parse the YAML, check it
// against the schema, then the compiler's semantic checks and lowering.
// Diagnostics from all stages come back merged and sorted by position; a
// compiler diagnostic is dropped when the schema already reported an error
// at the same place or above it, so one mistake is reported once.
//
// The File is non-nil whenever the file could be read (its Root is nil when
// it did not parse), so callers can render diagnostics with the source.
// The Project is nil when the file did not parse.
func loadProject(env *Env, file string) (*compiler.Project, *config.File, diag.Diagnostics) {
	path, display := configPath(env, file)
	var ds diag.Diagnostics
	src, err := readConfig(path)
	if err != nil {
		hint := "check the path and the file's permissions"
		if errors.Is(err, fs.ErrNotExist) {
			hint = "run 'nix2gpu init' to create one, or pass the file's path"
		}
		ds.Errorf(diag.Range{Filename: display}, hint, "cannot read config: %v", unwrapPathErr(err))
		return nil, nil, ds
	}
	f, pds := config.Parse(display, src, config.Limits{})
	ds.Append(pds...)
	if f == nil {
		return nil, &config.File{Name: display, Dir: filepath.Dir(path), Source: src}, ds.Sort()
	}
	dir := filepath.Dir(path)
	f.Dir = dir

	var schemaDiags diag.Diagnostics
	if sch, err := schema.Load(); err != nil {
		// The schema is built in: failing to load it is a bug in nix2gpu,
		// not in the user's file.
		ds.Errorf(diag.Range{Filename: display}, "this is a bug in nix2gpu; please report it", "loading the built-in schema: %v", err)
	} else {
		schemaDiags = sch.Validate(f)
	}
	p, cds := compiler.Compile(f, compiler.Options{FS: os.DirFS(dir)})
	// Only a schema error can overlap a compiler diagnostic; a valid file
	// pays neither for the key walk nor for the comparison.
	if schemaDiags.HasErrors() {
		cds, schemaDiags = dropReported(cds, schemaDiags, keyStarts(f.Root))
	}
	ds.Append(schemaDiags...)
	ds.Append(cds...)
	return p, f, ds.Sort()
}

// readConfig reads the file, refusing what is not a regular file and what
// is far too large before reading it all.
func readConfig(path string) ([]byte, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if fi.IsDir() {
		return nil, fmt.Errorf("%s is a directory", filepath.Base(path))
	}
	return config.ReadLimited(path, config.DefaultLimits.MaxBytes)
}

// dropReported reconciles the compiler's diagnostics with the schema's so
// one mistake is reported once. A compiler diagnostic is dropped when the
// schema flagged an error at its path or an ancestor. An error about a
// key's spelling (its range is the key's) says nothing about the value
// below it, so it hides only diagnostics at exactly its path. When both
// report an error at exactly the same path and only the compiler's says
// what to do about it (a hint), the compiler's more specific one is kept
// instead of the schema's.
func dropReported(compiled, schemaDiags diag.Diagnostics, keys map[diag.Pos]bool) (kept, schemaKept diag.Diagnostics) {
	replaced := map[int]bool{}
	var out diag.Diagnostics
next:
	for _, d := range compiled {
		if d.Path == "" {
			out = append(out, d)
			continue
		}
		for i, s := range schemaDiags {
			if s.Severity != diag.Error || s.Path == "" {
				continue
			}
			if d.Path == s.Path {
				// The compiler's checks name the rule in words ("image
				// names are lower case") where the schema can only quote
				// a pattern, so its error wins unless it lacks the hint
				// the schema has.
				if d.Severity == diag.Error && (d.Hint != "" || s.Hint == "") {
					replaced[i] = true
					continue
				}
				continue next
			}
			if !keys[s.Range.Start] && (strings.HasPrefix(d.Path, s.Path+".") || strings.HasPrefix(d.Path, s.Path+"[")) {
				continue next
			}
		}
		out = append(out, d)
	}
	for i, s := range schemaDiags {
		if !replaced[i] {
			schemaKept = append(schemaKept, s)
		}
	}
	return out, schemaKept
}

// keyStarts collects where every map key of the document starts.
func keyStarts(v *config.Value) map[diag.Pos]bool {
	keys := map[diag.Pos]bool{}
	var walk func(v *config.Value)
	walk = func(v *config.Value) {
		if v == nil {
			return
		}
		for _, f := range v.Map {
			keys[f.KeyRange.Start] = true
			walk(f.Value)
		}
		for _, e := range v.List {
			walk(e)
		}
	}
	walk(v)
	return keys
}

// printDiagnostics renders ds in the chosen output format, quoting lines
// of f's source.
func printDiagnostics(out *Output, ds diag.Diagnostics, f *config.File) error {
	src := diag.Sources{}
	if f != nil {
		src[f.Name] = f.Source
	}
	return out.Diagnostics(ds, src)
}
