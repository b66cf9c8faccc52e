package container

import (
	"reflect"
	"strings"
	"testing"
)

func TestApplyConfig(t *testing.T) {
	img := ImageConfig{Entrypoint: []string{"/entry"}, Cmd: []string{"default"}, Env: []string{"A=1", "PATH=/img"}, WorkingDir: "/srv", User: "app"}
	tests := []struct {
		name     string
		img      ImageConfig
		o        Overrides
		wantArgs []string
		wantEnv  []string
		wantCwd  string
		wantUser string
	}{
		{"image defaults", img, Overrides{}, []string{"/entry", "default"},
			[]string{"PATH=/img", "HOSTNAME=0123456789ab", "A=1"}, "/srv", "app"},
		{"user cmd replaces cmd only", img, Overrides{Cmd: []string{"x", "y"}}, []string{"/entry", "x", "y"}, nil, "/srv", "app"},
		{"entrypoint clears image cmd", img, Overrides{Entrypoint: []string{"/bin/sh"}}, []string{"/bin/sh"}, nil, "/srv", "app"},
		{"empty entrypoint", img, Overrides{Entrypoint: []string{""}, Cmd: []string{"echo"}}, []string{"echo"}, nil, "/srv", "app"},
		{"env override by name, workdir and user", img, Overrides{Env: []string{"A=2", "B=3"}, WorkingDir: "/w/", User: "0:0"},
			[]string{"/entry", "default"}, []string{"PATH=/img", "HOSTNAME=0123456789ab", "A=2", "B=3"}, "/w", "0:0"},
		{"defaults without image settings", ImageConfig{Cmd: []string{"sh"}}, Overrides{},
			[]string{"sh"}, []string{"PATH=" + DefaultPath, "HOSTNAME=0123456789ab"}, "/", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := Spec{ID: "0123456789abcdef"}
			if err := s.ApplyConfig(tc.img, tc.o); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(s.Args, tc.wantArgs) {
				t.Errorf("args = %q, want %q", s.Args, tc.wantArgs)
			}
			if tc.wantEnv != nil && !reflect.DeepEqual(s.Env, tc.wantEnv) {
				t.Errorf("env = %q, want %q", s.Env, tc.wantEnv)
			}
			if s.WorkingDir != tc.wantCwd || s.User != tc.wantUser {
				t.Errorf("cwd, user = %q, %q, want %q, %q", s.WorkingDir, s.User, tc.wantCwd, tc.wantUser)
			}
		})
	}
	s := Spec{ID: "0123456789abcdef"}
	if err := s.ApplyConfig(ImageConfig{}, Overrides{}); err != ErrNoCommand {
		t.Errorf("no command: err = %v, want ErrNoCommand", err)
	}
	if err := s.ApplyConfig(img, Overrides{WorkingDir: "rel"}); err == nil || !strings.Contains(err.Error(), "absolute") {
		t.Errorf("relative workdir: err = %v, want an absolute-path error", err)
	}
}

func TestResolveUser(t *testing.T) {
	passwd := "root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000:app:/home/app:/bin/sh\n"
	group := "root:x:0:\napp:x:1000:\nextra:x:2000:app\n"
	tests := []struct {
		spec    string
		want    ExecUser
		wantErr string
	}{
		{"", ExecUser{0, 0, []uint32{0}, "/root"}, ""},
		{"app", ExecUser{1000, 1000, []uint32{1000, 2000}, "/home/app"}, ""},
		{"1000", ExecUser{1000, 1000, []uint32{1000, 2000}, "/home/app"}, ""},
		{"1234", ExecUser{1234, 0, []uint32{0}, "/"}, ""},
		{"app:extra", ExecUser{1000, 2000, []uint32{2000}, "/home/app"}, ""},
		{"1234:5678", ExecUser{1234, 5678, []uint32{5678}, "/"}, ""},
		{"nosuch", ExecUser{}, "unable to find user nosuch: no matching entries in passwd file"},
		{"app:nogrp", ExecUser{}, "unable to find group nogrp: no matching entries in group file"},
	}
	for _, tc := range tests {
		got, err := ResolveUser(tc.spec, strings.NewReader(passwd), strings.NewReader(group))
		if tc.wantErr != "" {
			if err == nil || err.Error() != tc.wantErr {
				t.Errorf("ResolveUser(%q) error = %v, want %q", tc.spec, err, tc.wantErr)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("ResolveUser(%q) = %+v, %v, want %+v", tc.spec, got, err, tc.want)
		}
	}
}
