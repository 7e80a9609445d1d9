// Command nix2gpu turns nix2gpu.yaml into reproducible GPU container images.
package main

import (
	"os"

	"github.com/nix2gpu/nix2gpu/cli"
)

func main() { os.Exit(cli.Main()) }
