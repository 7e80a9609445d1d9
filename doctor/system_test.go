package doctor

import (
	"context"
	"strings"
	"testing"
)

func TestSystemOutput(t *testing.T) {
	sys := System{}
	if _, err := sys.LookPath("sh"); err != nil {
		t.Skip("no sh on PATH")
	}
	out, err := sys.Output(context.Background(), "sh", "-c", "echo fine")
	if err != nil || string(out) != "fine\n" {
		t.Errorf("Output = %q, %v", out, err)
	}
	_, err = sys.Output(context.Background(), "sh", "-c", "echo 'error: first\n  second' >&2; exit 3")
	if err == nil || !strings.Contains(err.Error(), "exit status 3: error: first second") {
		t.Errorf("error = %v, want the exit status and stderr folded onto one line", err)
	}
}

func TestOneLine(t *testing.T) {
	if got := oneLine(strings.Repeat("ab ", 200), 10); got != "ab ab ab a…" {
		t.Errorf("oneLine = %q", got)
	}
}
