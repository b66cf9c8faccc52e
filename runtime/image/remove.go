package image

import (
	"fmt"
	"slices"
	"strings"
)

// Deleted is one line of what Remove did, like docker's
// [{"Untagged": ...}, {"Deleted": ...}].
type Deleted struct {
	Untagged string
	Deleted  string
}

// Remove untags ref and, when no name and no user is left, deletes the
// image and the layers and blobs no other image uses. Removing by ID an
// image with several names, or an image a container uses, is a conflict
// unless force.
func (s *Store) Remove(ref string, force bool) ([]Deleted, error) {
	s.mu.Lock()
	out, err := s.removeLocked(ref, force)
	if err != nil {
		s.mu.Unlock()
		return nil, err
	}
	layers, err := s.collect() // unlocks
	for _, l := range layers {
		out = append(out, Deleted{Deleted: l})
	}
	if err != nil {
		return out, fmt.Errorf("remove image %s: %w", ref, err)
	}
	return out, nil
}

func (s *Store) removeLocked(ref string, force bool) ([]Deleted, error) {
	im, err := s.findLocked(ref)
	if err != nil {
		return nil, err
	}
	var tags []string
	for n, id := range s.idx.Tags {
		if id == im.ID {
			tags = append(tags, n)
		}
	}
	slices.Sort(tags)
	byID := strings.HasPrefix(im.ID, "sha256:"+strings.TrimPrefix(ref, "sha256:")) && isHex(strings.TrimPrefix(ref, "sha256:"))
	var untag []string
	if byID {
		if len(tags) > 1 && !force {
			return nil, fmt.Errorf("%w: unable to delete %s (must be forced) - image is referenced in multiple repositories", ErrConflict, ShortID(im.ID))
		}
		untag = tags
	} else {
		r, _ := ParseName(ref)
		if full := canonical(r); slices.Contains(tags, full) {
			untag = []string{full}
		}
	}
	remaining := len(tags) - len(untag)
	if len(im.Users) > 0 && !force && remaining == 0 {
		what := fmt.Sprintf("repository reference %q", ref)
		if byID {
			what = ShortID(im.ID)
		}
		return nil, fmt.Errorf("%w: unable to remove %s (must force) - container %s is using its referenced image %s", ErrConflict, what, ShortID(im.Users[0]), ShortID(im.ID))
	}
	var out []Deleted
	for _, n := range untag {
		delete(s.idx.Tags, n)
		out = append(out, Deleted{Untagged: Familiar(n)})
	}
	if remaining == 0 && len(im.Users) == 0 {
		for _, d := range im.RepoDigests {
			out = append(out, Deleted{Untagged: Familiar(d)})
		}
		delete(s.idx.Images, im.ID)
		out = append(out, Deleted{Deleted: im.ID})
	}
	if err := s.saveLocked(); err != nil {
		return nil, err
	}
	return out, nil
}

// Tag gives the image that source names the name target.
func (s *Store) Tag(source, target string) error {
	r, err := ParseName(target)
	if err != nil {
		return err
	}
	if strings.Contains(target, "@") {
		return fmt.Errorf("%w: tag %q: a tag cannot be a digest", ErrInvalid, target)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	im, err := s.findLocked(source)
	if err != nil {
		return err
	}
	s.idx.Tags[canonical(r)] = im.ID
	return s.saveLocked()
}
