package doctor

import (
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"strings"
)

// System is the real machine: programs on PATH and the root file system.
type System struct{}

var (
	_ Runner = System{}
	_ FS     = System{}
)

// LookPath implements Runner.
func (System) LookPath(name string) (string, error) { return exec.LookPath(name) }

// Output implements Runner.
func (System) Output(ctx context.Context, name string, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, name, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		if msg := strings.TrimSpace(stderr.String()); msg != "" {
			return out, fmt.Errorf("%s: %w: %s", name, err, oneLine(msg, 300))
		}
		return out, fmt.Errorf("%s: %w", name, err)
	}
	return out, nil
}

// ReadFile implements FS.
func (System) ReadFile(name string) ([]byte, error) { return os.ReadFile(name) }

// ReadDir implements FS.
func (System) ReadDir(name string) ([]fs.DirEntry, error) { return os.ReadDir(name) }

// Host returns the Environment of this machine.
func Host(getenv func(string) string) Environment {
	return Environment{Runner: System{}, FS: System{}, Getenv: getenv, GPU: NVML{}}
}

// oneLine folds a program's error output into one line of at most max bytes.
func oneLine(s string, max int) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > max {
		s = s[:max] + "…"
	}
	return s
}
