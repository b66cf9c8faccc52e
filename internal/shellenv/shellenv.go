// Package shellenv writes environment settings as the commands of a
// user's shell, the way `docker-machine env` prints them.
package shellenv

import (
	"fmt"
	"io"
	"path/filepath"
	"strings"
)

// Shells are the shells Write knows.
var Shells = []string{"bash", "zsh", "sh", "fish", "powershell", "cmd", "tcsh", "emacs"}

// Var is one variable: set to Value, or unset when Unset.
type Var struct {
	Name  string
	Value string
	Unset bool
}

// Detect picks the user's shell from getenv: $SHELL's base name on Unix;
// on Windows (goos), PowerShell when PSModulePath lists its modules, else
// cmd.
func Detect(goos string, getenv func(string) string) string {
	if sh := getenv("SHELL"); sh != "" {
		name := strings.TrimSuffix(filepath.Base(strings.ReplaceAll(sh, `\`, "/")), ".exe")
		switch name {
		case "csh":
			return "tcsh"
		case "pwsh":
			return "powershell"
		}
		for _, s := range Shells {
			if s == name {
				return s
			}
		}
		if goos != "windows" {
			return "sh"
		}
	}
	if goos == "windows" {
		if len(strings.Split(getenv("PSModulePath"), ";")) >= 3 {
			return "powershell"
		}
		return "cmd"
	}
	return "sh"
}

// Valid reports whether Write knows shell.
func Valid(shell string) bool {
	for _, s := range Shells {
		if s == shell {
			return true
		}
	}
	return false
}

// Write writes vars as shell commands, then the shell's comment telling
// the user to run hint (the command line that printed them) through the
// shell.
func Write(w io.Writer, shell string, vars []Var, hint string) error {
	s, ok := syntaxes[shell]
	if !ok {
		return fmt.Errorf("unknown shell %q: use one of %s", shell, strings.Join(Shells, ", "))
	}
	var b strings.Builder
	for _, v := range vars {
		if v.Unset {
			b.WriteString(s.unset(v.Name))
		} else {
			b.WriteString(s.set(v.Name, v.Value))
		}
		b.WriteByte('\n')
	}
	b.WriteString(s.comment + " Run this command to configure your shell:\n")
	b.WriteString(s.comment + " " + s.run(hint) + "\n")
	_, err := io.WriteString(w, b.String())
	return err
}

type syntax struct {
	set     func(name, value string) string
	unset   func(name string) string
	comment string
	run     func(cmd string) string
}

func posixQuote(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`, `$`, `\$`, "`", "\\`").Replace(s) + `"`
}

var posix = syntax{
	set:     func(n, v string) string { return "export " + n + "=" + posixQuote(v) },
	unset:   func(n string) string { return "unset " + n },
	comment: "#",
	run:     func(c string) string { return "eval $(" + c + ")" },
}

var syntaxes = map[string]syntax{
	"bash": posix,
	"zsh":  posix,
	"sh":   posix,
	"fish": {
		set:     func(n, v string) string { return "set -gx " + n + " " + posixQuote(v) + ";" },
		unset:   func(n string) string { return "set -e " + n + ";" },
		comment: "#",
		run:     func(c string) string { return "eval (" + c + ")" },
	},
	"tcsh": {
		set:     func(n, v string) string { return "setenv " + n + " " + posixQuote(v) + ";" },
		unset:   func(n string) string { return "unsetenv " + n + ";" },
		comment: "#",
		run:     func(c string) string { return "eval `" + c + "`" },
	},
	"powershell": {
		set:     func(n, v string) string { return "$Env:" + n + " = \"" + strings.ReplaceAll(v, "`", "``") + "\"" },
		unset:   func(n string) string { return `Remove-Item Env:\` + n },
		comment: "#",
		run:     func(c string) string { return "& " + c + " | Invoke-Expression" },
	},
	"cmd": {
		set:     func(n, v string) string { return "SET " + n + "=" + v },
		unset:   func(n string) string { return "SET " + n + "=" },
		comment: "REM",
		run:     func(c string) string { return "\t@FOR /f \"tokens=*\" %i IN ('" + c + "') DO @%i" },
	},
	"emacs": {
		set:     func(n, v string) string { return "(setenv \"" + n + "\" " + posixQuote(v) + ")" },
		unset:   func(n string) string { return "(setenv \"" + n + "\" nil)" },
		comment: ";;",
		run: func(c string) string {
			return "(with-temp-buffer (shell-command \"" + c + "\" (current-buffer)) (eval-buffer))"
		},
	},
}
