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
	inputs, err := benchdata.Inputs("..")
	if err != nil {
		b.Fatal(err)
	}
	for _, cmd := range []string{"validate", "compile"} {
		for _, in := range inputs {
			b.Run(cmd+"/"+in.Name, func(b *testing.B) {
				dir := b.TempDir()
				file := filepath.Join(dir, "nix2gpu.yaml")
				if err := os.WriteFile(file, in.Src, 0o644); err != nil {
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
