package converge

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sort"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/compose-spec/compose-go/v2/types"
)

// LoadOptions say which compose project to load.
type LoadOptions struct {
	// Files are the compose files: the first is the main one, the rest
	// override it in order. Relative names are relative to WorkDir.
	Files []string
	// Name is the project name; "" takes the files' `name:`, else
	// COMPOSE_PROJECT_NAME, else WorkDir's base name.
	Name string
	// WorkDir is the project folder: relative paths, `.env`; "" is the
	// first file's folder.
	WorkDir string
	// Env adds variables for interpolation, over the process environment
	// (which in turn wins over `.env`), as docker compose does.
	Env map[string]string
	// Profiles to enable; none means COMPOSE_PROFILES from the
	// environment.
	Profiles []string
}

// Load reads compose files as docker compose does (interpolation, `.env`,
// profiles, override files, include, extends), resolves each service's
// environment (env_file read into environment) and drops networks and
// volumes no service uses. Errors name the file and what is wrong.
func Load(ctx context.Context, opts LoadOptions) (*types.Project, error) {
	if len(opts.Files) == 0 {
		return nil, errors.New("load compose project: no compose file given")
	}
	files := make([]string, len(opts.Files))
	for i, f := range opts.Files {
		if opts.WorkDir != "" && !filepath.IsAbs(f) {
			f = filepath.Join(opts.WorkDir, f)
		}
		files[i] = f
	}
	env := make([]string, 0, len(opts.Env))
	for k, v := range opts.Env {
		env = append(env, k+"="+v)
	}
	sort.Strings(env)
	po, err := cli.NewProjectOptions(files,
		cli.WithWorkingDirectory(opts.WorkDir),
		cli.WithEnv(env),
		cli.WithOsEnv,
		cli.WithEnvFiles(),
		cli.WithDotEnv,
		cli.WithDefaultProfiles(opts.Profiles...),
		cli.WithName(opts.Name),
		// As `docker compose up`: environment resolved after loading, the
		// env_file entries then dropped (they are part of the config hash
		// otherwise).
		cli.WithoutEnvironmentResolution,
	)
	if err != nil {
		return nil, fmt.Errorf("load compose project %s: %w", files[0], err)
	}
	p, err := po.LoadProject(ctx)
	if err != nil {
		return nil, fmt.Errorf("load compose project %s: %w", files[0], err)
	}
	if p.Name == "" {
		return nil, fmt.Errorf("load compose project %s: no project name: set one with name: or the project option", files[0])
	}
	p, err = p.WithServicesEnvironmentResolved(true)
	if err != nil {
		return nil, fmt.Errorf("load compose project %s: %w", files[0], err)
	}
	return p.WithoutUnnecessaryResources(), nil
}
