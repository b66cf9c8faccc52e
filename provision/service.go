package provision

import (
	"context"
	"fmt"
	"strings"

	"github.com/berthvm/berth/runtime/berthapi"
	"github.com/berthvm/berth/sshutil"
)

// service is how one kind of machine supervises the agent.
type service interface {
	// install makes the agent a supervised service; it reports whether it
	// changed anything. It MUST change nothing when already installed.
	install(ctx context.Context, c *sshutil.Client, g Guest) (changed bool, err error)
	// restart makes the supervisor run the agent binary now in place.
	restart(ctx context.Context, c *sshutil.Client, g Guest) error
	// ensureRunning starts the agent when it is not running.
	ensureRunning(ctx context.Context, c *sshutil.Client, g Guest) error
	// uninstall stops the agent and removes the service and the binary.
	uninstall(ctx context.Context, c *sshutil.Client, g Guest) error
	// logTail returns the last lines of the agent's log.
	logTail(ctx context.Context, c *sshutil.Client, g Guest) string
}

func serviceFor(g Guest) service {
	if g.Init == InitBerthOS {
		return berthOS{}
	}
	return systemd{}
}

// run runs cmd as root on the machine; errors quote its output.
func run(ctx context.Context, c *sshutil.Client, g Guest, what, cmd string) (string, error) {
	out, err := c.CombinedOutput(ctx, g.asRoot(cmd))
	if err != nil {
		return string(out), fmt.Errorf("%s: %w: %s", what, err, strings.TrimSpace(string(out)))
	}
	return string(out), nil
}

// berthOS is berth-os's agent slot: its init supervises
// berthapi.AgentPath when it exists, keeps the pid in berthapi.PidFile and
// the agent's output in BerthOSLog (scripts/iso: agent-supervisor).
type berthOS struct{}

// BerthOSLog is where berth-os's supervisor keeps the agent's output.
const BerthOSLog = "/var/lib/berth/log/berth-agent.log"

func (berthOS) install(context.Context, *sshutil.Client, Guest) (bool, error) { return false, nil }

func (berthOS) restart(ctx context.Context, c *sshutil.Client, g Guest) error {
	_, err := run(ctx, c, g, "restart the agent",
		`if [ -s `+berthapi.PidFile+` ]; then kill "$(cat `+berthapi.PidFile+`)" 2>/dev/null; fi; true`)
	return err
}

func (berthOS) ensureRunning(context.Context, *sshutil.Client, Guest) error {
	return nil // the supervisor starts it within a second of it existing
}

func (berthOS) uninstall(ctx context.Context, c *sshutil.Client, g Guest) error {
	_, err := run(ctx, c, g, "remove the agent",
		`rm -f `+berthapi.AgentPath+` `+sumPath+`; if [ -s `+berthapi.PidFile+` ]; then kill "$(cat `+berthapi.PidFile+`)" 2>/dev/null; fi; true`)
	return err
}

func (berthOS) logTail(ctx context.Context, c *sshutil.Client, g Guest) string {
	out, _ := c.CombinedOutput(ctx, g.asRoot("tail -n 25 "+BerthOSLog+" 2>&1"))
	return string(out)
}

// systemd runs the agent as the unit berth-agent.service.
type systemd struct{}

// UnitPath is where provisioning puts the agent's systemd unit.
const UnitPath = "/etc/systemd/system/berth-agent.service"

// unitText is the agent's systemd unit. Restart=on-failure brings it back
// when it crashes or is killed by a signal systemd did not send.
const unitText = `[Unit]
Description=berth agent (Docker Engine API for berth)
After=network.target

[Service]
ExecStart=` + berthapi.AgentPath + ` serve
Restart=on-failure
RestartSec=1
KillMode=process

[Install]
WantedBy=multi-user.target
`

func (systemd) install(ctx context.Context, c *sshutil.Client, g Guest) (bool, error) {
	cur, _ := c.Output(ctx, g.asRoot("cat "+UnitPath+" 2>/dev/null; true"))
	changed := false
	if string(cur) != unitText {
		if _, err := run(ctx, c, g, "install the agent's systemd unit",
			"printf '%s' "+shellQuote(unitText)+" > "+UnitPath+".tmp && mv -f "+UnitPath+".tmp "+UnitPath+" && systemctl daemon-reload"); err != nil {
			return false, err
		}
		changed = true
	}
	out, err := run(ctx, c, g, "enable the agent's systemd unit",
		"if systemctl is-enabled --quiet berth-agent; then echo enabled; else systemctl enable --quiet berth-agent; fi")
	if err != nil {
		return false, err
	}
	if strings.TrimSpace(out) != "enabled" {
		changed = true
	}
	return changed, nil
}

func (systemd) restart(ctx context.Context, c *sshutil.Client, g Guest) error {
	_, err := run(ctx, c, g, "restart the agent", "systemctl restart berth-agent")
	return err
}

func (systemd) ensureRunning(ctx context.Context, c *sshutil.Client, g Guest) error {
	_, err := run(ctx, c, g, "start the agent", "systemctl start berth-agent")
	return err
}

func (systemd) uninstall(ctx context.Context, c *sshutil.Client, g Guest) error {
	_, err := run(ctx, c, g, "remove the agent",
		"systemctl disable --now --quiet berth-agent 2>/dev/null; rm -f "+UnitPath+" "+berthapi.AgentPath+" "+sumPath+" && systemctl daemon-reload")
	return err
}

func (systemd) logTail(ctx context.Context, c *sshutil.Client, g Guest) string {
	out, _ := c.CombinedOutput(ctx, g.asRoot("journalctl -u berth-agent -n 25 --no-pager 2>&1"))
	return string(out)
}
