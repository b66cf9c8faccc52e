//go:build !windows

package image

import (
	"errors"
	"net/http"
	"testing"
)

type failTransport struct{ t *testing.T }

func (f failTransport) RoundTrip(*http.Request) (*http.Response, error) {
	return nil, errors.New("request reached the network")
}

func newRequest(url string) (*http.Request, error) { return http.NewRequest(http.MethodGet, url, nil) }
