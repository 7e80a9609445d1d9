package build

import (
	"bufio"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// replay feeds a recorded log through a Parser and returns every event.
func replay(t *testing.T, name string) (*Parser, []Event) {
	t.Helper()
	f, err := os.Open(filepath.Join("..", "testdata", "nixlogs", name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	p := NewParser()
	var evs []Event
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		if ev, ok := p.Feed(sc.Bytes()); ok {
			evs = append(evs, ev)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return p, evs
}

func TestReplaySuccess(t *testing.T) {
	p, evs := replay(t, "success.log")
	got := p.State()
	want := State{Built: 4, Builds: 4, Copied: 2, Copies: 2, Downloaded: 7957, DownloadSize: 7957}
	if got != want {
		t.Errorf("final state\n got %+v\nwant %+v", got, want)
	}
	var started, finished, lines, downloads []string
	for _, ev := range evs {
		switch ev.Kind {
		case EventBuildStarted:
			started = append(started, DrvName(ev.Drv))
		case EventBuildFinished:
			finished = append(finished, DrvName(ev.Drv))
		case EventLogLine:
			lines = append(lines, ev.Text)
		case EventDownloadStarted:
			downloads = append(downloads, ev.Text)
		}
	}
	wantBuilds := "nix2gpu-startup app-layer-1 app-layer-2 app-image.json"
	if s := strings.Join(started, " "); s != wantBuilds {
		t.Errorf("started %q, want %q", s, wantBuilds)
	}
	if s := strings.Join(finished, " "); s != wantBuilds {
		t.Errorf("finished %q, want %q", s, wantBuilds)
	}
	if len(lines) != 11 {
		t.Errorf("got %d log lines, want 11: %q", len(lines), lines)
	}
	if len(downloads) != 2 || !strings.HasSuffix(downloads[0], "-cuda_cudart-12.8.90") {
		t.Errorf("downloads = %q", downloads)
	}
	if len(p.Errors()) != 0 {
		t.Errorf("errors = %q", p.Errors())
	}
	// While a build runs, the state names it with its last line.
	var seen bool
	for _, ev := range evs {
		if ev.Kind == EventLogLine && ev.Text == "layer 1 done" {
			seen = true
			if DrvName(ev.State.Current) != "app-layer-1" || ev.State.LastLine != "layer 1 done" || ev.State.RunningBuilds != 1 {
				t.Errorf("state during app-layer-1: %+v", ev.State)
			}
		}
	}
	if !seen {
		t.Error("no log line 'layer 1 done'")
	}
}

func TestReplayFailure(t *testing.T) {
	p, _ := replay(t, "fail.log")
	drv := p.FailedDrv()
	if DrvName(drv) != "torch-2.5.1" {
		t.Fatalf("FailedDrv = %q, want the torch derivation", drv)
	}
	tail := p.Tail(drv)
	if len(tail) != tailLines {
		t.Fatalf("tail has %d lines, want %d", len(tail), tailLines)
	}
	if last := tail[len(tail)-1]; last != "compilation terminated." {
		t.Errorf("last line %q", last)
	}
	if !strings.Contains(tail[len(tail)-2], "cuda_runtime.h: No such file") {
		t.Errorf("second to last line %q", tail[len(tail)-2])
	}
	errs := p.Errors()
	if len(errs) != 2 || !strings.HasPrefix(errs[0], "builder for '/nix/store/") || strings.Contains(errs[0], "\x1b") {
		t.Errorf("errors = %q", errs)
	}
	if st := p.State(); st.FailedBuilds != 1 {
		t.Errorf("state %+v, want one failed build", st)
	}
}

func TestFeed(t *testing.T) {
	tests := []struct {
		name  string
		lines []string
		ok    bool
		want  Event
	}{
		{
			name:  "plain text is a message",
			lines: []string{"warning: Git tree is dirty"},
			ok:    true,
			want:  Event{Kind: EventMessage, Level: 3, Text: "warning: Git tree is dirty"},
		},
		{
			name:  "blank line is nothing",
			lines: []string{"  "},
		},
		{
			name:  "broken JSON is shown, not fatal",
			lines: []string{`@nix {"action":`},
			ok:    true,
			want:  Event{Kind: EventMessage, Level: 3, Text: `@nix {"action":`},
		},
		{
			name:  "unknown action is ignored",
			lines: []string{`@nix {"action":"setStatus","id":1}`},
		},
		{
			name:  "error message loses its prefix and colours",
			lines: []string{`@nix {"action":"msg","level":0,"msg":"\u001b[31;1merror:\u001b[0m boom"}`},
			ok:    true,
			want:  Event{Kind: EventMessage, Level: 0, Text: "boom"},
		},
		{
			name: "result for an unknown activity is ignored",
			lines: []string{
				`@nix {"action":"result","id":9,"type":105,"fields":[1,2,0,0]}`,
			},
		},
		{
			name: "phase of a running build",
			lines: []string{
				`@nix {"action":"start","id":7,"type":105,"fields":["/nix/store/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-hello-2.12.drv","",1,1]}`,
				`@nix {"action":"result","id":7,"type":104,"fields":["buildPhase"]}`,
			},
			ok: true,
			want: Event{Kind: EventProgress, State: State{
				Current: "/nix/store/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-hello-2.12.drv", Phase: "buildPhase",
			}},
		},
		{
			name: "downloads add up and keep finished transfers",
			lines: []string{
				`@nix {"action":"start","id":1,"type":102}`,
				`@nix {"action":"result","id":1,"type":106,"fields":[101,5000]}`,
				`@nix {"action":"start","id":2,"type":101,"fields":["https://cache/a.nar.xz"]}`,
				`@nix {"action":"result","id":2,"type":105,"fields":[1000,2000,0,0]}`,
				`@nix {"action":"stop","id":2}`,
				`@nix {"action":"start","id":3,"type":101,"fields":["https://cache/b.nar.xz"]}`,
				`@nix {"action":"result","id":3,"type":105,"fields":[500,3000,0,0]}`,
			},
			ok:   true,
			want: Event{Kind: EventProgress, State: State{Downloaded: 1500, DownloadSize: 5000}},
		},
		{
			name: "log lines are cleaned",
			lines: []string{
				`@nix {"action":"start","id":7,"type":105,"fields":["/nix/store/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-x.drv"]}`,
				`@nix {"action":"result","id":7,"type":101,"fields":["\u001b[1mgcc\u001b[0m\tfoo.c\r"]}`,
			},
			ok: true,
			want: Event{Kind: EventLogLine, Drv: "/nix/store/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-x.drv", Text: "gcc foo.c", State: State{
				Current: "/nix/store/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-x.drv", LastLine: "gcc foo.c",
			}},
		},
		{
			name: "a build started twice under one id stops once",
			lines: []string{
				`@nix {"action":"start","id":4,"type":105,"fields":["/nix/store/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-base.drv"]}`,
				`@nix {"action":"start","id":5,"type":105,"fields":["/nix/store/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-a.drv"]}`,
				`@nix {"action":"start","id":5,"type":105,"fields":["/nix/store/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-b.drv"]}`,
				`@nix {"action":"stop","id":5}`,
			},
			ok: true,
			want: Event{Kind: EventBuildFinished, Drv: "/nix/store/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-b.drv", State: State{
				Current: "/nix/store/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-base.drv",
			}},
		},
		{
			name: "an id reused by a download no longer names a build",
			lines: []string{
				`@nix {"action":"start","id":5,"type":105,"fields":["/nix/store/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-a.drv"]}`,
				`@nix {"action":"start","id":5,"type":101,"fields":["https://cache/a.nar.xz"]}`,
				`@nix {"action":"result","id":5,"type":105,"fields":[10,20,0,0]}`,
			},
			ok:   true,
			want: Event{Kind: EventProgress, State: State{Downloaded: 10, DownloadSize: 20}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := NewParser()
			var ev Event
			var ok bool
			for _, l := range tt.lines {
				ev, ok = p.Feed([]byte(l))
			}
			if ok != tt.ok || ev != tt.want {
				t.Errorf("got %v %+v\nwant %v %+v", ok, ev, tt.ok, tt.want)
			}
		})
	}
}

func TestStatusLine(t *testing.T) {
	tests := []struct {
		s     State
		width int
		want  string
	}{
		{State{}, 0, "[evaluating]"},
		{State{Built: 1, Builds: 4, RunningBuilds: 1, Current: "/nix/store/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-app-layer-1.drv", LastLine: "  layer 1 done"}, 0,
			"[1/4 built, 1 running] app-layer-1: layer 1 done"},
		{State{Built: 0, Builds: 2, Copied: 1, Copies: 2, Downloaded: 1_500_000, DownloadSize: 3_000_000}, 0,
			"[0/2 built, 1/2 fetched (1.5 MB of 3.0 MB)]"},
		{State{FailedBuilds: 1}, 0, "[0/0 built, 1 failed]"},
		{State{Built: 1, Builds: 4, Current: "/nix/store/x-hello.drv", Phase: "buildPhase", LastLine: "cc -O2 hello.c"}, 20, "[1/4 built] x-hello…"},
	}
	for _, tt := range tests {
		if got := tt.s.StatusLine(tt.width); got != tt.want {
			t.Errorf("StatusLine(%+v, %d) = %q, want %q", tt.s, tt.width, got, tt.want)
		}
	}
}

func TestBytes(t *testing.T) {
	for n, want := range map[int64]string{0: "0 B", 999: "999 B", 1000: "1.0 kB", 7957: "8.0 kB", 1_250_000: "1.2 MB", 3e12: "3.0 TB"} {
		if got := Bytes(n); got != want {
			t.Errorf("Bytes(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestDrvName(t *testing.T) {
	for in, want := range map[string]string{
		"/nix/store/4pd1xys4nj70n1lay1zwkxs4lysifnz0-torch-2.5.1.drv": "torch-2.5.1",
		"/nix/store/x-hello.drv": "x-hello",
		"hello":                  "hello",
	} {
		if got := DrvName(in); got != want {
			t.Errorf("DrvName(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestFeedMultiLineMessage(t *testing.T) {
	p := NewParser()
	ev, ok := p.Feed([]byte(`@nix {"action":"msg","level":0,"msg":"\u001b[31;1merror:\u001b[0m attribute 'hello' missing\n\n       at \u001b[35;1m/nix/store/x-source/nix2gpu/app.nix\u001b[0m:12:5:\n"}`))
	want := "attribute 'hello' missing\n\n       at /nix/store/x-source/nix2gpu/app.nix:12:5:"
	if !ok || ev.Text != want {
		t.Errorf("got %q, want %q", ev.Text, want)
	}
	if errs := p.Errors(); len(errs) != 1 || errs[0] != want {
		t.Errorf("errors %q", errs)
	}
	if got := (&Error{Messages: p.Errors()}).Error(); got != "nix build failed: attribute 'hello' missing" {
		t.Errorf("Error() = %q", got)
	}
}
