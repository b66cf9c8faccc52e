package envup

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/berthvm/berth/internal/teamenv"
)

func threeMachines() *teamenv.Env {
	return &teamenv.Env{File: "/x/berth.yaml", Machines: map[string]*teamenv.Machine{
		"app":   {Name: "app", DependsOn: []string{"db"}},
		"db":    {Name: "db", DependsOn: []string{"cache"}},
		"cache": {Name: "cache"},
		"docs":  {Name: "docs"},
	}}
}

func TestSelectMachines(t *testing.T) {
	env := threeMachines()
	tests := []struct {
		names []string
		want  string
	}{
		{nil, "cache,db,app,docs"},
		{[]string{"app"}, "cache,db,app"},
		{[]string{"docs", "db"}, "cache,db,docs"},
	}
	for _, tt := range tests {
		got, err := selectMachines(env, tt.names)
		if err != nil || strings.Join(got, ",") != tt.want {
			t.Errorf("selectMachines(%v) = %v, %v; want %s", tt.names, got, err, tt.want)
		}
	}
	if _, err := selectMachines(env, []string{"nope"}); !errors.Is(err, ErrRefused) || !strings.Contains(err.Error(), `no machine "nope"`) {
		t.Errorf("unknown machine: %v", err)
	}
	if !dependedOn(env, "db") || dependedOn(env, "app") {
		t.Error("dependedOn: want db yes, app no")
	}
}

func TestPlanPrint(t *testing.T) {
	var b bytes.Buffer
	Plan{Machines: []MachinePlan{{Name: "app"}, {Name: "db"}}}.Print(&b)
	if b.String() != "Nothing to do: the environment matches its file.\n" {
		t.Errorf("empty plan printed %q", b.String())
	}
	b.Reset()
	p := Plan{Machines: []MachinePlan{
		{Name: "app", Services: []ServiceChange{{Action: "recreate", Service: "worker", Reason: "config changed"}}},
		{Name: "db", Changes: []teamenv.Change{{Machine: "db", Action: teamenv.ActRestart, Setting: "memory", From: "1GiB", To: "2GiB"}}},
		{Name: "web"},
	}}
	p.Print(&b)
	want := "machine app:\n  ~ service worker: recreate (config changed)\nmachine db:\n  ~ memory: 1GiB -> 2GiB (restart)\n  web: up to date\n"
	if b.String() != want {
		t.Errorf("plan printed\n%s\nwant\n%s", b.String(), want)
	}
}

func TestReportErr(t *testing.T) {
	r := Report{Machines: []MachineReport{{Name: "db"}, {Name: "app", err: errors.New("boom")}}}
	if err := r.Err(); err == nil || err.Error() != "machine app: boom" {
		t.Errorf("Err = %v", err)
	}
	if (Report{Machines: []MachineReport{{Name: "db"}}}).Err() != nil {
		t.Error("a report without failures has an error")
	}
}
