package build

import (
	"fmt"
	"strings"
)

// Counts summarises the state in a few words:
// "3/4 built, 1 running, 2/2 fetched (1.2/1.2 MB)".
func (s State) Counts() string {
	var parts []string
	if s.Builds > 0 || s.FailedBuilds > 0 {
		p := fmt.Sprintf("%d/%d built", s.Built, s.Builds)
		if s.RunningBuilds > 0 {
			p += fmt.Sprintf(", %d running", s.RunningBuilds)
		}
		if s.FailedBuilds > 0 {
			p += fmt.Sprintf(", %d failed", s.FailedBuilds)
		}
		parts = append(parts, p)
	}
	// Downloads without copies are only binary cache metadata; not worth
	// a mention.
	if s.Copies > 0 {
		parts = append(parts, fmt.Sprintf("%d/%d fetched (%s of %s)",
			s.Copied, s.Copies, Bytes(s.Downloaded), Bytes(s.DownloadSize)))
	}
	if len(parts) == 0 {
		return "evaluating"
	}
	return strings.Join(parts, ", ")
}

// StatusLine is the one-line view of a build for a terminal: the counts,
// then the current build with its phase and last log line, cut to width
// runes (no cut when width <= 0).
func (s State) StatusLine(width int) string {
	line := "[" + s.Counts() + "]"
	if s.Current != "" {
		line += " " + DrvName(s.Current)
		if s.Phase != "" {
			line += " (" + s.Phase + ")"
		}
		if s.LastLine != "" {
			line += ": " + strings.TrimSpace(s.LastLine)
		}
	}
	return Truncate(line, width)
}

// Bytes formats a byte count with a decimal unit: "512 B", "7.9 kB", "1.2 GB".
func Bytes(n int64) string {
	const unit = 1000
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	v, i := float64(n)/unit, 0
	for v >= unit && i < 4 {
		v /= unit
		i++
	}
	return fmt.Sprintf("%.1f %cB", v, "kMGTP"[i])
}

// Truncate shortens s to width characters, ending it with "…" when it
// was cut; a width of zero or less leaves s as it is.
func Truncate(s string, width int) string {
	if width <= 0 {
		return s
	}
	r := []rune(s)
	if len(r) <= width {
		return s
	}
	if width == 1 {
		return "…"
	}
	return string(r[:width-1]) + "…"
}
