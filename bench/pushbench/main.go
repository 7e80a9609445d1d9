// Command pushbench pushes one image to one registry reference through the
// same library path nix2gpu push uses (image.Open, then push.Push), so the
// benchmark suite can time the push of an arbitrary OCI layout against
// skopeo copy even when the CLI only pushes the containers of a project.
//
// Usage:
//
//	pushbench SRC REF     # SRC: OCI layout, docker archive, nix2container JSON or registry ref
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/nix2gpu/nix2gpu/image"
	"github.com/nix2gpu/nix2gpu/push"
)

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: pushbench SRC REF")
		os.Exit(2)
	}
	ctx := context.Background()
	img, err := image.Open(ctx, os.Args[1])
	if err != nil {
		fmt.Fprintf(os.Stderr, "pushbench: %v\n", err)
		os.Exit(1)
	}
	res, err := push.Push(ctx, img, []string{os.Args[2]}, push.Options{})
	if err != nil {
		fmt.Fprintf(os.Stderr, "pushbench: %v\n", err)
		os.Exit(1)
	}
	for _, r := range res {
		fmt.Printf("%s@%s uploaded=%d skipped=%d bytes=%d\n", r.Ref, r.Digest, r.Uploaded, r.Skipped, r.UploadedBytes)
	}
}
