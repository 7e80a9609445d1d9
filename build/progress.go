package build

import (
	"bytes"
	"encoding/json"
	"regexp"
	"slices"
	"strings"
)

// The numbers below are Nix's activity and result type codes as they appear
// in `--log-format internal-json`. They have been stable since Nix 2.3; the
// parser ignores codes it does not know, so a newer Nix that adds some does
// not break it.
const (
	actCopyPath     = 100
	actFileTransfer = 101
	actRealise      = 102
	actCopyPaths    = 103
	actBuilds       = 104
	actBuild        = 105
	actSubstitute   = 108

	resBuildLogLine     = 101
	resSetPhase         = 104
	resProgress         = 105
	resSetExpected      = 106
	resPostBuildLogLine = 107
)

// logPrefix marks a structured line; anything else on Nix's stderr is plain
// text (from a builder that bypasses the logger, or from a wrapper script).
var logPrefix = []byte("@nix ")

// tailLines is how many log lines of each build are kept for error reports.
const tailLines = 25

// EventKind says what changed in an Event.
type EventKind int

const (
	// EventProgress: counters changed.
	EventProgress EventKind = iota
	// EventBuildStarted: a derivation started building (Event.Drv).
	EventBuildStarted
	// EventBuildFinished: a derivation's build activity ended (Event.Drv).
	EventBuildFinished
	// EventLogLine: a build printed a line (Event.Drv, Event.Text).
	EventLogLine
	// EventMessage: Nix printed a message (Event.Level, Event.Text), such
	// as a warning or the final error.
	EventMessage
	// EventDownloadStarted: a store path started downloading (Event.Text is
	// the store path or URL).
	EventDownloadStarted
)

// Event is one step of a build's progress. State is a snapshot of the whole
// build after the step, so a renderer never needs to keep its own counters.
type Event struct {
	Kind EventKind
	// Drv is the derivation path for build events.
	Drv string
	// Text is the log line, message or download name, with terminal
	// escapes removed.
	Text string
	// Level is Nix's verbosity level of a message: 0 error, 1 warning, 2
	// notice, 3 info, and higher for chattier levels.
	Level int
	State State
}

// State is the build's progress at one moment.
type State struct {
	Built, Builds, RunningBuilds, FailedBuilds int // derivations
	Copied, Copies                             int // store paths fetched from substituters
	Downloaded, DownloadSize                   int64
	// Current is the derivation most recently started that is still
	// building, with its phase and last log line.
	Current, Phase, LastLine string
}

// DrvName returns the human part of a derivation path:
// "/nix/store/<hash>-hello-2.12.drv" -> "hello-2.12".
func DrvName(drv string) string { return strings.TrimSuffix(StoreName(drv), ".drv") }

// StoreName returns a store path's name without the directory and the
// hash: "/nix/store/<hash>-hello-2.12" -> "hello-2.12".
func StoreName(path string) string {
	s := path
	if i := strings.LastIndexByte(s, '/'); i >= 0 {
		s = s[i+1:]
	}
	if i := strings.IndexByte(s, '-'); i == 32 {
		s = s[i+1:]
	}
	return s
}

// logMessage is one decoded internal-json line. Fields mixes numbers and
// strings, so each element stays raw until its activity says what it means.
type logMessage struct {
	Action string            `json:"action"`
	ID     uint64            `json:"id"`
	Type   int               `json:"type"`
	Level  int               `json:"level"`
	Text   string            `json:"text"`
	Msg    string            `json:"msg"`
	RawMsg string            `json:"raw_msg"`
	Parent uint64            `json:"parent"`
	Fields []json.RawMessage `json:"fields"`
}

type activity struct {
	typ      int
	drv      string // for builds
	phase    string
	lastLine string
	// done and expected are the last progress report of a transfer.
	done, expected int64
}

// Parser turns Nix's internal-json log into Events and keeps the state a
// failure report needs: the last lines of every build's log and the error
// messages. The zero value is not usable; call NewParser.
type Parser struct {
	acts map[uint64]*activity
	// running lists build activity ids in start order, to find the current one.
	running []uint64
	tails   map[string][]string // drv -> last tailLines lines
	// downloaded counts bytes of transfers that have already stopped.
	downloaded   int64
	expectedDL   int64 // from setExpected on the realise activity
	errors       []string
	lastBuildDrv string
	state        State
}

// NewParser returns an empty Parser.
func NewParser() *Parser {
	return &Parser{acts: map[uint64]*activity{}, tails: map[string][]string{}}
}

// State returns the current progress.
func (p *Parser) State() State { return p.state }

// Errors returns Nix's error-level messages so far, escapes removed.
func (p *Parser) Errors() []string { return p.errors }

// Tail returns the last lines the build of drv printed.
func (p *Parser) Tail(drv string) []string { return p.tails[drv] }

// FailedDrv names the derivation that failed: the one the error message
// names, or else the last one that started building.
func (p *Parser) FailedDrv() string {
	for _, e := range p.errors {
		if m := drvInMessage.FindStringSubmatch(e); m != nil {
			return m[1]
		}
	}
	return p.lastBuildDrv
}

var drvInMessage = regexp.MustCompile(`'(/[^']+\.drv)'`)

// Feed parses one line of Nix's stderr. ok is false when the line changed
// nothing worth reporting. Malformed JSON is reported as a plain message
// rather than failing the build: the log is advisory, the exit status and
// the output paths are what count.
func (p *Parser) Feed(line []byte) (ev Event, ok bool) {
	line = bytes.TrimRight(line, "\r\n")
	if !bytes.HasPrefix(line, logPrefix) {
		if len(bytes.TrimSpace(line)) == 0 {
			return Event{}, false
		}
		return p.event(Event{Kind: EventMessage, Level: 3, Text: StripEscapes(string(line))}), true
	}
	var m logMessage
	if err := json.Unmarshal(line[len(logPrefix):], &m); err != nil {
		return p.event(Event{Kind: EventMessage, Level: 3, Text: StripEscapes(string(line))}), true
	}
	switch m.Action {
	case "start":
		return p.start(&m)
	case "stop":
		return p.stop(m.ID)
	case "result":
		return p.result(&m)
	case "msg":
		text := m.RawMsg
		if text == "" {
			text = m.Msg
		}
		// Messages may span lines (an evaluation error and its
		// location); keep the lines, clean each.
		lines := strings.Split(strings.TrimRight(text, "\n"), "\n")
		for i, l := range lines {
			lines[i] = strings.TrimRight(StripEscapes(l), " ")
		}
		text = strings.TrimPrefix(strings.Join(lines, "\n"), "error: ")
		if m.Level == 0 {
			p.errors = append(p.errors, text)
		}
		return p.event(Event{Kind: EventMessage, Level: m.Level, Text: text}), true
	}
	return Event{}, false
}

func (p *Parser) start(m *logMessage) (Event, bool) {
	// Nix never reuses an id while its activity runs, but a log from
	// elsewhere may: the new activity replaces the old one everywhere,
	// so a build is never counted as running twice under one id.
	_, reused := p.acts[m.ID]
	a := &activity{typ: m.Type}
	p.acts[m.ID] = a
	if reused {
		p.dropRunning(m.ID)
		p.refreshCurrent()
	}
	switch m.Type {
	case actBuild:
		a.drv = field[string](m.Fields, 0)
		p.running = append(p.running, m.ID)
		p.lastBuildDrv = a.drv
		p.refreshCurrent()
		return p.event(Event{Kind: EventBuildStarted, Drv: a.drv}), true
	case actSubstitute:
		return p.event(Event{Kind: EventDownloadStarted, Text: field[string](m.Fields, 0)}), true
	}
	return Event{}, false
}

func (p *Parser) stop(id uint64) (Event, bool) {
	a, found := p.acts[id]
	if !found {
		return Event{}, false
	}
	delete(p.acts, id)
	switch a.typ {
	case actBuild:
		p.dropRunning(id)
		p.refreshCurrent()
		return p.event(Event{Kind: EventBuildFinished, Drv: a.drv}), true
	case actFileTransfer:
		// Keep what the finished transfer moved in the total.
		p.downloaded += a.done
		p.refreshDownloads()
		return p.event(Event{Kind: EventProgress}), true
	}
	return Event{}, false
}

// dropRunning takes id out of the running builds.
func (p *Parser) dropRunning(id uint64) {
	p.running = slices.DeleteFunc(p.running, func(r uint64) bool { return r == id })
}

func (p *Parser) result(m *logMessage) (Event, bool) {
	a := p.acts[m.ID]
	if a == nil {
		return Event{}, false
	}
	switch m.Type {
	case resBuildLogLine, resPostBuildLogLine:
		line := StripEscapes(field[string](m.Fields, 0))
		if a.drv == "" {
			return Event{}, false
		}
		t := append(p.tails[a.drv], line)
		if len(t) > tailLines {
			t = t[len(t)-tailLines:]
		}
		p.tails[a.drv] = t
		a.lastLine = line
		p.refreshCurrent()
		return p.event(Event{Kind: EventLogLine, Drv: a.drv, Text: line}), true
	case resSetPhase:
		a.phase = field[string](m.Fields, 0)
		p.refreshCurrent()
		return p.event(Event{Kind: EventProgress}), true
	case resProgress:
		done, expected := field[int64](m.Fields, 0), field[int64](m.Fields, 1)
		running, failed := field[int64](m.Fields, 2), field[int64](m.Fields, 3)
		switch a.typ {
		case actBuilds:
			p.state.Built, p.state.Builds = int(done), int(expected)
			p.state.RunningBuilds, p.state.FailedBuilds = int(running), int(failed)
		case actCopyPaths:
			p.state.Copied, p.state.Copies = int(done), int(expected)
		case actFileTransfer:
			a.done, a.expected = done, expected
			p.refreshDownloads()
		default:
			return Event{}, false
		}
		return p.event(Event{Kind: EventProgress}), true
	case resSetExpected:
		if a.typ == actRealise && field[int64](m.Fields, 0) == actFileTransfer {
			p.expectedDL = field[int64](m.Fields, 1)
			p.refreshDownloads()
			return p.event(Event{Kind: EventProgress}), true
		}
	}
	return Event{}, false
}

// refreshDownloads sums finished and running transfers. The expected size
// is the larger of what Nix announced up front and what the transfers
// themselves report, as the announcement may be missing.
func (p *Parser) refreshDownloads() {
	done, expected := p.downloaded, p.downloaded
	for _, a := range p.acts {
		if a.typ == actFileTransfer {
			done += a.done
			expected += max(a.expected, a.done)
		}
	}
	p.state.Downloaded = done
	p.state.DownloadSize = max(expected, p.expectedDL, done)
}

func (p *Parser) refreshCurrent() {
	p.state.Current, p.state.Phase, p.state.LastLine = "", "", ""
	if n := len(p.running); n > 0 {
		a := p.acts[p.running[n-1]]
		p.state.Current, p.state.Phase, p.state.LastLine = a.drv, a.phase, a.lastLine
	}
}

func (p *Parser) event(e Event) Event {
	e.State = p.state
	return e
}

// field decodes the i-th field of a Nix log message, or gives T's zero
// value when the field is missing or of another type.
func field[T any](fs []json.RawMessage, i int) T {
	var v T
	if i >= len(fs) || json.Unmarshal(fs[i], &v) != nil {
		var zero T
		return zero
	}
	return v
}

// escapes matches ANSI CSI and OSC sequences, which Nix puts in messages
// and builders put in their logs.
var escapes = regexp.MustCompile("\x1b\\[[0-9;?]*[ -/]*[@-~]|\x1b\\][^\x07\x1b]*(\x07|\x1b\\\\)")

// StripEscapes removes terminal escape sequences and other control
// characters except tabs, so log text is safe to print on one line.
func StripEscapes(s string) string {
	if strings.IndexByte(s, 0x1b) >= 0 { // every sequence starts with ESC
		s = escapes.ReplaceAllString(s, "")
	}
	return strings.Map(func(r rune) rune {
		if r == '\t' {
			return ' '
		}
		if r < 0x20 || r == 0x7f {
			return -1
		}
		return r
	}, s)
}
