package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"syscall"

	"github.com/berthvm/berth/internal/version"
	"github.com/berthvm/berth/runtime/network"
	"github.com/berthvm/berth/runtime/server"
)

// maxLogSize is where the agent's log file is rotated, at start.
const maxLogSize = 1 << 20

func serveCmd(args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	socket := fs.String("socket", server.DefaultSocket, "unix socket to serve on")
	stateDir := fs.String("state-dir", server.DefaultStateDir, "folder for images, containers and agent state")
	pidFile := fs.String("pidfile", "", "file to write the agent's pid to (default: agent.pid next to the socket)")
	logFile := fs.String("log-file", "", "file the agent also logs to (default: none; its supervisor keeps stderr)")
	debug := fs.Bool("debug", false, "log every request")
	bridge := fs.Bool("bridge", true, "set up the bridge network (bridge berth0, nftables table ip berth) for containers; false: containers get --network none or host")
	subnet := fs.String("bridge-subnet", "", "IPv4 `CIDR` of the bridge network (default: the one chosen before, kept in STATE-DIR/network/network.json, else the first of 172.18-31.0.0/16, 10.89-99.0.0/16 clear of the machine's networks)")
	hostGateway := fs.String("host-gateway", os.Getenv("BERTH_HOST_GATEWAY"), "`IP` of the user's host as containers reach it: host.docker.internal, host.berth.internal, --add-host NAME:host-gateway (default: $BERTH_HOST_GATEWAY, else the gateway of the machine's default route, the host under a NAT)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	var gateway netip.Addr
	if *hostGateway != "" {
		var err error
		if gateway, err = netip.ParseAddr(*hostGateway); err != nil {
			return fmt.Errorf("--host-gateway: %w", err)
		}
	}
	var bridgeSubnet netip.Prefix
	if *subnet != "" {
		p, err := network.ParseSubnet(*subnet)
		if err != nil {
			return fmt.Errorf("--bridge-subnet: %w", err)
		}
		bridgeSubnet = p
	}
	if *pidFile == "" {
		*pidFile = filepath.Join(filepath.Dir(*socket), "agent.pid")
	}
	if err := os.MkdirAll(*stateDir, 0o700); err != nil {
		return fmt.Errorf("make state folder: %w", err)
	}

	out := stderr
	if *logFile != "" {
		f, err := openLog(*logFile)
		if err != nil {
			return err
		}
		defer f.Close()
		out = io.MultiWriter(stderr, f)
	}
	level := slog.LevelInfo
	if *debug {
		level = slog.LevelDebug
	}
	log := slog.New(slog.NewTextHandler(out, &slog.HandlerOptions{Level: level}))

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()

	srv := server.New(server.Options{Version: version.Version, StateDir: *stateDir, Log: log, Bridge: *bridge, BridgeSubnet: bridgeSubnet, HostGateway: gateway})
	ln, err := server.Listen(*socket)
	if err != nil {
		log.Error("berth-agent cannot start", "err", err)
		return err
	}
	defer os.Remove(*socket)
	if err := os.WriteFile(*pidFile, []byte(strconv.Itoa(os.Getpid())+"\n"), 0o644); err != nil {
		return fmt.Errorf("write pid file: %w", err)
	}
	defer os.Remove(*pidFile)
	log.Info("berth-agent serving", "version", version.Version, "socket", *socket, "state", *stateDir, "pid", os.Getpid())
	if err := srv.Serve(ctx, ln); err != nil {
		log.Error("berth-agent failed", "err", err)
		return err
	}
	log.Info("berth-agent stopped")
	return nil
}

// openLog opens the log file for appending, moving a big one aside first
// (to NAME.1) so it never grows without bound.
func openLog(path string) (*os.File, error) {
	if fi, err := os.Stat(path); err == nil && fi.Size() > maxLogSize {
		_ = os.Rename(path, path+".1")
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open agent log: %w", err)
	}
	return f, nil
}
