package main

import (
	"fmt"
	"io"

	"github.com/urfave/cli/v2"
)

type completionOptions struct {
	Shell string
}

func completionCommand() *cli.Command {
	return &cli.Command{
		Name:      "completion",
		Usage:     "Print a shell completion script",
		ArgsUsage: "bash|zsh|fish",
		Description: `Prints a script that completes berth's commands and flags.

EXAMPLES:
   source <(berth completion bash)
   berth completion zsh > "${fpath[1]}/_berth"
   berth completion fish > ~/.config/fish/completions/berth.fish`,
		Action: func(c *cli.Context) error {
			if c.NArg() != 1 {
				return usagef("completion takes one shell: bash, zsh or fish")
			}
			return runCompletion(c.App, completionOptions{Shell: c.Args().First()}, c.App.Writer)
		},
	}
}

// The bash and zsh scripts ask berth itself for completions through
// urfave/cli's --generate-bash-completion.
const bashCompletion = `# bash completion for berth
_berth() {
  local cur="${COMP_WORDS[COMP_CWORD]}"
  local words=("${COMP_WORDS[@]:0:COMP_CWORD}")
  local opts
  if [[ "$cur" == -* ]]; then
    opts=$("${words[@]}" "$cur" --generate-bash-completion 2>/dev/null)
  else
    opts=$("${words[@]}" --generate-bash-completion 2>/dev/null)
  fi
  COMPREPLY=($(compgen -W "$opts" -- "$cur"))
}
complete -o bashdefault -o default -F _berth berth
`

const zshCompletion = `#compdef berth
_berth() {
  local -a opts
  local cur=${words[CURRENT]}
  if [[ "$cur" == -* ]]; then
    opts=("${(@f)$(${words[@]:0:CURRENT-1} $cur --generate-bash-completion 2>/dev/null)}")
  else
    opts=("${(@f)$(${words[@]:0:CURRENT-1} --generate-bash-completion 2>/dev/null)}")
  fi
  _describe 'berth' opts
}
compdef _berth berth
`

func runCompletion(app *cli.App, opts completionOptions, w io.Writer) error {
	var script string
	switch opts.Shell {
	case "bash":
		script = bashCompletion
	case "zsh":
		script = zshCompletion
	case "fish":
		s, err := app.ToFishCompletion()
		if err != nil {
			return fmt.Errorf("fish completion: %w", err)
		}
		script = s
	default:
		return usagef("unknown shell %q: want bash, zsh or fish", opts.Shell)
	}
	_, err := io.WriteString(w, script)
	return err
}
