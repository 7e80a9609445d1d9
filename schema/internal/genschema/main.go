// Command genschema compiles the CUE definition of nix2gpu.yaml and writes
// what package schema embeds: the validation tree as Go source and the
// JSON Schema for editors. `go generate ./schema` runs it.
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/nix2gpu/nix2gpu/schema/internal/cueschema"
)

func main() {
	tree := flag.String("tree", "", "write the validation tree (Go source) to `FILE`")
	js := flag.String("jsonschema", "", "write the JSON Schema to `FILE`")
	flag.Parse()
	if err := run(*tree, *js); err != nil {
		fmt.Fprintln(os.Stderr, "genschema:", err)
		os.Exit(1)
	}
}

func run(treeFile, jsFile string) error {
	s, err := cueschema.Load()
	if err != nil {
		return err
	}
	if treeFile != "" {
		src, err := cueschema.Generate(s)
		if err != nil {
			return err
		}
		if err := os.WriteFile(treeFile, src, 0o644); err != nil {
			return err
		}
	}
	if jsFile != "" {
		js, err := s.JSONSchema()
		if err != nil {
			return err
		}
		if err := os.WriteFile(jsFile, js, 0o644); err != nil {
			return err
		}
	}
	return nil
}
