package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"text/template"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/berthvm/berth/drivers"
	"github.com/berthvm/berth/internal/hostagent"
	"github.com/berthvm/berth/internal/machine"
	"github.com/berthvm/berth/internal/teamenv"
)

type lsOptions struct {
	Format  string
	Filters []string
	Quiet   bool
	Timeout time.Duration
}

const lsDefaultFormat = "table {{.Name}}\t{{.Active}}\t{{.DriverName}}\t{{.State}}\t{{.URL}}\t{{.Agent}}\t{{.OS}}\t{{.Error}}"

// lsRow is one line of ls. Every field is a string so that the header is
// the same template run on lsHeader.
type lsRow struct {
	Name       string
	Active     string // "*" for the active machine, else "-"
	DriverName string
	State      string
	URL        string // the host agent's Docker endpoint, else ssh://USER@HOST:PORT, of a running machine
	Agent      string
	// OS is the berth-os version the machine boots (from its ISO, without
	// asking the machine), with "(upgrade to vX)" when this berth brings
	// a newer one; empty for machines that run their own OS (generic).
	OS     string
	Error  string
	Labels string // k=v,k=v

	labels map[string]string
}

var lsHeader = lsRow{Name: "NAME", Active: "ACTIVE", DriverName: "DRIVER", State: "STATE", URL: "URL", Agent: "AGENT", OS: "OS", Error: "ERRORS", Labels: "LABELS"}

func lsCommand() *cli.Command {
	return &cli.Command{
		Name:    "ls",
		Aliases: []string{"list"},
		Usage:   "List machines",
		Description: `Lists every machine with its state. Machines are asked in parallel; one
that does not answer within --timeout shows Timeout, one that is broken
shows Error with the reason. ls itself does not fail because of them.
URL is a running machine's Docker endpoint on this computer (its host
agent's socket, what ` + "`berth env`" + ` sets DOCKER_HOST to); AGENT is the
version of its agent, as the host agent last saw it, so that ls opens no
SSH connection. Without a host agent, URL is the machine's SSH address
and ls asks the agent itself. OS is the version of berth-os the machine
boots, read from its ISO (a stopped machine tells it too), followed by
"(upgrade to vX)" when this berth brings a newer one (` + "`berth upgrade`" + `
moves the machine to it); empty for generic hosts, which run their own OS.

--format takes a Go template over the fields .Name .Active .DriverName
.State .URL .Agent .OS .Error .Labels; a "table " prefix aligns columns and
prints a header.

--filter KEY=VALUE keeps matching machines: driver=NAME, state=Running,
name=REGEXP, label=KEY or label=KEY=VALUE. Repeat it: values of the same
key are alternatives, different keys must all match.

EXAMPLES:
   berth ls
   berth ls --filter state=Running --filter driver=qemu
   berth ls --filter name='^web' -q
   berth ls --format 'table {{.Name}}\t{{.State}}'
   berth ls --format '{{.Name}} {{.URL}}'`,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "format", Aliases: []string{"f"}, Usage: "a Go template for each machine (see above)"},
			&cli.StringSliceFlag{Name: "filter", Usage: "keep machines matching KEY=VALUE (see above); repeatable"},
			&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "print only machine names"},
			&cli.DurationFlag{Name: "timeout", Aliases: []string{"t"}, Value: 10 * time.Second, Usage: "how long to wait for each machine's driver"},
		},
		Action: func(c *cli.Context) error {
			d, err := depsFrom(c)
			if err != nil {
				return err
			}
			if c.NArg() > 0 {
				return usagef("ls takes no arguments; filter with --filter name=REGEXP")
			}
			return runLs(c.Context, lsOptions{
				Format:  c.String("format"),
				Filters: c.StringSlice("filter"),
				Quiet:   c.Bool("quiet"),
				Timeout: c.Duration("timeout"),
			}, d)
		},
	}
}

func runLs(ctx context.Context, opts lsOptions, d *deps) error {
	f, err := parseFilters(opts.Filters)
	if err != nil {
		return err
	}
	format := opts.Format
	if format == "" {
		format = lsDefaultFormat
	}
	tmpl, table, err := parseFormat("ls", format)
	if err != nil {
		return err
	}
	if opts.Timeout <= 0 {
		opts.Timeout = 10 * time.Second
	}
	names, err := d.store.Names()
	if err != nil {
		return err
	}
	active, _ := d.targetMachine("")
	// Asking each agent costs an SSH connection per machine: only when the
	// output shows the AGENT column.
	withAgent := !opts.Quiet && showsAgent(tmpl)

	var rows []lsRow
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, name := range names {
		if !f.matchName(name) {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			r, ok := lsQuery(ctx, d, name, f, opts.Timeout, withAgent)
			if !ok {
				return
			}
			if name == active {
				r.Active = "*"
			}
			mu.Lock()
			rows = append(rows, r)
			mu.Unlock()
		}()
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return err
	}
	sort.Slice(rows, func(i, j int) bool { return rows[i].Name < rows[j].Name })

	if opts.Quiet {
		for _, r := range rows {
			fmt.Fprintln(d.stdout, r.Name)
		}
		return nil
	}
	return printLs(d.stdout, format, table, rows)
}

// printLs prints the rows through printRows, whole or not at all (a
// template that fails on a later row prints nothing), and without the
// spaces tabwriter pads empty last columns of a table with.
func printLs(w io.Writer, format string, table bool, rows []lsRow) error {
	var buf bytes.Buffer
	if err := printRows(&buf, "ls", format, lsHeader, rows); err != nil {
		return err
	}
	out := buf.String()
	if table {
		var b strings.Builder
		for line := range strings.Lines(out) {
			b.WriteString(strings.TrimRight(line, " \n") + "\n")
		}
		out = b.String()
	}
	_, err := io.WriteString(w, out)
	return err
}

// lsQuery makes the row of one machine; ok is false when a filter drops it.
// It returns within timeout even when the driver or the agent ignores its
// context: a silent driver makes the row Timeout, a silent agent only the
// AGENT column. The agent is asked only withAgent.
func lsQuery(ctx context.Context, d *deps, name string, f lsFilter, timeout time.Duration, withAgent bool) (r lsRow, ok bool) {
	r = lsRow{Name: name, Active: "-"}
	m, err := d.store.Load(name)
	if err != nil {
		r.State, r.Error = drivers.StateError.String(), firstLine(err.Error())
		return r, f.match(r)
	}
	r.DriverName, r.labels, r.Error = m.DriverName, m.Labels, firstLine(m.Error)
	r.OS = lsGuestOS(d, m)
	r.Labels = joinLabels(m.Labels)
	if drift := teamenv.Drift(m, bestDriver()); drift != "" {
		r.Error = joinErrors(r.Error, drift)
	}
	if !f.matchStored(r) {
		return r, false
	}

	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	stored := r // the goroutine gets its own copy
	live, answered := await(ctx, func() lsRow { return lsDriver(ctx, m, stored) })
	if !answered {
		r.State = drivers.StateTimeout.String()
		r.Error = joinErrors(r.Error, fmt.Sprintf("the %s driver did not answer within %s", m.DriverName, timeout))
		return r, f.match(r)
	}
	r = live
	if r.State == drivers.StateRunning.String() {
		// A running host agent knows the agent's status and serves the
		// Docker API: ls asks the machine nothing more.
		if st, err := hostagent.ReadStatus(m.Dir); err == nil {
			r.URL = st.Endpoint
			if st.Agent != "" {
				r.Agent = firstLine(st.Agent)
				if st.State != hostagent.StateReady {
					r.Agent = joinErrors(r.Agent, "reconnecting")
				}
				return r, f.match(r)
			}
			// A host agent that has not reached the agent yet knows
			// nothing of it: ask as without one.
		}
	}
	if withAgent && r.State == drivers.StateRunning.String() && d.agentStatus != nil {
		agent, answered := await(ctx, func() string { return d.agentStatus(ctx, m) })
		if !answered {
			agent = "Timeout"
		}
		r.Agent = firstLine(agent)
	}
	return r, f.match(r)
}

// lsGuestOS is the OS column of m: its berth-os version, and the newer
// one this berth brings.
func lsGuestOS(d *deps, m *machine.Machine) string {
	g, boots, err := m.GuestOS()
	if !boots || err != nil {
		return ""
	}
	if want := d.berthOS(g.Arch); g.Outdated(want) {
		return fmt.Sprintf("%s (upgrade to %s)", g, want)
	}
	return g.String()
}

// showsAgent reports whether the ls template prints the AGENT column: it
// renders two rows that differ only there.
func showsAgent(tmpl *template.Template) bool {
	var a, b bytes.Buffer
	errA := execFormat(tmpl, &a, lsHeader)
	probe := lsHeader
	probe.Agent = "agent-probe"
	errB := execFormat(tmpl, &b, probe)
	return errA != nil || errB != nil || a.String() != b.String()
}

// await returns f's result, or false when ctx ends first. f keeps running
// then, and its result is dropped.
func await[T any](ctx context.Context, f func() T) (T, bool) {
	done := make(chan T, 1) // buffered: a late f must not block forever
	go func() { done <- f() }()
	select {
	case v := <-done:
		return v, true
	case <-ctx.Done():
		var zero T
		return zero, false
	}
}

// lsDriver fills in what the driver says about a machine.
func lsDriver(ctx context.Context, m *machine.Machine, r lsRow) lsRow {
	st, err := m.Driver.State(ctx)
	r.State = st.String()
	if err != nil {
		r.State = drivers.StateError.String()
		r.Error = joinErrors(r.Error, firstLine(err.Error()))
		return r
	}
	if st != drivers.StateRunning {
		return r
	}
	if ep, err := m.Driver.SSHEndpoint(ctx); err != nil {
		r.Error = joinErrors(r.Error, firstLine(err.Error()))
	} else {
		r.URL = sshURL(ep)
	}
	return r
}

// firstLine keeps a table row one line high.
func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

func sshURL(ep drivers.Endpoint) string {
	hostPort := net.JoinHostPort(ep.Host, strconv.Itoa(ep.Port))
	if ep.User == "" {
		return "ssh://" + hostPort
	}
	return "ssh://" + ep.User + "@" + hostPort
}

func joinErrors(a, b string) string {
	if a == "" {
		return b
	}
	return a + "; " + b
}

func joinLabels(l map[string]string) string {
	var out []string
	for k, v := range l {
		out = append(out, k+"="+v)
	}
	sort.Strings(out)
	return strings.Join(out, ",")
}

// lsFilter is the parsed --filter flags: per key, the accepted values.
type lsFilter struct {
	driver, state []string
	name          []*regexp.Regexp
	label         []string // KEY or KEY=VALUE
}

func parseFilters(in []string) (lsFilter, error) {
	var f lsFilter
	for _, s := range in {
		k, v, ok := strings.Cut(s, "=")
		if !ok || v == "" {
			return f, usagef("bad --filter %q: want KEY=VALUE with KEY driver, state, name or label", s)
		}
		switch k {
		case "driver":
			f.driver = append(f.driver, v)
		case "state":
			f.state = append(f.state, v)
		case "name":
			re, err := regexp.Compile(v)
			if err != nil {
				return f, usagef("bad --filter %q: %w", s, err)
			}
			f.name = append(f.name, re)
		case "label":
			f.label = append(f.label, v)
		default:
			return f, usagef("bad --filter %q: unknown key %q (want driver, state, name or label)", s, k)
		}
	}
	return f, nil
}

func (f lsFilter) matchName(name string) bool {
	if len(f.name) == 0 {
		return true
	}
	for _, re := range f.name {
		if re.MatchString(name) {
			return true
		}
	}
	return false
}

// matchStored checks the filters that need only config.json.
func (f lsFilter) matchStored(r lsRow) bool {
	return matchAny(f.driver, func(v string) bool { return v == r.DriverName }) &&
		matchAny(f.label, func(v string) bool {
			k, val, hasVal := strings.Cut(v, "=")
			got, ok := r.labels[k]
			return ok && (!hasVal || got == val)
		})
}

// match checks every filter.
func (f lsFilter) match(r lsRow) bool {
	return f.matchStored(r) && matchAny(f.state, func(v string) bool { return strings.EqualFold(v, r.State) })
}

// matchAny is true when want is empty or one of its values matches.
func matchAny(want []string, match func(string) bool) bool {
	if len(want) == 0 {
		return true
	}
	for _, v := range want {
		if match(v) {
			return true
		}
	}
	return false
}
