package runspec

import (
	"reflect"
	"strings"
	"testing"
)

func TestParsePublish(t *testing.T) {
	tests := []struct {
		in      string
		want    []publishSpec
		wantErr string
	}{
		{in: "80", want: []publishSpec{{ContainerPort: 80, Proto: "tcp"}}},
		{in: "8080:80", want: []publishSpec{{HostPort: 8080, ContainerPort: 80, Proto: "tcp"}}},
		{in: "127.0.0.1:8080:80", want: []publishSpec{{HostIP: "127.0.0.1", HostPort: 8080, ContainerPort: 80, Proto: "tcp"}}},
		{in: "127.0.0.1::80", want: []publishSpec{{HostIP: "127.0.0.1", ContainerPort: 80, Proto: "tcp"}}},
		{in: "0.0.0.0:53:53/udp", want: []publishSpec{{HostIP: "0.0.0.0", HostPort: 53, ContainerPort: 53, Proto: "udp"}}},
		{in: "5353:53/UDP", want: []publishSpec{{HostPort: 5353, ContainerPort: 53, Proto: "udp"}}},
		{in: "80/tcp", want: []publishSpec{{ContainerPort: 80, Proto: "tcp"}}},
		{in: "[::1]:8080:80", want: []publishSpec{{HostIP: "::1", HostPort: 8080, ContainerPort: 80, Proto: "tcp"}}},
		{in: "8000-8001:80-81", want: []publishSpec{
			{HostPort: 8000, ContainerPort: 80, Proto: "tcp"}, {HostPort: 8001, ContainerPort: 81, Proto: "tcp"}}},
		{in: "80-81", want: []publishSpec{{ContainerPort: 80, Proto: "tcp"}, {ContainerPort: 81, Proto: "tcp"}}},
		{in: "8080:80/sctp", wantErr: "not tcp or udp"},
		{in: "8080:0", wantErr: "container port"},
		{in: "70000:80", wantErr: "host port"},
		{in: "x:80", wantErr: "host port"},
		{in: "localhost:8080:80", wantErr: "not an IP address"},
		{in: "1:2:3:4", wantErr: "too many colons"},
		{in: "8000-8002:80-81", wantErr: "differ in length"},
		{in: "81-80", wantErr: "ends before it starts"},
		{in: "[::1]8080:80", wantErr: "IPv6"},
		{in: "", wantErr: "container port"},
	}
	for _, tc := range tests {
		got, err := parsePublish(tc.in)
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("parsePublish(%q) error = %v, want one containing %q", tc.in, err, tc.wantErr)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("parsePublish(%q) = %+v, %v; want %+v", tc.in, got, err, tc.want)
		}
	}
}

func TestPortBindings(t *testing.T) {
	exposed, bindings, err := portBindings([]string{"127.0.0.1:8080:80", "9000:90/udp", "81"})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for p, bs := range bindings {
		for _, b := range bs {
			ip := ""
			if b.HostIP.IsValid() {
				ip = b.HostIP.String()
			}
			got[p.String()] += ip + "|" + b.HostPort
		}
	}
	want := map[string]string{"80/tcp": "127.0.0.1|8080", "90/udp": "|9000", "81/tcp": "|"}
	if !reflect.DeepEqual(got, want) || len(exposed) != 3 {
		t.Errorf("bindings = %v (%d exposed), want %v (3 exposed)", got, len(exposed), want)
	}
}
