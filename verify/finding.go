// Package verify checks that an image and a GPU host fit together: static
// checks of an image (config, NVIDIA environment, entrypoint, layers, CUDA
// libraries present, host driver libraries absent), a probe of the host
// through NVML, and the compatibility verdict between the two (the
// NVIDIA_REQUIRE_* constraints as the container toolkit evaluates them,
// the CUDA version against the driver, and the GPUs' compute capabilities
// against what the image was compiled for). It never prints; cli/ does.
package verify

import "fmt"

// Severity of a finding.
type Severity int

const (
	Info Severity = iota
	Warning
	Error
)

func (s Severity) String() string {
	switch s {
	case Info:
		return "info"
	case Warning:
		return "warning"
	}
	return "error"
}

// MarshalText renders the severity as its name in JSON.
func (s Severity) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// Finding is one result of a check. Message says what is wrong in plain
// words; Hint says what would fix it.
type Finding struct {
	Severity Severity `json:"severity"`
	Check    string   `json:"check"`
	Message  string   `json:"message"`
	Hint     string   `json:"hint,omitempty"`
	// GPUs are the device indices a verdict finding is about; empty when
	// the finding concerns the image or the host as a whole.
	GPUs []int `json:"gpus,omitempty"`
}

func (f Finding) String() string {
	return fmt.Sprintf("%s [%s] %s", f.Severity, f.Check, f.Message)
}

// Findings is a list of findings.
type Findings []Finding

// Worst is the highest severity present (Info for an empty list).
func (fs Findings) Worst() Severity {
	w := Info
	for _, f := range fs {
		if f.Severity > w {
			w = f.Severity
		}
	}
	return w
}

// Has reports whether a finding with the given check id is present.
func (fs Findings) Has(check string) bool {
	for _, f := range fs {
		if f.Check == check {
			return true
		}
	}
	return false
}

// ByCheck returns the findings of one check.
func (fs Findings) ByCheck(check string) Findings {
	var out Findings
	for _, f := range fs {
		if f.Check == check {
			out = append(out, f)
		}
	}
	return out
}

func errorf(check, hint, format string, args ...any) Finding {
	return Finding{Severity: Error, Check: check, Message: fmt.Sprintf(format, args...), Hint: hint}
}

func warnf(check, hint, format string, args ...any) Finding {
	return Finding{Severity: Warning, Check: check, Message: fmt.Sprintf(format, args...), Hint: hint}
}

func infof(check, hint, format string, args ...any) Finding {
	return Finding{Severity: Info, Check: check, Message: fmt.Sprintf(format, args...), Hint: hint}
}
