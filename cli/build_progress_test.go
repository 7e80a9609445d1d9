package cli

import (
	"bufio"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/nix2gpu/nix2gpu/build"
)

// replayInto feeds a recorded nix log through the parser into p.
func replayInto(t *testing.T, p *buildProgress, log string) {
	t.Helper()
	f, err := os.Open(filepath.Join("..", "testdata", "nixlogs", log))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	parser := build.NewParser()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if ev, ok := parser.Feed(sc.Bytes()); ok {
			p.event(ev)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
}

func TestBuildProgressTerminal(t *testing.T) {
	var out strings.Builder
	p := &buildProgress{w: &out, live: true, width: 60}
	replayInto(t, p, "success.log")
	p.finish(true)
	s := out.String()

	// Everything but the final summary is one line, redrawn in place.
	if n := strings.Count(s, "\n"); n != 1 || !strings.HasSuffix(s, "\r\x1b[Kdone: 4/4 built, 2/2 fetched (8.0 kB of 8.0 kB)\n") {
		t.Fatalf("%d newlines; output ends %q", n, s[max(0, len(s)-80):])
	}
	frames := strings.Split(strings.TrimSuffix(s, "\n"), "\r\x1b[K")
	seen := map[string]bool{}
	for i, f := range frames[1 : len(frames)-1] {
		if n := utf8.RuneCountInString(f); n > 59 {
			t.Errorf("frame %d is %d runes wide, want at most 59: %q", i, n, f)
		}
		if seen[f] && frames[i] == f {
			t.Errorf("frame %q drawn twice in a row", f)
		}
		seen[f] = true
	}
	for _, want := range []string{
		"[0/4 built, 2/2 fetched (8.0 kB of 8.0 kB)]",
		"[1/4 built, 1 running, 2/2 fetched (8.0 kB of 8.0 kB)] app…",
		"[2/4 built, 2/2 fetched (8.0 kB of 8.0 kB)] app-layer-2",
	} {
		if !seen[want] {
			t.Errorf("no frame %q", want)
		}
	}
}

func TestBuildProgressPlain(t *testing.T) {
	var out strings.Builder
	p := &buildProgress{w: &out, width: 80}
	replayInto(t, p, "fail.log")
	p.finish(false)
	const want = "building torch-2.5.1\n"
	if got := out.String(); got != want {
		t.Errorf("plain output\n got %q\nwant %q", got, want)
	}
}

func TestBuildProgressWarnings(t *testing.T) {
	var out strings.Builder
	p := &buildProgress{w: &out, live: true, width: 40}
	p.event(build.Event{Kind: build.EventBuildStarted, Drv: "/nix/store/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-x.drv",
		State: build.State{Builds: 1, Current: "/nix/store/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-x.drv"}})
	p.event(build.Event{Kind: build.EventMessage, Level: 1, Text: "warning: Git tree is dirty",
		State: build.State{Builds: 1, Current: "/nix/store/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-x.drv"}})
	const want = "\r\x1b[K[0/1 built] x" + "\r\x1b[Kwarning: Git tree is dirty\n" + "\r\x1b[K[0/1 built] x"
	if got := out.String(); got != want {
		t.Errorf("got  %q\nwant %q", got, want)
	}
}

func TestBuildProgressThrottlesLogLines(t *testing.T) {
	var out strings.Builder
	// A clock that stands still: log lines may not redraw, counters may.
	clock := time.Unix(0, 0)
	p := &buildProgress{w: &out, live: true, width: 80, now: func() time.Time { return clock }}
	drv := "/nix/store/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-x.drv"
	st := build.State{Builds: 1, RunningBuilds: 1, Current: drv}
	p.event(build.Event{Kind: build.EventBuildStarted, Drv: drv, State: st})
	st.LastLine = "line 1"
	p.event(build.Event{Kind: build.EventLogLine, Drv: drv, Text: "line 1", State: st})
	clock = clock.Add(logLineInterval)
	st.LastLine = "line 2"
	p.event(build.Event{Kind: build.EventLogLine, Drv: drv, Text: "line 2", State: st})
	st.Built, st.RunningBuilds = 1, 0
	p.event(build.Event{Kind: build.EventProgress, State: st})
	want := "\r\x1b[K[0/1 built, 1 running] x" +
		"\r\x1b[K[0/1 built, 1 running] x: line 2" +
		"\r\x1b[K[1/1 built] x: line 2"
	if got := out.String(); got != want {
		t.Errorf("got  %q\nwant %q", got, want)
	}
}
