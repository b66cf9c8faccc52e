package server

import (
	"context"
	"io"
	"net/http"

	"github.com/berthvm/berth/runtime/container"
	ctypes "github.com/moby/moby/api/types/container"
)

func (s *Server) createExec(w http.ResponseWriter, r *http.Request) error {
	rt, info, err := s.getContainer(r)
	if err != nil {
		return err
	}
	var req ctypes.ExecCreateRequest
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	if req.Privileged {
		return Errorf(http.StatusBadRequest, "not supported by berth yet: exec --privileged")
	}
	id, err := rt.ExecCreate(info.Spec.ID, container.ExecSpec{
		Args: req.Cmd, Env: req.Env, WorkingDir: req.WorkingDir, User: req.User, Tty: req.Tty,
		AttachStdin: req.AttachStdin, AttachStdout: req.AttachStdout, AttachStderr: req.AttachStderr,
	})
	if err != nil {
		return controlError(err)
	}
	return writeJSON(w, http.StatusCreated, ctypes.ExecCreateResponse{ID: id})
}

func (s *Server) startExec(w http.ResponseWriter, r *http.Request) error {
	rt, err := s.containerRuntime()
	if err != nil {
		return err
	}
	id := r.PathValue("id")
	x, err := rt.ExecInspect(id)
	if err != nil {
		return containerError(err)
	}
	var req ctypes.ExecStartRequest
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	if req.Detach {
		go rt.ExecStart(context.Background(), id, nil, io.Discard, req.ConsoleSize)
		w.WriteHeader(http.StatusOK)
		return nil
	}
	conn, stdin, err := Hijack(w, r, x.Spec.Tty)
	if err != nil {
		return err
	}
	defer conn.Close()
	if !x.Spec.AttachStdin {
		stdin = nil
	}
	// The command outlives the agent serving it, as before: an agent
	// restart or upgrade does not kill what runs in containers.
	if _, err := rt.ExecStart(context.WithoutCancel(r.Context()), id, stdin, conn, req.ConsoleSize); err != nil {
		s.log.Debug("exec failed", "exec", id, "err", err)
		if !x.Spec.Tty {
			container.WriteFrame(conn, container.StreamStderr, []byte(err.Error()+"\n"))
		}
	}
	CloseWrite(conn)
	return nil
}

func (s *Server) resizeExec(w http.ResponseWriter, r *http.Request) error {
	rt, err := s.containerRuntime()
	if err != nil {
		return err
	}
	h, wd, err := sizeOf(r)
	if err != nil {
		return err
	}
	if err := rt.ExecResize(r.PathValue("id"), h, wd); err != nil {
		return containerError(err)
	}
	w.WriteHeader(http.StatusOK)
	return nil
}

func (s *Server) inspectExec(w http.ResponseWriter, r *http.Request) error {
	rt, err := s.containerRuntime()
	if err != nil {
		return err
	}
	x, err := rt.ExecInspect(r.PathValue("id"))
	if err != nil {
		return containerError(err)
	}
	resp := ctypes.ExecInspectResponse{
		ID: x.ID, Running: x.Running, ExitCode: x.ExitCode, Pid: x.Pid, ContainerID: x.ContainerID,
		OpenStdin: x.Spec.AttachStdin, OpenStdout: x.Spec.AttachStdout, OpenStderr: x.Spec.AttachStderr,
		ProcessConfig: &ctypes.ExecProcessConfig{Tty: x.Spec.Tty, User: x.Spec.User},
	}
	if len(x.Spec.Args) > 0 {
		resp.ProcessConfig.Entrypoint = x.Spec.Args[0]
		resp.ProcessConfig.Arguments = x.Spec.Args[1:]
	}
	return writeJSON(w, http.StatusOK, resp)
}
