// Package testhttp is what tests use to reach a server that is coming up:
// a GET retried until it answers.
package testhttp

import (
	"context"
	"io"
	"net/http"
	"time"

	"github.com/berthvm/berth/internal/testwait"
)

// Get fetches url and returns its body, retrying while nothing answers,
// for at most within; then the last error.
func Get(url string, within time.Duration) (string, error) {
	c := &http.Client{Timeout: 10 * time.Second}
	var res *http.Response
	err := testwait.Poll(context.Background(), within, func() (err error) {
		res, err = c.Get(url)
		return err
	})
	if err != nil {
		return "", err
	}
	b, err := io.ReadAll(res.Body)
	res.Body.Close()
	return string(b), err
}
