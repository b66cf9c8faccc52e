package envup

import (
	"context"
	"fmt"
	"io"
	"runtime"

	"github.com/berthvm/berth/internal/teamenv"
)

// Plan is what up would do, per machine.
type Plan struct {
	Machines []MachinePlan `json:"machines"`
}

// MachinePlan is one machine's part of a Plan.
type MachinePlan struct {
	Name     string           `json:"machine"`
	Changes  []teamenv.Change `json:"changes,omitempty"`
	Services []ServiceChange  `json:"services,omitempty"`
	// Note says why services are not listed (the machine is not running).
	Note  string `json:"note,omitempty"`
	Error string `json:"error,omitempty"`
}

// Empty says that up has nothing to do.
func (p Plan) Empty() bool {
	for _, m := range p.Machines {
		if len(m.Changes) > 0 || len(m.Services) > 0 || m.Error != "" || m.Note != "" {
			return false
		}
	}
	return true
}

// MakePlan works out what up would do for the named machines (all when
// empty). It changes nothing; machines run on are asked through their
// host agents, all at once.
func MakePlan(ctx context.Context, env *teamenv.Env, ms Machines, svc Services, names []string) (Plan, error) {
	names, err := selectMachines(env, names)
	if err != nil {
		return Plan{}, err
	}
	out := make([]MachinePlan, len(names))
	done := make(chan struct{}, len(names))
	for i, n := range names {
		go func() {
			defer func() { done <- struct{}{} }()
			out[i] = planMachine(ctx, env, ms, svc, env.Machines[n])
		}()
	}
	for range names {
		<-done
	}
	return Plan{Machines: out}, nil
}

func planMachine(ctx context.Context, env *teamenv.Env, ms Machines, svc Services, m *teamenv.Machine) MachinePlan {
	mp := MachinePlan{Name: m.Name}
	p, err := LoadProject(ctx, env, svc, m)
	if err != nil {
		mp.Error = err.Error()
		return mp
	}
	have, err := ms.load(m.FullName)
	if err != nil {
		mp.Error = err.Error()
		return mp
	}
	if have != nil && have.Labels[teamenv.LabelEnv] != env.Name {
		mp.Error = fmt.Sprintf("machine %s exists but is not part of environment %s", m.FullName, env.Name)
		return mp
	}
	isRunning := have != nil && running(ctx, have)
	mp.Changes = teamenv.MachinePlan(m, have, isRunning)
	if !isRunning {
		for name := range p.Services {
			mp.Services = append(mp.Services, ServiceChange{Action: "create", Service: name, Reason: "machine not running"})
		}
		sortChanges(mp.Services)
		return mp
	}
	a, closeAPI, err := api(ctx, have)
	if err != nil {
		mp.Error = err.Error()
		return mp
	}
	defer closeAPI()
	sc, err := svc.Plan(ctx, a, p)
	if err != nil {
		mp.Error = err.Error()
		return mp
	}
	mp.Services = sc
	return mp
}

func sortChanges(s []ServiceChange) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j].Service < s[j-1].Service; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}

// Print writes p as a diff: "+" to create, "~" to change, "-" to remove.
func (p Plan) Print(w io.Writer) {
	if p.Empty() {
		fmt.Fprintln(w, "Nothing to do: the environment matches its file.")
		return
	}
	for _, m := range p.Machines {
		if len(m.Changes) == 0 && len(m.Services) == 0 && m.Error == "" {
			fmt.Fprintf(w, "  %s: up to date\n", m.Name)
			continue
		}
		fmt.Fprintf(w, "machine %s:\n", m.Name)
		if m.Error != "" {
			fmt.Fprintf(w, "  ! %s\n", m.Error)
		}
		for _, c := range m.Changes {
			sign := "~"
			if c.Action == teamenv.ActCreate {
				sign = "+"
			}
			if c.Setting == "" {
				fmt.Fprintf(w, "  %s machine %s\n", sign, c.Action)
				continue
			}
			fmt.Fprintf(w, "  %s %s: %s -> %s (%s)", sign, c.Setting, c.From, c.To, c.Action)
			if c.Note != "" {
				fmt.Fprintf(w, ": %s", c.Note)
			}
			fmt.Fprintln(w)
		}
		for _, s := range m.Services {
			sign := map[string]string{"create": "+", "remove": "-"}[s.Action]
			if sign == "" {
				sign = "~"
			}
			fmt.Fprintf(w, "  %s service %s: %s", sign, s.Service, s.Action)
			if s.Reason != "" {
				fmt.Fprintf(w, " (%s)", s.Reason)
			}
			fmt.Fprintln(w)
		}
	}
}

// Arch is the architecture of the machines this computer runs.
func Arch() string { return runtime.GOARCH }
