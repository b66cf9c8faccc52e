package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/berthvm/berth/runtime/server"
	"github.com/berthvm/berth/version"
)

func serveCmd(args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	socket := fs.String("socket", server.DefaultSocket, "unix socket to serve on")
	stateDir := fs.String("state-dir", server.DefaultStateDir, "folder for images, containers and agent state")
	debug := fs.Bool("debug", false, "log every request")
	if err := fs.Parse(args); err != nil {
		return err
	}
	level := slog.LevelInfo
	if *debug {
		level = slog.LevelDebug
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))

	if err := os.MkdirAll(*stateDir, 0o700); err != nil {
		return fmt.Errorf("make state folder: %w", err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()

	srv := server.New(server.Options{Version: version.Version, StateDir: *stateDir, Log: log})
	ln, err := server.Listen(*socket)
	if err != nil {
		return err
	}
	defer os.Remove(*socket)
	log.Info("berth-agent serving", "version", version.Version, "socket", *socket, "state", *stateDir)
	if err := srv.Serve(ctx, ln); err != nil {
		return err
	}
	log.Info("berth-agent stopped")
	return nil
}
