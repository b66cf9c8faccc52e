package main

import (
	"io"
	"testing"

	"github.com/urfave/cli/v2"

	"github.com/berthvm/berth/drivers"
)

// TestCLIFlag turns each kind of driver flag into a CLI flag and reads it
// back from the command line, from its environment variable and from its
// default.
func TestCLIFlag(t *testing.T) {
	flags := []drivers.Flag{
		{Name: "t-str", EnvVar: "T_STR", Kind: drivers.FlagString, Default: "def", Usage: "a `path`"},
		{Name: "t-int", EnvVar: "T_INT", Kind: drivers.FlagInt, Default: 7},
		{Name: "t-bool", EnvVar: "T_BOOL", Kind: drivers.FlagBool},
		{Name: "t-list", EnvVar: "T_LIST", Kind: drivers.FlagStringSlice, Default: []string{"a"}},
	}
	tests := []struct {
		name string
		args []string
		env  map[string]string
		want func(v drivers.FlagValues) bool
	}{
		{"defaults", nil, nil, func(v drivers.FlagValues) bool {
			return v.String("t-str") == "def" && v.Int("t-int") == 7 && !v.Bool("t-bool") && len(v.StringSlice("t-list")) == 1 && !v.IsSet("t-int")
		}},
		{"args", []string{"--t-str", "x", "--t-int", "9", "--t-bool", "--t-list", "b", "--t-list", "c"}, nil, func(v drivers.FlagValues) bool {
			l := v.StringSlice("t-list")
			return v.String("t-str") == "x" && v.Int("t-int") == 9 && v.Bool("t-bool") && len(l) == 2 && l[1] == "c" && v.IsSet("t-str")
		}},
		{"env", nil, map[string]string{"T_STR": "e", "T_INT": "3", "T_BOOL": "true"}, func(v drivers.FlagValues) bool {
			return v.String("t-str") == "e" && v.Int("t-int") == 3 && v.Bool("t-bool") && v.IsSet("t-int")
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			var got drivers.FlagValues
			cmd := &cli.Command{Name: "c", Action: func(c *cli.Context) error { got = flagValues{c}; return nil }}
			for _, f := range flags {
				cf := cliFlag("test", f)
				cmd.Flags = append(cmd.Flags, cf)
				if f.Name == "t-str" {
					if u := cf.(*cli.StringFlag).Usage; u != "a 'path'" {
						t.Errorf("usage = %q, want backticks replaced", u)
					}
				}
			}
			app := &cli.App{Commands: []*cli.Command{cmd}, Writer: io.Discard, ErrWriter: io.Discard}
			if err := app.Run(append([]string{"berth", "c"}, tt.args...)); err != nil {
				t.Fatal(err)
			}
			if got == nil || !tt.want(got) {
				t.Errorf("flag values wrong: str %q int %d bool %v list %q", got.String("t-str"), got.Int("t-int"), got.Bool("t-bool"), got.StringSlice("t-list"))
			}
		})
	}
}
