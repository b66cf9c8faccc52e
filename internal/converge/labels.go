package converge

// Labels docker compose puts on what it makes (compose v5 names; compose
// v1 reads the same ones).
const (
	LabelProject     = "com.docker.compose.project"
	LabelService     = "com.docker.compose.service"
	LabelNumber      = "com.docker.compose.container-number"
	LabelConfigHash  = "com.docker.compose.config-hash"
	LabelOneoff      = "com.docker.compose.oneoff"
	LabelWorkingDir  = "com.docker.compose.project.working_dir"
	LabelConfigFiles = "com.docker.compose.project.config_files"
	LabelVersion     = "com.docker.compose.version"
	LabelDependsOn   = "com.docker.compose.depends_on"
	LabelImage       = "com.docker.compose.image"
	LabelNetwork     = "com.docker.compose.network"
	LabelVolume      = "com.docker.compose.volume"
)

// ComposeVersion is what berth writes in LabelVersion: the docker compose
// release whose labels and config hash it follows (compose v1 only needs
// it to be 1.21.0 or newer to accept the containers' names).
const ComposeVersion = "5.6.0"
