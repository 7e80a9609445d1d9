package cli

import (
	"fmt"

	"github.com/urfave/cli/v2"
)

// The bash and zsh scripts ask nix2gpu itself for candidates: urfave/cli
// answers `nix2gpu ARGS... --generate-bash-completion` with the commands
// or flags that may follow ARGS, one per line. When it has nothing to
// offer (a FILE argument), the shell completes file names.
const bashCompletion = `# bash completion for nix2gpu
# Load it now:        source <(nix2gpu completion bash)
# Or for every shell: nix2gpu completion bash > ~/.local/share/bash-completion/completions/nix2gpu
_nix2gpu_complete() {
	local cur="${COMP_WORDS[COMP_CWORD]}"
	local -a args=("${COMP_WORDS[@]:1:COMP_CWORD-1}")
	# A word that starts with a dash asks for flags.
	if [[ "$cur" == -* ]]; then
		args+=("$cur")
	fi
	local IFS=$'\n'
	local candidates
	candidates=$("${COMP_WORDS[0]}" "${args[@]}" --generate-bash-completion 2>/dev/null)
	COMPREPLY=($(compgen -W "$candidates" -- "$cur"))
}
complete -o bashdefault -o default -F _nix2gpu_complete nix2gpu
`

const zshCompletion = `#compdef nix2gpu
# zsh completion for nix2gpu
# Load it now:        source <(nix2gpu completion zsh)
# Or install it:      nix2gpu completion zsh > "${fpath[1]}/_nix2gpu"
_nix2gpu() {
	local -a candidates args
	args=("${(@)words[2,CURRENT-1]}")
	if [[ "${words[CURRENT]}" == -* ]]; then
		args+=("${words[CURRENT]}")
	fi
	# With this variable set urfave/cli prints "name:description" pairs.
	candidates=("${(@f)$(_CLI_ZSH_AUTOCOMPLETE_HACK=1 ${words[1]} "${(@)args}" --generate-bash-completion 2>/dev/null)}")
	if [[ -n "${candidates[1]}" ]]; then
		_describe 'nix2gpu' candidates
	else
		_files
	fi
}
if [[ "$funcstack[1]" == "_nix2gpu" ]]; then
	_nix2gpu "$@"
else
	compdef _nix2gpu nix2gpu
fi
`

var completionShells = []string{"bash", "zsh", "fish"}

func completionCommand(env *Env) *cli.Command {
	return &cli.Command{
		Name:      "completion",
		Usage:     "print a shell completion script (bash, zsh or fish)",
		ArgsUsage: "bash|zsh|fish",
		Description: `Prints a script that completes nix2gpu's commands and flags in your shell.

Examples:
   source <(nix2gpu completion bash)
   nix2gpu completion zsh > "${fpath[1]}/_nix2gpu"
   nix2gpu completion fish > ~/.config/fish/completions/nix2gpu.fish`,
		BashComplete: func(c *cli.Context) {
			if c.NArg() > 0 {
				return
			}
			for _, s := range completionShells {
				fmt.Fprintln(c.App.Writer, s)
			}
		},
		Action: func(c *cli.Context) error {
			if c.NArg() != 1 {
				return exitf(ExitUsage, "completion needs one shell: bash, zsh or fish")
			}
			var script string
			switch shell := c.Args().First(); shell {
			case "bash":
				script = bashCompletion
			case "zsh":
				script = zshCompletion
			case "fish":
				s, err := c.App.ToFishCompletion()
				if err != nil {
					return exitf(ExitEnv, "generating the fish script: %v", err)
				}
				script = s
			default:
				return exitf(ExitUsage, "unknown shell %q (want bash, zsh or fish)", shell)
			}
			_, err := fmt.Fprint(env.Stdout, script)
			return err
		},
	}
}
