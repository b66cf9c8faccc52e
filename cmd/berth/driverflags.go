package main

import (
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/berthvm/berth/drivers"
)

// driverFlags turns every registered driver's create flags into CLI flags,
// each also read from its environment variable.
func driverFlags() []cli.Flag {
	var out []cli.Flag
	for _, name := range drivers.Names() {
		r, _ := drivers.Lookup(name)
		for _, f := range r.Flags {
			out = append(out, cliFlag(name, f))
		}
	}
	return out
}

func cliFlag(driver string, f drivers.Flag) cli.Flag {
	// urfave/cli reads `x` in a usage as the value's placeholder.
	usage := strings.ReplaceAll(f.Usage, "`", "'")
	env := []string{f.EnvVar}
	cat := "driver " + driver
	switch f.Kind {
	case drivers.FlagInt:
		v, _ := f.Default.(int)
		return &cli.IntFlag{Name: f.Name, Usage: usage, EnvVars: env, Value: v, Category: cat}
	case drivers.FlagBool:
		v, _ := f.Default.(bool)
		return &cli.BoolFlag{Name: f.Name, Usage: usage, EnvVars: env, Value: v, Category: cat}
	case drivers.FlagStringSlice:
		v, _ := f.Default.([]string)
		return &cli.StringSliceFlag{Name: f.Name, Usage: usage, EnvVars: env, Value: cli.NewStringSlice(v...), Category: cat}
	default:
		v, _ := f.Default.(string)
		return &cli.StringFlag{Name: f.Name, Usage: usage, EnvVars: env, Value: v, Category: cat}
	}
}

// flagValues gives a driver its flags' values from the command line.
type flagValues struct{ c *cli.Context }

func (v flagValues) String(name string) string        { return v.c.String(name) }
func (v flagValues) Int(name string) int              { return v.c.Int(name) }
func (v flagValues) Bool(name string) bool            { return v.c.Bool(name) }
func (v flagValues) StringSlice(name string) []string { return v.c.StringSlice(name) }
func (v flagValues) IsSet(name string) bool           { return v.c.IsSet(name) }
