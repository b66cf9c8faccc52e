// Package testhttp is what tests use to reach a server that is coming up:
// a GET retried until it answers.
package testhttp

import (
	"io"
	"net/http"
	"time"
)

// Get fetches url and returns its body, retrying every 100 ms while
// nothing answers, for at most within; then the last error.
func Get(url string, within time.Duration) (string, error) {
	c := &http.Client{Timeout: 10 * time.Second}
	deadline := time.Now().Add(within)
	for {
		res, err := c.Get(url)
		if err == nil {
			b, err := io.ReadAll(res.Body)
			res.Body.Close()
			return string(b), err
		}
		if time.Now().After(deadline) {
			return "", err
		}
		time.Sleep(100 * time.Millisecond)
	}
}
