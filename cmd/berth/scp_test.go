package main

import "testing"

func TestParseSCPPath(t *testing.T) {
	tests := []struct {
		arg, goos string
		want      scpPath
		wantErr   bool
	}{
		{"file.txt", "linux", scpPath{Path: "file.txt"}, false},
		{"/abs/file", "linux", scpPath{Path: "/abs/file"}, false},
		{"dev:/etc/os-release", "linux", scpPath{Machine: "dev", Path: "/etc/os-release"}, false},
		{"dev:", "linux", scpPath{Machine: "dev", Path: "."}, false},
		{"dev:rel/path", "linux", scpPath{Machine: "dev", Path: "rel/path"}, false},
		{"./a:b", "linux", scpPath{Path: "./a:b"}, false},
		{"dir/a:b", "linux", scpPath{Path: "dir/a:b"}, false},
		{`C:\Users\me\f.txt`, "windows", scpPath{Path: `C:\Users\me\f.txt`}, false},
		{`C:/Users/me`, "windows", scpPath{Path: `C:/Users/me`}, false},
		{`c:/tmp`, "linux", scpPath{Machine: "c", Path: "/tmp"}, false},
		{":x", "linux", scpPath{}, true},
		{"Bad_Name:/x", "linux", scpPath{}, true},
	}
	for _, tt := range tests {
		got, err := parseSCPPath(tt.arg, tt.goos)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("parseSCPPath(%q, %s) = %+v, %v; want %+v, error %v", tt.arg, tt.goos, got, err, tt.want, tt.wantErr)
		}
	}
}
