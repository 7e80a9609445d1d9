package build

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzProgressFeed feeds arbitrary lines, as Nix (or anything on its
// stderr) could print them, to the progress parser. It must never panic,
// counts never go negative, and every text it reports is free of terminal
// escapes, so a hostile derivation's log cannot drive the user's terminal.
func FuzzProgressFeed(f *testing.F) {
	for _, s := range []string{
		`@nix {"action":"start","id":1,"level":3,"type":105,"text":"building '/nix/store/abc-hello.drv'","fields":["/nix/store/abc-hello.drv","",1,1]}`,
		`@nix {"action":"result","id":1,"type":101,"fields":["\u001b[31mred line\u001b[0m"]}`,
		`@nix {"action":"result","id":1,"type":104,"fields":["buildPhase"]}`,
		`@nix {"action":"stop","id":1}`,
		`@nix {"action":"msg","level":0,"msg":"error: builder for '/nix/store/x.drv' failed"}`,
		`@nix {"action":"start","id":2,"type":101,"fields":["https://cache/x.nar",0]}`,
		`@nix {"action":"result","id":2,"type":105,"fields":[-5,-10,0,0]}`,
		`@nix {"action":"result","id":99,"type":106,"fields":[1]}`,
		`@nix {"action":"stop","id":99}`,
		`@nix {`, `@nix null`, `@nix {"action":"result","fields":null}`, "plain \x1b]0;title\x07 text", "\x1b[2J\x1b[H",
	} {
		f.Add([]byte(s))
	}
	for _, name := range []string{"success.log", "fail.log"} {
		if b, err := os.ReadFile(filepath.Join("..", "testdata", "nixlogs", name)); err == nil {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, log []byte) {
		p := NewParser()
		for _, line := range bytes.Split(log, []byte("\n")) {
			ev, ok := p.Feed(line)
			if !ok {
				continue
			}
			for _, s := range []string{ev.Text, ev.Drv, ev.State.Current, ev.State.Phase, ev.State.LastLine} {
				if strings.ContainsRune(s, 0x1b) {
					t.Fatalf("reported text keeps a terminal escape: %q", s)
				}
			}
			st := ev.State
			if st.Built < 0 || st.Builds < 0 || st.RunningBuilds < 0 || st.FailedBuilds < 0 || st.Copied < 0 || st.Copies < 0 {
				t.Fatalf("negative count in %+v", st)
			}
		}
		for _, e := range p.Errors() {
			if strings.ContainsRune(e, 0x1b) {
				t.Fatalf("error keeps a terminal escape: %q", e)
			}
		}
		_ = p.FailedDrv()
		_ = utf8.ValidString(p.State().LastLine)
	})
}
