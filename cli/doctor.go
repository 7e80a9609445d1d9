package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"os"

	"github.com/urfave/cli/v2"

	"github.com/nix2gpu/nix2gpu/diag"
	"github.com/nix2gpu/nix2gpu/doctor"
)

func doctorCommand(env *Env) *cli.Command {
	return &cli.Command{
		Name:      "doctor",
		Usage:     "report on nix, GPU, container runtime and registry credentials",
		ArgsUsage: "[FILE]",
		Description: `Checks this machine for what nix2gpu and its images need: Nix and the
nix-command/flakes features, the NVIDIA driver and GPUs, the NVIDIA
container runtime or CDI specs, docker or podman, and registry credentials
(registry names only; secrets are never shown). When FILE (default:
nix2gpu.yaml, if present) is valid, every registry it pushes to gets a line
saying whether credentials for it were found. Each line is ok, warn or
fail with a hint. Exits 3 when a check fails, 0 otherwise.

Examples:
   nix2gpu doctor
   nix2gpu doctor deploy/nix2gpu.yaml
   nix2gpu doctor --format json | jq '.checks[] | select(.status != "ok")'`,
		Flags: OutputFlags(),
		Action: func(c *cli.Context) error {
			out, err := outputOf(c, env)
			if err != nil {
				return err
			}
			getenv := env.Getenv
			if c.NArg() > 1 {
				return exitf(ExitUsage, "doctor takes at most one FILE, got %d arguments", c.NArg())
			}
			host := doctor.Host(getenv)
			project := doctorProject(env, c.Args().First())
			if project != nil {
				host.Registries = project.registries
			}
			report := doctor.Run(c.Context, host)
			if project != nil {
				report.Checks = append(report.Checks, project.check)
			}
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

// doctorProjectInfo is what doctor takes from the project file.
type doctorProjectInfo struct {
	check      doctor.Check
	registries []string
}

// doctorProject loads FILE, or nix2gpu.yaml when it exists, for the
// registries it pushes to. Without a file doctor only checks the machine.
func doctorProject(env *Env, file string) *doctorProjectInfo {
	path, display := configPath(env, file)
	if file == "" {
		if _, err := os.Stat(path); err != nil {
			return nil
		}
	}
	p, _, ds := loadProject(env, file)
	info := &doctorProjectInfo{check: doctor.Check{Name: "project"}}
	if p == nil || ds.HasErrors() {
		info.check.Status = doctor.Warn
		info.check.Detail = fmt.Sprintf("%s has errors; its registries were not checked", display)
		info.check.Hint = "run nix2gpu validate " + file
		if file == "" {
			info.check.Hint = "run nix2gpu validate"
		}
		return info
	}
	for _, ct := range p.Containers {
		info.registries = append(info.registries, ct.Registries...)
	}
	info.check.Status = doctor.OK
	info.check.Detail = fmt.Sprintf("%s: %d container(s), %d registry reference(s)", display, len(p.Containers), len(info.registries))
	return info
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
