package server

import (
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/moby/moby/api/types/jsonstream"
)

// Progress is one message of a JSON progress stream, as Docker writes them
// for pull and load: the typed fields of jsonstream.Message plus the
// preformatted "progress" bar and the legacy "error" string older clients
// read.
type Progress struct {
	jsonstream.Message
	ProgressMessage string `json:"progress,omitempty"`
	ErrorMessage    string `json:"error,omitempty"`
}

// JSONStream writes a stream of Progress messages, one JSON object per
// line, flushed after each so the client sees progress as it happens.
type JSONStream struct {
	w   http.ResponseWriter
	rc  *http.ResponseController
	enc *json.Encoder
}

// NewJSONStream answers 200 with the JSON content type and returns the
// stream to write messages to. Errors found later go into the stream with
// Fail, since the status is already sent.
func NewJSONStream(w http.ResponseWriter) *JSONStream {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	s := &JSONStream{w: w, rc: http.NewResponseController(w), enc: json.NewEncoder(w)}
	_ = s.rc.Flush()
	return s
}

// Send writes one message and flushes it.
func (s *JSONStream) Send(m Progress) error {
	if err := s.enc.Encode(m); err != nil {
		return fmt.Errorf("write progress: %w", err)
	}
	_ = s.rc.Flush()
	return nil
}

// Status sends a plain status line, for an item id when id is not empty.
func (s *JSONStream) Status(id, status string) error {
	return s.Send(Progress{Message: jsonstream.Message{ID: id, Status: status}})
}

// Fail sends err as the stream's final error message, which the docker
// CLI prints and exits non-zero on.
func (s *JSONStream) Fail(err error) error {
	return s.Send(Progress{
		Message:      jsonstream.Message{Error: &jsonstream.Error{Message: err.Error()}},
		ErrorMessage: err.Error(),
	})
}
