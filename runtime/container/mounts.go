package container

// Mount is a bind mount of a machine path (a named volume's folder, or a
// path the user gave) or a tmpfs, on Target inside the container.
type Mount struct {
	Type     string `json:"Type"` // "bind" or "tmpfs"
	Source   string `json:"Source,omitempty"`
	Target   string `json:"Target"`
	ReadOnly bool   `json:"ReadOnly,omitempty"`
	// Name is the named volume the source belongs to, if any.
	Name string `json:"Name,omitempty"`
	// Anonymous marks a volume made for this container's `-v /PATH`,
	// removed with the container by `rm -v` and --rm.
	Anonymous bool `json:"Anonymous,omitempty"`
	// NoCopy leaves an empty volume empty (VolumeOptions.NoCopy).
	NoCopy bool `json:"NoCopy,omitempty"`
	// Data are a tmpfs's mount options (mode, size); empty: mode=1777.
	Data string `json:"Data,omitempty"`
}
