package build

import (
	"bytes"
	"errors"
	"fmt"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
)

// maxDockerfile bounds the Dockerfile's size.
const maxDockerfile = 4 << 20

// dockerfile is a parsed Dockerfile.
type dockerfile struct {
	name     string
	stages   []instructions.Stage
	metaArgs []instructions.ArgCommand
	escape   rune
}

// parseDockerfile parses src (the file called name) with BuildKit's
// parser; an error names the file and the line.
func parseDockerfile(name string, src []byte) (*dockerfile, error) {
	res, err := parser.Parse(bytes.NewReader(src))
	if err != nil {
		return nil, locate(name, err)
	}
	stages, metaArgs, err := instructions.Parse(res.AST, nil)
	if err != nil {
		return nil, locate(name, err)
	}
	if len(stages) == 0 {
		return nil, badRequest("%s: no FROM instruction: a Dockerfile starts with FROM (after ARGs)", name)
	}
	return &dockerfile{name: name, stages: stages, metaArgs: metaArgs, escape: res.EscapeToken}, nil
}

// locate turns a parser error into one that names the file and line.
func locate(name string, err error) error {
	msg := err.Error()
	var le *parser.LocationError
	if errors.As(err, &le) && len(le.Locations) > 0 && len(le.Locations[0]) > 0 {
		line := le.Locations[0][0].Start.Line
		return badRequest("%s:%d: %s", name, line, cleanParseMessage(msg))
	}
	return badRequest("%s: %s", name, cleanParseMessage(msg))
}

// cleanParseMessage drops the parser's own location prefix.
func cleanParseMessage(msg string) string {
	msg = strings.TrimPrefix(msg, "dockerfile parse error on ")
	if i := strings.Index(msg, ": "); i >= 0 && strings.HasPrefix(msg, "line ") {
		msg = msg[i+2:]
	}
	return msg
}

// stageIndex finds the stage called name (case-insensitive).
func (d *dockerfile) stageIndex(name string) (int, bool) {
	return instructions.HasStage(d.stages, name)
}

// target returns the index of the last stage to build.
func (d *dockerfile) target(name string) (int, error) {
	if name == "" {
		return len(d.stages) - 1, nil
	}
	i, ok := d.stageIndex(name)
	if !ok {
		var names []string
		for _, s := range d.stages {
			if s.Name != "" {
				names = append(names, s.Name)
			}
		}
		return 0, badRequest("target stage %q could not be found in %s (stages: %s)", name, d.name, strings.Join(names, ", "))
	}
	return i, nil
}

// lineOf is the first line of a command, for error messages.
func lineOf(c instructions.Command) int {
	if loc := c.Location(); len(loc) > 0 {
		return loc[0].Start.Line
	}
	return 0
}

// text is a command as written (its first line), for "Step N/M : ...".
func text(c instructions.Command) string {
	if s, ok := c.(fmt.Stringer); ok {
		return s.String()
	}
	return c.Name()
}
