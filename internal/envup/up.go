package envup

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/compose-spec/compose-go/v2/types"

	"github.com/berthvm/berth/internal/machine"
	"github.com/berthvm/berth/internal/teamenv"
)

// UpOptions say what `berth up` does.
type UpOptions struct {
	// Machines are the short names to bring up (with what they depend
	// on); empty means all.
	Machines []string
	// Wait gates on every service running or healthy; WaitTimeout bounds
	// the whole up (0: no bound).
	Wait        bool
	WaitTimeout time.Duration
	// Frozen uses exactly what berth.lock pins.
	Frozen bool
	// Recreate allows removing and creating again a machine whose
	// settings only a new machine can take (driver, a smaller disk).
	Recreate bool
	Progress func(Event)
	// Host is what this computer has (teamenv.ThisHost).
	Host teamenv.Host
	// PortFree says whether a host port is free (teamenv.PortFree); nil
	// checks only berth's own forwards.
	PortFree func(proto string, port int) bool
	// Arch is the machines' architecture for --frozen (runtime.GOARCH).
	Arch string
	// ISOFor returns the berth-os ISO a new machine boots, for
	// --frozen.
	ISOFor func(ctx context.Context, m *teamenv.Machine) (string, error)
	// AgentVersion is the agent version this berth installs.
	AgentVersion string
}

// Report is how each machine and its services ended.
type Report struct {
	Machines []MachineReport
}

// MachineReport is one machine's part of a Report.
type MachineReport struct {
	Name     string          `json:"machine"`
	FullName string          `json:"name"`
	Did      []string        `json:"did,omitempty"`
	Services []ServiceResult `json:"services,omitempty"`
	Error    string          `json:"error,omitempty"`
	err      error
}

// Err joins the failures of every machine, nil when all went well.
func (r Report) Err() error {
	var errs []error
	for _, m := range r.Machines {
		if m.err != nil {
			errs = append(errs, fmt.Errorf("machine %s: %w", m.Name, m.err))
		}
	}
	return errors.Join(errs...)
}

// ErrRefused marks an up refused before anything changed.
var ErrRefused = errors.New("berth up changed nothing")

// Up brings env up. Problems found before anything changes (a compose
// file, host resources, a taken port, a setting only --recreate applies,
// --frozen differences) are returned as an error wrapping ErrRefused with
// an empty report. After that every machine goes on as far as it can,
// and the report says how each ended; Report.Err joins the failures.
func Up(ctx context.Context, env *teamenv.Env, ms Machines, svc Services, opts UpOptions) (Report, error) {
	names, err := selectMachines(env, opts.Machines)
	if err != nil {
		return Report{}, err
	}
	pre, err := prepare(ctx, env, ms, svc, names, opts)
	if err != nil {
		return Report{}, err
	}
	var deadline time.Time
	if opts.WaitTimeout > 0 {
		deadline = time.Now().Add(opts.WaitTimeout)
	}
	rep := &reporter{fn: opts.Progress}
	done := map[string]chan struct{}{}
	ok := map[string]bool{}
	var mu sync.Mutex
	for _, n := range names {
		done[n] = make(chan struct{})
	}
	reports := make([]MachineReport, len(names))
	var wg sync.WaitGroup
	for i, n := range names {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer close(done[n])
			m := env.Machines[n]
			r := MachineReport{Name: n, FullName: m.FullName}
			defer func() {
				if r.err != nil {
					r.Error = r.err.Error()
				}
				reports[i] = r
			}()
			have, did, err := bringMachine(ctx, env, ms, m, pre.have[n], pre.changes[n], rep)
			r.Did = did
			if err != nil {
				r.err = err
				return
			}
			for _, d := range m.DependsOn {
				select {
				case <-done[d]:
				case <-ctx.Done():
					r.err = ctx.Err()
					return
				}
				mu.Lock()
				dok := ok[d]
				mu.Unlock()
				if !dok {
					r.err = fmt.Errorf("its services wait for machine %s, which failed (run berth up again once it is fixed)", d)
					rep.send(Event{Machine: n, Step: "waiting for " + d, Status: "failed", Error: r.err.Error()})
					return
				}
			}
			wait := opts.Wait || dependedOn(env, n)
			var timeout time.Duration
			if !deadline.IsZero() {
				timeout = max(time.Until(deadline), time.Second)
			}
			res, err := convergeServices(ctx, have, svc, pre.projects[n], wait, timeout, func(ev ServiceEvent) { rep.service(n, ev) })
			r.Services = res
			if err == nil {
				for _, s := range res {
					if s.Err != nil {
						err = fmt.Errorf("service %s: %w", s.Name, s.Err)
						break
					}
				}
			}
			if err == nil && opts.Wait {
				end := rep.step(n, "waiting for the host's port forwards")
				err = end(waitForwards(ctx, have, ports(m.FullName, pre.projects[n])))
			}
			r.err = err
			mu.Lock()
			ok[n] = err == nil
			mu.Unlock()
		}()
	}
	wg.Wait()
	return Report{Machines: reports}, nil
}

// selectMachines is the named machines with everything they depend on,
// in dependency order (all when names is empty).
func selectMachines(env *teamenv.Env, names []string) ([]string, error) {
	all := env.Names()
	if len(names) == 0 {
		return all, nil
	}
	want := map[string]bool{}
	var add func(n string)
	add = func(n string) {
		if want[n] {
			return
		}
		want[n] = true
		for _, d := range env.Machines[n].DependsOn {
			add(d)
		}
	}
	for _, n := range names {
		if _, ok := env.Machines[n]; !ok {
			return nil, fmt.Errorf("%w: %s has no machine %q (it has: %s)", ErrRefused, env.File, n, strings.Join(all, ", "))
		}
		add(n)
	}
	var out []string
	for _, n := range all {
		if want[n] {
			out = append(out, n)
		}
	}
	return out, nil
}

func dependedOn(env *teamenv.Env, name string) bool {
	for _, m := range env.Machines {
		if slices.Contains(m.DependsOn, name) {
			return true
		}
	}
	return false
}

// prepared is what up found out before it changed anything.
type prepared struct {
	have     map[string]*machine.Machine
	changes  map[string][]teamenv.Change
	projects map[string]*types.Project
}

// prepare loads the machines' compose projects and stored machines and
// checks everything that can be checked before a change.
func prepare(ctx context.Context, env *teamenv.Env, ms Machines, svc Services, names []string, opts UpOptions) (*prepared, error) {
	pre := &prepared{have: map[string]*machine.Machine{}, changes: map[string][]teamenv.Change{}, projects: map[string]*types.Project{}}
	var errs []error
	if err := teamenv.CheckHost(env, opts.Host, names); err != nil {
		errs = append(errs, err)
	}
	var uses []teamenv.PortUse
	for _, n := range names {
		m := env.Machines[n]
		p, err := LoadProject(ctx, env, svc, m)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		pre.projects[n] = p
		uses = append(uses, ports(m.FullName, p)...)
		have, err := ms.load(m.FullName)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if have != nil && have.Labels[teamenv.LabelEnv] != env.Name {
			errs = append(errs, fmt.Errorf("machine %s exists but is not part of environment %s (berth rm it, or rename the environment with name: in %s)", m.FullName, env.Name, env.File))
			continue
		}
		pre.have[n] = have
		changes := teamenv.MachinePlan(m, have, have != nil && running(ctx, have))
		pre.changes[n] = changes
		for _, c := range changes {
			if c.Action == teamenv.ActRefuse || c.Action == teamenv.ActRecreate && !opts.Recreate {
				errs = append(errs, fmt.Errorf("machine %s: %s", n, strings.TrimPrefix(c.String(), n+": ")))
			}
		}
	}
	if len(errs) == 0 {
		if err := teamenv.CheckPorts(uses, teamenv.HeldPorts(ctx, ms.Store), opts.PortFree); err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) == 0 && opts.Frozen {
		if err := freeze(ctx, env, pre, names, opts); err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("%w: %w", ErrRefused, errors.Join(errs...))
	}
	return pre, nil
}

// LoadProject loads machine m's compose project, named after the
// environment.
func LoadProject(ctx context.Context, env *teamenv.Env, svc Services, m *teamenv.Machine) (*types.Project, error) {
	p, err := svc.Load(ctx, m.Compose, env.Name, workDir(m), m.Profiles)
	if err != nil {
		return nil, fmt.Errorf("machine %s: compose: %w", m.Name, err)
	}
	return p, nil
}

func workDir(m *teamenv.Machine) string {
	f := m.Compose[0]
	for i := len(f) - 1; i >= 0; i-- {
		if f[i] == '/' || f[i] == '\\' {
			return f[:i]
		}
	}
	return "."
}

// bringMachine creates, recreates, changes or starts one machine as its
// changes say, and returns it running with what it did.
func bringMachine(ctx context.Context, env *teamenv.Env, ms Machines, m *teamenv.Machine, have *machine.Machine, changes []teamenv.Change, rep *reporter) (*machine.Machine, []string, error) {
	var did []string
	var err error
	switch teamenv.Needs(changes) {
	case teamenv.ActRecreate:
		end := rep.step(m.Name, "removing the machine to recreate it")
		if err := end(ms.Remove(ctx, have)); err != nil {
			return nil, did, err
		}
		did = append(did, "removed")
		have = nil
		fallthrough
	case teamenv.ActCreate:
		end := rep.step(m.Name, "creating")
		err = ms.Create(ctx, m, env.Labels(), func(step string) { rep.send(Event{Machine: m.Name, Step: step, Status: "started"}) })
		if end(err) != nil {
			return nil, did, err
		}
		did = append(did, "created")
		if have, err = ms.Store.Load(m.FullName); err != nil {
			return nil, did, err
		}
	case teamenv.ActRestart:
		end := rep.step(m.Name, "stopping to change "+settingNames(changes))
		if err := end(ms.Stop(ctx, have)); err != nil {
			return nil, did, fmt.Errorf("stop to change %s: %w", settingNames(changes), err)
		}
		if err := applySettings(ms.Store, m, have); err != nil {
			return nil, did, err
		}
		end = rep.step(m.Name, "starting")
		if err := end(ms.Start(ctx, have)); err != nil {
			return nil, did, err
		}
		for _, c := range changes {
			did = append(did, fmt.Sprintf("%s %s -> %s", c.Setting, c.From, c.To))
			if c.Setting == "insecure-registries" {
				end = rep.step(m.Name, "provisioning (new registries)")
				if err := end(ms.Provision(ctx, have)); err != nil {
					return nil, did, err
				}
			}
		}
		did = append(did, "restarted")
	case teamenv.ActStart:
		end := rep.step(m.Name, "starting")
		if err := end(ms.Start(ctx, have)); err != nil {
			return nil, did, err
		}
		did = append(did, "started")
	default:
		end := rep.step(m.Name, "checking")
		if err := end(ms.Start(ctx, have)); err != nil {
			return nil, did, err
		}
	}
	return have, did, nil
}

func applySettings(store *machine.Store, m *teamenv.Machine, have *machine.Machine) error {
	unlock, err := store.Lock(have.Name)
	if err != nil {
		return err
	}
	defer unlock()
	if err := teamenv.Apply(store, m, have); err != nil {
		return err
	}
	return store.Save(have)
}

func settingNames(changes []teamenv.Change) string {
	var s []string
	for _, c := range changes {
		s = append(s, c.Setting)
	}
	return strings.Join(s, ", ")
}

// convergeServices converges p through m's agent.
func convergeServices(ctx context.Context, m *machine.Machine, svc Services, p *types.Project, wait bool, timeout time.Duration, progress func(ServiceEvent)) ([]ServiceResult, error) {
	a, closeAPI, err := api(ctx, m)
	if err != nil {
		return nil, err
	}
	defer closeAPI()
	return svc.Up(ctx, a, p, wait, timeout, progress)
}
