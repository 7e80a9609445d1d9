package cli_test

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/nix2gpu/nix2gpu/bench/benchdata"
	"github.com/nix2gpu/nix2gpu/cli"
)

// BenchmarkCommand runs whole CLI commands in-process: everything a
// `nix2gpu validate` or `nix2gpu compile` process does except starting
// the process; each run loads the schema afresh, as a process does.
// bench/run measures the same commands as processes.
func BenchmarkCommand(b *testing.B) {
	typical, err := os.ReadFile("../examples/comfyui/nix2gpu.yaml")
	if err != nil {
		b.Fatalf("reading the typical example: %v", err)
	}
	inputs := []struct {
		name string
		src  []byte
	}{
		{"typical", typical},
		{"containers=100", benchdata.Project(100, false)},
		{"containers=1000", benchdata.Project(1000, false)},
	}
	for _, cmd := range []string{"validate", "compile"} {
		for _, in := range inputs {
			b.Run(cmd+"/"+in.name, func(b *testing.B) {
				dir := b.TempDir()
				file := filepath.Join(dir, "nix2gpu.yaml")
				if err := os.WriteFile(file, in.src, 0o644); err != nil {
					b.Fatal(err)
				}
				env := &cli.Env{
					Stdin: nil, Stdout: io.Discard, Stderr: io.Discard,
					Getenv: func(string) string { return "" }, Dir: dir,
				}
				args := []string{"nix2gpu", cmd, file}
				if code := cli.Run(context.Background(), args, env); code != 0 {
					b.Fatalf("%v: exit %d", args, code)
				}
				// After the first compile every later one is a no-op
				// recompile: validate, generate, compare, write nothing.
				b.ReportAllocs()
				for b.Loop() {
					if code := cli.Run(context.Background(), args, env); code != 0 {
						b.Fatalf("%v: exit %d", args, code)
					}
				}
			})
		}
	}
}
