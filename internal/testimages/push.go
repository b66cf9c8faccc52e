package testimages

import (
	"context"
	"fmt"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// Push uploads img to ref (host:port/repo:tag) over plain HTTP, with
// basic auth when user is set.
func Push(ctx context.Context, ref string, img v1.Image, user, pass string) error {
	r, err := name.ParseReference(ref, name.Insecure)
	if err != nil {
		return err
	}
	if err := remote.Write(r, img, remote.WithContext(ctx), remote.WithAuth(auth(user, pass))); err != nil {
		return fmt.Errorf("push %s: %w", ref, err)
	}
	return nil
}

// PushIndex uploads a multi-platform index to ref.
func PushIndex(ctx context.Context, ref string, idx v1.ImageIndex, user, pass string) error {
	r, err := name.ParseReference(ref, name.Insecure)
	if err != nil {
		return err
	}
	if err := remote.WriteIndex(r, idx, remote.WithContext(ctx), remote.WithAuth(auth(user, pass))); err != nil {
		return fmt.Errorf("push %s: %w", ref, err)
	}
	return nil
}

func auth(user, pass string) authn.Authenticator {
	if user == "" {
		return authn.Anonymous
	}
	return authn.FromConfig(authn.AuthConfig{Username: user, Password: pass})
}
