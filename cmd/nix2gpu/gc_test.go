package main

import (
	"os"
	"runtime/debug"
	"testing"
)

func TestCollectorTunedForShortRuns(t *testing.T) {
	if os.Getenv("GOGC") != "" {
		t.Skip("GOGC is set in the environment, which takes precedence")
	}
	old := debug.SetGCPercent(100)
	defer debug.SetGCPercent(old)
	if old != gcPercent {
		t.Errorf("GC percent = %d, want %d", old, gcPercent)
	}
}
