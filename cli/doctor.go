package cli

import (
	"encoding/json"
	"fmt"
	"io"

	"github.com/urfave/cli/v2"

	"github.com/nix2gpu/nix2gpu/diag"
	"github.com/nix2gpu/nix2gpu/doctor"
)

func doctorCommand(env *Env) *cli.Command {
	return &cli.Command{
		Name:  "doctor",
		Usage: "report on nix, GPU, container runtime and registry credentials",
		Description: `Checks this machine for what nix2gpu and its images need: Nix and the
nix-command/flakes features, the NVIDIA driver and GPUs, the NVIDIA
container runtime or CDI specs, docker or podman, and registry credentials
(registry names only; secrets are never shown). Each line is ok, warn or
fail with a hint. Exits 3 when a check fails, 0 otherwise.

Examples:
   nix2gpu doctor
   nix2gpu doctor --format json | jq '.checks[] | select(.status != "ok")'`,
		Flags: OutputFlags(),
		Action: func(c *cli.Context) error {
			out, err := outputOf(c, env)
			if err != nil {
				return err
			}
			getenv := env.Getenv
			if getenv == nil {
				getenv = func(string) string { return "" }
			}
			report := doctor.Run(c.Context, doctor.Host(getenv))
			if out.Format == diag.FormatJSON {
				err = writeDoctorJSON(env.Stdout, report)
			} else {
				err = writeDoctorText(env.Stdout, report, out.Color)
			}
			if err != nil {
				return exitf(ExitEnv, "writing the report: %v", err)
			}
			if report.Failed() {
				return exitf(ExitEnv, "%d environment check(s) failed", countStatus(report, doctor.Fail))
			}
			return nil
		},
	}
}

func countStatus(r doctor.Report, s doctor.Status) int {
	n := 0
	for _, c := range r.Checks {
		if c.Status == s {
			n++
		}
	}
	return n
}

func writeDoctorJSON(w io.Writer, r doctor.Report) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(struct {
		OK     bool           `json:"ok"`
		Checks []doctor.Check `json:"checks"`
	}{!r.Failed(), r.Checks})
}

// writeDoctorText prints one aligned line per check and its hint below it:
//
//	ok    nix                   nix (Nix) 2.24.9
//	warn  gpu                   no NVIDIA driver: libnvidia-ml.so.1 not found
//	                            hint: fine for compiling, building and pushing; …
func writeDoctorText(w io.Writer, r doctor.Report, color bool) error {
	const nameWidth = 21
	for _, c := range r.Checks {
		status := fmt.Sprintf("%-5s", c.Status)
		if color {
			status = statusColor(c.Status) + status + "\x1b[0m"
		}
		if _, err := fmt.Fprintf(w, "%s %-*s %s\n", status, nameWidth, c.Name, c.Detail); err != nil {
			return err
		}
		if c.Hint != "" {
			if _, err := fmt.Fprintf(w, "%*s hint: %s\n", 5+1+nameWidth, "", c.Hint); err != nil {
				return err
			}
		}
	}
	return nil
}

func statusColor(s doctor.Status) string {
	switch s {
	case doctor.OK:
		return "\x1b[32m"
	case doctor.Warn:
		return "\x1b[33m"
	default:
		return "\x1b[31m"
	}
}
