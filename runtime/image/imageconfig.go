package image

import (
	"encoding/json"
	"fmt"
	"os"

	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"
)

// DockerConfig reads the Docker extensions of image id's configuration
// (Healthcheck, Shell, OnBuild) that the OCI image config leaves out.
func (s *Store) DockerConfig(id string) (dockerspec.DockerOCIImageConfig, error) {
	var cfg struct {
		Config dockerspec.DockerOCIImageConfig `json:"config"`
	}
	b, err := os.ReadFile(s.blobPath(id))
	if err != nil {
		return cfg.Config, fmt.Errorf("read image config %s: %w", id, err)
	}
	if err := json.Unmarshal(b, &cfg); err != nil {
		return cfg.Config, fmt.Errorf("parse image config %s: %w", id, err)
	}
	return cfg.Config, nil
}
