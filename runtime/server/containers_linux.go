package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/berthvm/berth/runtime/container"
	"github.com/berthvm/berth/runtime/image"
	berthnet "github.com/berthvm/berth/runtime/network"
	"github.com/docker/go-units"
	ctypes "github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/network"
)

type containerRuntime = *container.Runtime

// openContainers opens the container runtime, with the bridge network
// when there is one; removed containers (also by --rm) release their
// image, then removed is called; onEvent is told of every container
// event.
func openContainers(ctx context.Context, dir string, images *image.Store, removed func(container.Spec), bridge *berthnet.Network, onEvent func(container.Event)) (containerRuntime, error) {
	opts := []container.Option{container.WithEvents(onEvent)}
	if bridge != nil {
		opts = append(opts, container.WithNetwork(bridge))
	}
	rt, err := container.New(ctx, dir, opts...)
	if err != nil {
		return nil, err
	}
	if images != nil {
		// The holds of AutoRemove containers are kept in memory only: those
		// that still run hold their images again.
		for _, c := range rt.List() {
			if c.Spec.AutoRemove {
				images.UseEphemeral(c.Spec.ImageID, c.Spec.ID)
			}
		}
	}
	rt.OnRemove(func(s container.Spec) {
		if images != nil {
			images.Release(s.ImageID, s.ID)
		}
		removed(s)
	})
	return rt, nil
}

// containerRoutes are Docker's container and exec endpoints.
func (s *Server) containerRoutes() {
	s.handle("POST /containers/create", s.createContainer)
	s.handle("GET /containers/json", s.listContainers)
	s.handle("GET /containers/{id}/json", s.inspectContainer)
	s.handle("POST /containers/{id}/start", s.startContainer)
	s.handle("POST /containers/{id}/stop", s.stopContainer)
	s.handle("POST /containers/{id}/restart", s.restartContainer)
	s.handle("POST /containers/{id}/kill", s.killContainer)
	s.handle("POST /containers/{id}/wait", s.waitContainer)
	s.handle("POST /containers/{id}/resize", s.resizeContainer)
	s.handle("POST /containers/{id}/attach", s.attachContainer)
	s.handle("GET /containers/{id}/logs", s.containerLogs)
	s.handle("DELETE /containers/{id}", s.removeContainer)
	s.handle("POST /containers/{id}/exec", s.createExec)
	s.handle("POST /exec/{id}/start", s.startExec)
	s.handle("POST /exec/{id}/resize", s.resizeExec)
	s.handle("GET /exec/{id}/json", s.inspectExec)
}

// containerError maps the runtime's errors to Docker's status codes.
func containerError(err error) error {
	var se *container.StartError
	switch {
	case err == nil:
		return nil
	case errors.Is(err, container.ErrNotFound):
		return WithStatus(http.StatusNotFound, err)
	case errors.Is(err, container.ErrNameInUse), errors.Is(err, container.ErrRunning):
		return WithStatus(http.StatusConflict, err)
	case errors.Is(err, container.ErrNotRunning):
		return WithStatus(http.StatusConflict, err)
	case errors.As(err, &se):
		return WithStatus(http.StatusBadRequest, err)
	case errors.Is(err, container.ErrNoCommand):
		return WithStatus(http.StatusBadRequest, err)
	}
	return err
}

func (s *Server) createContainer(w http.ResponseWriter, r *http.Request) error {
	rt, err := s.containerRuntime()
	if err != nil {
		return err
	}
	images, err := s.imageStore()
	if err != nil {
		return err
	}
	var req ctypes.CreateRequest
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	if req.Config == nil || req.Config.Image == "" {
		return Errorf(http.StatusBadRequest, "no image given: config.Image is empty")
	}
	hc := req.HostConfig
	if hc == nil {
		hc = &ctypes.HostConfig{}
	}
	if err := checkHostConfig(hc); err != nil {
		return err
	}
	mode, nets, err := s.containerNetworks(string(hc.NetworkMode), req.NetworkingConfig)
	if err != nil {
		return err
	}
	links, err := containerLinks(rt, hc.Links)
	if err != nil {
		return err
	}
	extraHosts, err := s.extraHosts(hc.ExtraHosts)
	if err != nil {
		return err
	}
	id := container.NewID()
	use := images.Use
	if hc.AutoRemove {
		use = images.UseEphemeral
	}
	img, err := use(req.Config.Image, id)
	if errors.Is(err, image.ErrNotFound) {
		return Errorf(http.StatusNotFound, "No such image: %s", req.Config.Image)
	}
	if err != nil {
		return err
	}
	if err := checkImagePlatform(req.Config.Image, img, r.URL.Query().Get("platform")); err != nil {
		images.Release(img.ID, id)
		return err
	}
	spec, err := specFromRequest(id, r.URL.Query().Get("name"), req.Config, hc, img)
	if err == nil {
		err = applyHostSettings(&spec, images, img, req.Config, hc)
	}
	warnings := []string{}
	s.back.volMu.Lock()
	if err == nil {
		spec.ReadonlyRootfs = hc.ReadonlyRootfs
		spec.NetworkMode, spec.Networks, spec.Links = mode, nets, links
		spec.ExtraHosts = extraHosts
		if mode == container.NetworkHost && len(spec.Ports) > 0 {
			warnings = append(warnings, "Published ports are discarded when using host network mode")
		}
		spec.Mounts, err = s.mountsFromRequest(req.Config, hc, img.Config.Config.Volumes)
		if err == nil {
			if _, err = rt.Create(r.Context(), spec); err != nil {
				s.back.removeAnonymousVolumesLocked(spec)
			}
		}
	}
	s.back.volMu.Unlock()
	if err != nil {
		images.Release(img.ID, id)
		return containerError(err)
	}
	return writeJSON(w, http.StatusCreated, ctypes.CreateResponse{ID: id, Warnings: warnings})
}

// checkHostConfig refuses what this runtime does not do yet, by name.
func checkHostConfig(hc *ctypes.HostConfig) error {
	if err := refuseUnapplied(hc); err != nil {
		return err
	}
	switch hc.RestartPolicy.Name {
	case "", "no", "always", "on-failure", "unless-stopped":
	default:
		return Errorf(http.StatusBadRequest, "invalid restart policy %q: use no, always, on-failure or unless-stopped", hc.RestartPolicy.Name)
	}
	if hc.AutoRemove && hc.RestartPolicy.Name != "" && hc.RestartPolicy.Name != "no" {
		return Errorf(http.StatusBadRequest, "can't create 'AutoRemove' container with restart policy")
	}
	return nil
}

func specFromRequest(id, name string, cfg *ctypes.Config, hc *ctypes.HostConfig, img image.Image) (container.Spec, error) {
	ic := img.Config.Config
	spec := container.Spec{
		ID:        id,
		Name:      name,
		Image:     cfg.Image,
		ImageID:   img.ID,
		OpenStdin: cfg.OpenStdin,
		StdinOnce: cfg.StdinOnce,
		Labels:    cfg.Labels,
		Resources: container.Resources{Memory: hc.Memory, NanoCPUs: hc.NanoCPUs},
		RestartPolicy: container.RestartPolicy{
			Name:              string(hc.RestartPolicy.Name),
			MaximumRetryCount: hc.RestartPolicy.MaximumRetryCount,
		},
		AutoRemove: hc.AutoRemove,
	}
	ports, err := portsFromRequest(hc, ic.ExposedPorts, cfg.ExposedPorts)
	if err != nil {
		return spec, err
	}
	spec.Ports = ports
	if cfg.Tty {
		spec.ConsoleSize = hc.ConsoleSize
	}
	if hc.PidsLimit != nil && *hc.PidsLimit > 0 {
		spec.Resources.PidsLimit = *hc.PidsLimit
	}
	if err := applySecurityOpts(&spec, hc.SecurityOpt); err != nil {
		return spec, err
	}
	for i := len(img.LayerDirs) - 1; i >= 0; i-- {
		spec.LowerDirs = append(spec.LowerDirs, img.LayerDirs[i])
	}
	o := container.Overrides{
		Cmd: cfg.Cmd, Env: cfg.Env, WorkingDir: cfg.WorkingDir,
		User: cfg.User, Hostname: cfg.Hostname, Tty: cfg.Tty,
	}
	if cfg.Entrypoint != nil {
		o.Entrypoint = cfg.Entrypoint
		if len(o.Entrypoint) == 0 {
			o.Entrypoint = []string{""}
		}
	}
	imgCfg := container.ImageConfig{User: ic.User, Env: ic.Env, Entrypoint: ic.Entrypoint, Cmd: ic.Cmd, WorkingDir: ic.WorkingDir}
	if err := spec.ApplyConfig(imgCfg, o); err != nil {
		return spec, WithStatus(http.StatusBadRequest, err)
	}
	return spec, nil
}

func (s *Server) getContainer(r *http.Request) (containerRuntime, container.Info, error) {
	rt, err := s.containerRuntime()
	if err != nil {
		return nil, container.Info{}, err
	}
	info, err := rt.Get(r.PathValue("id"))
	if err != nil {
		return nil, container.Info{}, containerError(err)
	}
	return rt, info, nil
}

func (s *Server) startContainer(w http.ResponseWriter, r *http.Request) error {
	rt, info, err := s.getContainer(r)
	if err != nil {
		return err
	}
	if err := rt.Start(r.Context(), info.Spec.ID); err != nil {
		if errors.Is(err, container.ErrAlreadyStarted) {
			w.WriteHeader(http.StatusNotModified)
			return nil
		}
		return containerError(err)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// graceOf reads the stop timeout (?t=, seconds; default 10, -1 = forever).
func graceOf(r *http.Request) (time.Duration, error) {
	t := r.URL.Query().Get("t")
	if t == "" {
		return 10 * time.Second, nil
	}
	n, err := strconv.Atoi(t)
	if err != nil {
		return 0, Errorf(http.StatusBadRequest, "invalid stop timeout %q: %v", t, err)
	}
	if n < 0 {
		return 24 * time.Hour, nil
	}
	return time.Duration(n) * time.Second, nil
}

func (s *Server) stopContainer(w http.ResponseWriter, r *http.Request) error {
	rt, info, err := s.getContainer(r)
	if err != nil {
		return err
	}
	grace, err := graceOf(r)
	if err != nil {
		return err
	}
	var sig syscall.Signal
	if name := r.URL.Query().Get("signal"); name != "" {
		if sig, err = ParseSignal(name); err != nil {
			return WithStatus(http.StatusBadRequest, err)
		}
	}
	grace = stopGrace(r, info.Spec, grace)
	if err := rt.Stop(r.Context(), info.Spec.ID, sig, grace); err != nil {
		if errors.Is(err, container.ErrNotRunning) {
			w.WriteHeader(http.StatusNotModified)
			return nil
		}
		return containerError(err)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) restartContainer(w http.ResponseWriter, r *http.Request) error {
	rt, info, err := s.getContainer(r)
	if err != nil {
		return err
	}
	grace, err := graceOf(r)
	if err != nil {
		return err
	}
	if err := rt.Restart(r.Context(), info.Spec.ID, stopGrace(r, info.Spec, grace)); err != nil {
		return containerError(err)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// ParseSignal reads a signal as Docker accepts it: "SIGTERM", "TERM", "15".
func ParseSignal(s string) (syscall.Signal, error) { return container.ParseSignal(s) }

func (s *Server) killContainer(w http.ResponseWriter, r *http.Request) error {
	rt, info, err := s.getContainer(r)
	if err != nil {
		return err
	}
	sig := syscall.SIGKILL
	if name := r.URL.Query().Get("signal"); name != "" {
		if sig, err = ParseSignal(name); err != nil {
			return WithStatus(http.StatusBadRequest, err)
		}
	}
	if err := rt.Kill(r.Context(), info.Spec.ID, sig); err != nil {
		if errors.Is(err, container.ErrNotRunning) {
			return Errorf(http.StatusConflict, "cannot kill container: %s: container %s is not running", r.PathValue("id"), info.Spec.ID)
		}
		return containerError(err)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) waitContainer(w http.ResponseWriter, r *http.Request) error {
	rt, info, err := s.getContainer(r)
	if err != nil {
		return err
	}
	cond := container.WaitCondition(r.URL.Query().Get("condition"))
	switch cond {
	case "", container.WaitNotRunning, container.WaitNextExit, container.WaitRemoved:
	default:
		return Errorf(http.StatusBadRequest, "invalid wait condition %q", cond)
	}
	// The docker CLI waits for these headers before it starts the container.
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	http.NewResponseController(w).Flush()
	st, err := rt.Wait(r.Context(), info.Spec.ID, cond)
	resp := ctypes.WaitResponse{StatusCode: int64(st.ExitCode)}
	if err != nil {
		resp.Error = &ctypes.WaitExitError{Message: err.Error()}
	} else if st.Error != "" {
		resp.Error = &ctypes.WaitExitError{Message: st.Error}
	}
	return json.NewEncoder(w).Encode(resp)
}

func (s *Server) resizeContainer(w http.ResponseWriter, r *http.Request) error {
	rt, info, err := s.getContainer(r)
	if err != nil {
		return err
	}
	h, w1, err := sizeOf(r)
	if err != nil {
		return err
	}
	if err := rt.Resize(r.Context(), info.Spec.ID, h, w1); err != nil {
		return containerError(err)
	}
	w.WriteHeader(http.StatusOK)
	return nil
}

func sizeOf(r *http.Request) (int, int, error) {
	h, err1 := strconv.Atoi(r.URL.Query().Get("h"))
	w, err2 := strconv.Atoi(r.URL.Query().Get("w"))
	if err1 != nil || err2 != nil || h < 0 || w < 0 {
		return 0, 0, Errorf(http.StatusBadRequest, "invalid terminal size h=%q w=%q", r.URL.Query().Get("h"), r.URL.Query().Get("w"))
	}
	return h, w, nil
}

func (s *Server) removeContainer(w http.ResponseWriter, r *http.Request) error {
	rt, info, err := s.getContainer(r)
	if err != nil {
		return err
	}
	force := boolParam(r, "force")
	if err := rt.Remove(r.Context(), info.Spec.ID, force); err != nil {
		if errors.Is(err, container.ErrRunning) {
			return Errorf(http.StatusConflict, "cannot remove container %q: container is running: stop the container before removing or force remove", "/"+info.Spec.Name)
		}
		return containerError(err)
	}
	if boolParam(r, "v") {
		s.back.removeAnonymousVolumes(info.Spec)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func boolParam(r *http.Request, name string) bool {
	v := r.URL.Query().Get(name)
	return v == "1" || strings.EqualFold(v, "true")
}

func (s *Server) listContainers(w http.ResponseWriter, r *http.Request) error {
	rt, err := s.containerRuntime()
	if err != nil {
		return err
	}
	filters, err := parseContainerFilters(rt, r.URL.Query().Get("filters"))
	if err != nil {
		return err
	}
	all := boolParam(r, "all")
	out := []ctypes.Summary{}
	for _, c := range rt.List() {
		if !all && !c.State.Running() && !filters.all() {
			continue
		}
		health := rt.Health(c.Spec.ID)
		if !filters.match(c) || !matchHealth(filters.f["health"], health) {
			continue
		}
		out = append(out, summaryOf(c, health))
	}
	if n, err := strconv.Atoi(r.URL.Query().Get("limit")); err == nil && n > 0 && len(out) > n {
		out = out[:n]
	}
	return writeJSON(w, http.StatusOK, out)
}

func summaryOf(c container.Info, health *container.Health) ctypes.Summary {
	sum := ctypes.Summary{
		ID:      c.Spec.ID,
		Names:   []string{"/" + c.Spec.Name},
		Image:   c.Spec.Image,
		ImageID: c.Spec.ImageID,
		Command: strings.Join(c.Spec.Args, " "),
		Created: c.Spec.Created.Unix(),
		Ports:   portSummaries(c.Spec.Ports),
		Labels:  c.Spec.Labels,
		State:   ctypes.ContainerState(c.State.Status),
		Status:  statusText(c.State) + healthSuffix(c.State, health),
		Mounts:  mountPoints(c.Spec.Mounts),
		Health:  summaryHealth(health),
	}
	if sum.Labels == nil {
		sum.Labels = map[string]string{}
	}
	sum.HostConfig.NetworkMode = networkModeOf(c.Spec)
	sum.NetworkSettings = &ctypes.NetworkSettingsSummary{Networks: endpointSettings(c)}
	return sum
}

// statusText is the STATUS column of docker ps.
func statusText(st container.State) string {
	now := time.Now()
	switch st.Status {
	case container.StatusRunning:
		return "Up " + units.HumanDuration(now.Sub(st.StartedAt))
	case container.StatusPaused:
		return "Up " + units.HumanDuration(now.Sub(st.StartedAt)) + " (Paused)"
	case container.StatusRestarting:
		return fmt.Sprintf("Restarting (%d) %s ago", st.ExitCode, units.HumanDuration(now.Sub(st.FinishedAt)))
	case container.StatusExited:
		return fmt.Sprintf("Exited (%d) %s ago", st.ExitCode, units.HumanDuration(now.Sub(st.FinishedAt)))
	case container.StatusCreated:
		return "Created"
	}
	return string(st.Status)
}

func timeText(t time.Time) string {
	if t.IsZero() {
		return "0001-01-01T00:00:00Z"
	}
	return t.UTC().Format(time.RFC3339Nano)
}

func (s *Server) inspectContainer(w http.ResponseWriter, r *http.Request) error {
	rt, c, err := s.getContainer(r)
	if err != nil {
		return err
	}
	st := c.State
	resp := ctypes.InspectResponse{
		ID:      c.Spec.ID,
		Created: timeText(c.Spec.Created),
		Path:    c.Spec.Args[0],
		Args:    c.Spec.Args[1:],
		State: &ctypes.State{
			Status:     ctypes.ContainerState(st.Status),
			Running:    st.Running(),
			Paused:     st.Status == container.StatusPaused,
			Restarting: st.Status == container.StatusRestarting,
			OOMKilled:  st.OOMKilled,
			Pid:        st.Pid,
			ExitCode:   st.ExitCode,
			Error:      st.Error,
			StartedAt:  timeText(st.StartedAt),
			FinishedAt: timeText(st.FinishedAt),
		},
		Image:        c.Spec.ImageID,
		Name:         "/" + c.Spec.Name,
		RestartCount: st.RestartCount,
		Driver:       "overlay",
		Platform:     "linux",
		HostConfig: &ctypes.HostConfig{
			NetworkMode:   ctypes.NetworkMode(networkModeOf(c.Spec)),
			PortBindings:  portMap(c.Spec.Ports),
			AutoRemove:    c.Spec.AutoRemove,
			RestartPolicy: ctypes.RestartPolicy{Name: ctypes.RestartPolicyMode(c.Spec.RestartPolicy.Name), MaximumRetryCount: c.Spec.RestartPolicy.MaximumRetryCount},
			Resources: ctypes.Resources{
				Memory:    c.Spec.Resources.Memory,
				NanoCPUs:  c.Spec.Resources.NanoCPUs,
				PidsLimit: &c.Spec.Resources.PidsLimit,
			},
		},
		Mounts:          mountPoints(c.Spec.Mounts),
		NetworkSettings: &ctypes.NetworkSettings{Ports: network.PortMap{}, Networks: endpointSettings(c)},
		Config: &ctypes.Config{
			Hostname:   c.Spec.Hostname,
			User:       c.Spec.Config.User,
			Tty:        c.Spec.Tty,
			OpenStdin:  c.Spec.OpenStdin,
			StdinOnce:  c.Spec.StdinOnce,
			Env:        c.Spec.Env,
			Cmd:        c.Spec.Config.Cmd,
			Entrypoint: c.Spec.Config.Entrypoint,
			Image:      c.Spec.Image,
			WorkingDir: c.Spec.WorkingDir,
			Labels:     c.Spec.Labels,
		},
	}
	if st.Running() {
		resp.NetworkSettings.Ports = publishedPorts(c.Spec.Ports)
	}
	resp.HostConfig.SecurityOpt = securityOpts(c.Spec)
	resp.HostConfig.Binds, resp.HostConfig.Tmpfs = hostConfigMounts(c.Spec.Mounts)
	resp.HostConfig.ReadonlyRootfs = c.Spec.ReadonlyRootfs
	inspectHostSettings(&resp, c.Spec, rt.Health(c.Spec.ID))
	return writeJSON(w, http.StatusOK, withLegacyAddress(resp, c))
}

// openBridge sets up the bridge network kept in dir.
func openBridge(ctx context.Context, dir string, subnet netip.Prefix) (*berthnet.Network, error) {
	n, err := berthnet.Open(ctx, dir, berthnet.Config{Subnet: subnet})
	if err == nil {
		return n, nil
	}
	// Early in a boot (a restart, an upgrade) the modules may not be
	// loaded yet: load them and try again.
	if lerr := berthnet.LoadModules(ctx); lerr != nil {
		slog.Debug("load the container network modules", "err", lerr)
		return nil, err
	}
	return berthnet.Open(ctx, dir, berthnet.Config{Subnet: subnet})
}
