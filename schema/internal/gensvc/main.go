// Command gensvc writes schema/services_gen.cue from services-flake's
// extracted option list. Run it through `go generate ./schema`.
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/nix2gpu/nix2gpu/schema/internal/svcgen"
)

func main() {
	in := flag.String("in", "", "services-flake option list (JSON)")
	out := flag.String("out", "services_gen.cue", "CUE file to write")
	flag.Parse()
	if err := run(*in, *out); err != nil {
		fmt.Fprintln(os.Stderr, "gensvc:", err)
		os.Exit(1)
	}
}

func run(in, out string) error {
	if in == "" {
		return fmt.Errorf("-in is required")
	}
	data, err := os.ReadFile(in)
	if err != nil {
		return err
	}
	src, err := svcgen.Generate(data)
	if err != nil {
		return err
	}
	return os.WriteFile(out, src, 0o644)
}
