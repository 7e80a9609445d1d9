// Command gen writes a synthetic nix2gpu.yaml with N containers for the
// benchmark suite (see package benchdata for what the containers hold).
//
// Usage:
//
//	go run ./bench/gen -n 1000 -o bench/out/c1000/nix2gpu.yaml
//	go run ./bench/gen -n 10 -typo    # one misspelt key, for negative checks
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/nix2gpu/nix2gpu/bench/benchdata"
)

func main() {
	n := flag.Int("n", 10, "number of containers")
	out := flag.String("o", "-", "output file, - for stdout")
	typo := flag.Bool("typo", false, "misspell one key (\"enviroment\" for \"env\") in the first container")
	flag.Parse()
	if *n < 1 {
		fmt.Fprintln(os.Stderr, "gen: -n must be at least 1")
		os.Exit(2)
	}
	src := benchdata.Project(*n, *typo)
	if *out == "-" {
		if _, err := os.Stdout.Write(src); err != nil {
			os.Exit(1)
		}
		return
	}
	if err := os.MkdirAll(filepath.Dir(*out), 0o755); err != nil {
		fmt.Fprintf(os.Stderr, "gen: %v\n", err)
		os.Exit(1)
	}
	if err := os.WriteFile(*out, src, 0o644); err != nil {
		fmt.Fprintf(os.Stderr, "gen: %v\n", err)
		os.Exit(1)
	}
}
