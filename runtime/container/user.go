package container

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// ExecUser is who a container process runs as.
type ExecUser struct {
	UID, GID uint32
	Groups   []uint32 // supplementary groups
	Home     string
}

type passwdEntry struct {
	name     string
	uid, gid uint32
	home     string
}

type groupEntry struct {
	name    string
	gid     uint32
	members []string
}

// ResolveUser resolves a Docker user spec ("", "name", "uid", "name:group",
// "uid:gid") against the container's /etc/passwd and /etc/group contents
// (either may be nil when the file is missing), the way Docker does: a
// numeric uid absent from passwd is allowed (gid 0, home "/"), an unknown
// name is an error; supplementary groups are the groups that list the user
// as a member, after the primary group.
func ResolveUser(spec string, passwd, group io.Reader) (ExecUser, error) {
	users, err := parsePasswd(passwd)
	if err != nil {
		return ExecUser{}, err
	}
	groups, err := parseGroup(group)
	if err != nil {
		return ExecUser{}, err
	}
	userPart, groupPart, hasGroup := strings.Cut(spec, ":")
	if userPart == "" {
		userPart = "0"
	}

	u := ExecUser{Home: "/"}
	var found *passwdEntry
	if n, err := strconv.ParseUint(userPart, 10, 32); err == nil {
		u.UID = uint32(n)
		for i := range users {
			if users[i].uid == u.UID {
				found = &users[i]
				break
			}
		}
	} else {
		for i := range users {
			if users[i].name == userPart {
				found = &users[i]
				break
			}
		}
		if found == nil {
			return ExecUser{}, fmt.Errorf("unable to find user %s: no matching entries in passwd file", userPart)
		}
	}
	if found != nil {
		u.UID, u.GID, u.Home = found.uid, found.gid, found.home
		if u.Home == "" {
			u.Home = "/"
		}
	}

	if hasGroup && groupPart != "" {
		if n, err := strconv.ParseUint(groupPart, 10, 32); err == nil {
			u.GID = uint32(n)
		} else {
			var g *groupEntry
			for i := range groups {
				if groups[i].name == groupPart {
					g = &groups[i]
					break
				}
			}
			if g == nil {
				return ExecUser{}, fmt.Errorf("unable to find group %s: no matching entries in group file", groupPart)
			}
			u.GID = g.gid
		}
	}

	if found != nil {
		for _, g := range groups {
			for _, m := range g.members {
				if m == found.name {
					u.Groups = append(u.Groups, g.gid)
					break
				}
			}
		}
	}
	// The primary group leads the supplementary groups, as with Docker.
	groupsOut := []uint32{u.GID}
	for _, g := range u.Groups {
		if g != u.GID {
			groupsOut = append(groupsOut, g)
		}
	}
	u.Groups = groupsOut
	return u, nil
}

func parsePasswd(r io.Reader) ([]passwdEntry, error) {
	var out []passwdEntry
	err := eachLine(r, func(f []string) {
		if len(f) < 6 {
			return
		}
		uid, err1 := strconv.ParseUint(f[2], 10, 32)
		gid, err2 := strconv.ParseUint(f[3], 10, 32)
		if err1 != nil || err2 != nil {
			return
		}
		out = append(out, passwdEntry{name: f[0], uid: uint32(uid), gid: uint32(gid), home: f[5]})
	})
	if err != nil {
		return nil, fmt.Errorf("read passwd file: %w", err)
	}
	return out, nil
}

func parseGroup(r io.Reader) ([]groupEntry, error) {
	var out []groupEntry
	err := eachLine(r, func(f []string) {
		if len(f) < 3 {
			return
		}
		gid, err := strconv.ParseUint(f[2], 10, 32)
		if err != nil {
			return
		}
		g := groupEntry{name: f[0], gid: uint32(gid)}
		if len(f) > 3 && f[3] != "" {
			g.members = strings.Split(f[3], ",")
		}
		out = append(out, g)
	})
	if err != nil {
		return nil, fmt.Errorf("read group file: %w", err)
	}
	return out, nil
}

func eachLine(r io.Reader, fn func([]string)) error {
	if r == nil {
		return nil
	}
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		fn(strings.Split(line, ":"))
	}
	return sc.Err()
}
