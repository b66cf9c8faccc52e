package server

import (
	"net/http"
)

// unsupported is the answer to a request no route serves: 501 with a
// message naming the endpoint, so that the client says what berth lacks
// instead of "page not found".
func unsupported(r *http.Request) error {
	return Errorf(http.StatusNotImplemented, "berth does not support %s %s", r.Method, r.URL.Path)
}
