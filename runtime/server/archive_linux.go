package server

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"

	"github.com/berthvm/berth/runtime/archive"
	"github.com/berthvm/berth/runtime/container"
	"golang.org/x/sys/unix"
)

// archiveRoutes are docker cp's endpoints.
func (s *Server) archiveRoutes() {
	s.handle("GET /containers/{id}/archive", s.getArchive)
	s.handle("PUT /containers/{id}/archive", s.putArchive)
}

// pathStatHeader carries the stat of the path asked for, base64 JSON.
const pathStatHeader = "X-Docker-Container-Path-Stat"

// archiveError maps the archive package's errors to Docker's answers.
func archiveError(err error, p, id string) error {
	switch {
	case errors.Is(err, archive.ErrNotFound):
		return Errorf(http.StatusNotFound, "Could not find the file %s in container %s", p, id)
	case errors.Is(err, archive.ErrNotDir), errors.Is(err, archive.ErrRefused):
		return WithStatus(http.StatusBadRequest, err)
	}
	return err
}

func archivePath(r *http.Request) (string, error) {
	p := r.URL.Query().Get("path")
	if p == "" {
		return "", Errorf(http.StatusBadRequest, "path is empty: give ?path=")
	}
	return p, nil
}

// getArchive answers HEAD (the path's stat only) and GET (its tar).
func (s *Server) getArchive(w http.ResponseWriter, r *http.Request) error {
	rt, info, err := s.getContainer(r)
	if err != nil {
		return err
	}
	p, err := archivePath(r)
	if err != nil {
		return err
	}
	root, err := rt.OpenRootFS(r.Context(), info.Spec.ID, false)
	if err != nil {
		return containerError(err)
	}
	defer root.Close()
	st, err := archive.StatPath(root.Fd, p)
	if err != nil {
		return archiveError(err, p, r.PathValue("id"))
	}
	b, err := json.Marshal(st)
	if err != nil {
		return err
	}
	w.Header().Set(pathStatHeader, base64.StdEncoding.EncodeToString(b))
	if r.Method == http.MethodHead {
		w.WriteHeader(http.StatusOK)
		return nil
	}
	s.containerEvent(container.Event{Action: "archive-path", Spec: info.Spec})
	w.Header().Set("Content-Type", "application/x-tar")
	w.WriteHeader(http.StatusOK)
	return archive.Write(r.Context(), w, root.Fd, p)
}

func (s *Server) putArchive(w http.ResponseWriter, r *http.Request) error {
	rt, info, err := s.getContainer(r)
	if err != nil {
		return err
	}
	p, err := archivePath(r)
	if err != nil {
		return err
	}
	if info.Spec.ReadonlyRootfs {
		return Errorf(http.StatusForbidden, "container rootfs is marked read-only")
	}
	root, err := rt.OpenRootFS(r.Context(), info.Spec.ID, true)
	if err != nil {
		return containerError(err)
	}
	defer root.Close()
	opts := archive.ExtractOptions{NoOverwriteDirNonDir: boolParam(r, "noOverwriteDirNonDir")}
	if boolParam(r, "copyUIDGID") {
		u, err := containerUser(root.Fd, info.Spec.User)
		if err != nil {
			return err
		}
		opts.Owner = &u
	}
	if err := archive.Extract(r.Context(), root.Fd, p, r.Body, opts); err != nil {
		return archiveError(err, p, r.PathValue("id"))
	}
	s.containerEvent(container.Event{Action: "extract-to-dir", Spec: info.Spec})
	w.WriteHeader(http.StatusOK)
	return nil
}

// containerUser resolves the container's user (root when none) in its own
// /etc/passwd and /etc/group, read inside its root.
func containerUser(root int, user string) ([2]int, error) {
	if user == "" {
		return [2]int{0, 0}, nil
	}
	open := func(name string) io.Reader {
		fd, err := unix.Openat2(root, name, &unix.OpenHow{Flags: unix.O_RDONLY | unix.O_CLOEXEC | unix.O_NONBLOCK, Resolve: unix.RESOLVE_IN_ROOT | unix.RESOLVE_NO_MAGICLINKS})
		if err != nil {
			return nil
		}
		f := os.NewFile(uintptr(fd), name)
		defer f.Close()
		if fi, err := f.Stat(); err != nil || !fi.Mode().IsRegular() {
			return nil
		}
		b, _ := io.ReadAll(io.LimitReader(f, 16<<20))
		return bytes.NewReader(b)
	}
	u, err := container.ResolveUser(user, open("etc/passwd"), open("etc/group"))
	if err != nil {
		return [2]int{}, Errorf(http.StatusBadRequest, "copyUIDGID: user %s: %v", user, err)
	}
	return [2]int{int(u.UID), int(u.GID)}, nil
}
