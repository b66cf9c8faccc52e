package server

import (
	"context"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// routes registers every area's routes. Each area adds one line here and
// keeps its handlers in its own file.
func (s *Server) routes() {
	s.systemRoutes()
	s.berthRoutes()
	s.containerRoutes()
	s.imageRoutes()
	s.volumeRoutes()
	s.networkRoutes()
	s.eventRoutes()
	s.extraRoutes()
	s.buildRoutes()
}

// handlerFunc is a route's handler. It returns the error to answer with
// instead of writing it; once it has written a status, a returned error is
// only logged.
type handlerFunc func(w http.ResponseWriter, r *http.Request) error

// handle registers h for pattern, a net/http ServeMux pattern without the
// version prefix ("GET /images/json", "POST /containers/{id}/start").
// GET patterns also answer HEAD.
func (s *Server) handle(pattern string, h handlerFunc) {
	s.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		rw := &recorder{ResponseWriter: w}
		err := h(rw, r)
		if err == nil {
			return
		}
		if rw.status != 0 {
			s.log.Debug("request failed after answering", "method", r.Method, "path", r.URL.Path, "err", err)
			return
		}
		writeError(rw, s.explainDiskFull(err))
	})
}

var versionPrefix = regexp.MustCompile(`^/v([0-9]+\.[0-9]+)(/.*)$`)

// common wraps every request: the headers the docker CLI reads on every
// response, the /v1.XX prefix, a JSON 501 naming unknown routes, and a
// debug log line.
func (s *Server) common(mux *http.ServeMux) http.Handler {
	serverHeader := "berth-agent/" + s.opts.Version + " (linux)"
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		h := w.Header()
		h.Set("Api-Version", APIVersion)
		h.Set("Ostype", "linux")
		h.Set("Server", serverHeader)
		h.Set("Docker-Experimental", "false")
		rw := &recorder{ResponseWriter: w}
		defer func() {
			s.log.Debug("request", "method", r.Method, "path", r.URL.Path, "status", rw.status, "took", time.Since(start))
		}()

		if m := versionPrefix.FindStringSubmatch(r.URL.Path); m != nil {
			v := m[1]
			if err := checkVersion(v); err != nil {
				writeError(rw, err)
				return
			}
			r.URL.Path = m[2]
			r.URL.RawPath = ""
			r = r.WithContext(context.WithValue(r.Context(), apiVersionKey{}, v))
		}
		if _, pattern := mux.Handler(r); pattern == "" {
			writeError(rw, unsupported(r))
			return
		}
		mux.ServeHTTP(rw, r)
	})
}

type apiVersionKey struct{}

// requestVersion is the API version the client asked for in the path
// (/v1.41/...), or APIVersion when it gave none.
func requestVersion(r *http.Request) string {
	if v, ok := r.Context().Value(apiVersionKey{}).(string); ok {
		return v
	}
	return APIVersion
}

// checkVersion refuses API versions outside [MinAPIVersion, APIVersion],
// with Docker's wording.
func checkVersion(v string) error {
	if compareVersions(v, APIVersion) > 0 {
		return Errorf(http.StatusBadRequest, "client version %s is too new. Maximum supported API version is %s", v, APIVersion)
	}
	if compareVersions(v, MinAPIVersion) < 0 {
		return Errorf(http.StatusBadRequest, "client version %s is too old. Minimum supported API version is %s, please upgrade your client to a newer version", v, MinAPIVersion)
	}
	return nil
}

// compareVersions compares API versions "1.44" and "1.9" numerically.
func compareVersions(a, b string) int {
	as, bs := strings.Split(a, "."), strings.Split(b, ".")
	for i := 0; i < len(as) || i < len(bs); i++ {
		var x, y int
		if i < len(as) {
			x, _ = strconv.Atoi(as[i])
		}
		if i < len(bs) {
			y, _ = strconv.Atoi(bs[i])
		}
		if x != y {
			if x < y {
				return -1
			}
			return 1
		}
	}
	return 0
}

// recorder remembers the status written. Unwrap lets
// http.ResponseController reach Flush and Hijack of the real writer.
type recorder struct {
	http.ResponseWriter
	status int
}

func (r *recorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(p []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.ResponseWriter.Write(p)
}

func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// Flush sends what is buffered (a no-op when the writer cannot flush).
func (r *recorder) Flush() {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	_ = http.NewResponseController(r.ResponseWriter).Flush()
}

// markHijacked records that a hijacked stream took over the connection.
func (r *recorder) markHijacked() {
	if r.status == 0 {
		r.status = http.StatusSwitchingProtocols
	}
}
