package main

import (
	"os"
	"runtime/debug"
)

// gcPercent is the collector's target heap growth for this process.
//
// nix2gpu runs for milliseconds to seconds and its live heap stays small
// (tens of MB even for a thousand containers). With Go's default (collect
// at every doubling, the first time at 4 MB) validating 1000 containers
// takes about a fifth more CPU, spent collecting a heap that would be
// freed at exit anyway. Collecting at five times the live heap saves that
// work and keeps peak memory well inside the limits bench/run checks
// (validate+compile of 1000 containers: about 65 MB of 150). GOGC, when
// set, wins.
const gcPercent = 400

func init() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(gcPercent)
	}
}
