package cli_test

import (
	"sync"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/nix2gpu/nix2gpu/internal/testregistry"
)

// registryCommand returns the script command that runs a real registry
// (Debian's docker-registry) on 127.0.0.1 for the rest of a script:
//
//	registry start     start it; $REGISTRY is its host:port
//	registry stop      kill it, keeping its storage
//	registry restart   start it again on the same address and storage
//
// Scripts guard it with
//
//	[!exec:docker-registry] skip 'docker-registry is not installed; CI installs it'
//
// testscript has no way for a command to skip the script itself.
func registryCommand() func(ts *testscript.TestScript, neg bool, args []string) {
	var mu sync.Mutex
	running := map[*testscript.TestScript]*testregistry.Registry{}
	return func(ts *testscript.TestScript, neg bool, args []string) {
		if neg || len(args) != 1 {
			ts.Fatalf("usage: registry start|stop|restart")
		}
		mu.Lock()
		r := running[ts]
		mu.Unlock()
		switch args[0] {
		case "start":
			if r != nil {
				ts.Fatalf("registry already started")
			}
			r, err := testregistry.Launch(ts.MkAbs("registry"))
			ts.Check(err)
			mu.Lock()
			running[ts] = r
			mu.Unlock()
			ts.Defer(func() {
				r.Stop()
				mu.Lock()
				delete(running, ts)
				mu.Unlock()
			})
			ts.Setenv("REGISTRY", r.Host)
		case "stop", "restart":
			if r == nil {
				ts.Fatalf("registry not started")
			}
			if args[0] == "stop" {
				r.Stop()
			} else {
				ts.Check(r.Restart())
			}
		default:
			ts.Fatalf("usage: registry start|stop|restart")
		}
	}
}
