package provision_test

import (
	"errors"
	"reflect"
	"testing"

	"github.com/berthvm/berth/provision"
)

func TestParseInsecureRegistries(t *testing.T) {
	tests := []struct {
		in      []string
		want    []string
		wantBad []string
	}{
		{nil, nil, nil},
		{[]string{""}, nil, nil},
		{[]string{"10.0.2.2:5000"}, []string{"10.0.2.2:5000"}, nil},
		{[]string{"registry.local", " [::1]:5000 "}, []string{"registry.local", "[::1]:5000"}, nil},
		{[]string{"http://10.0.2.2:5000"}, nil, []string{"http://10.0.2.2:5000"}},
		{[]string{"host/path"}, nil, []string{"host/path"}},
		{[]string{"user@host"}, nil, []string{"user@host"}},
		{[]string{":5000"}, nil, []string{":5000"}},
		{[]string{"host:0"}, nil, []string{"host:0"}},
		{[]string{"host:99999"}, nil, []string{"host:99999"}},
		{[]string{"host:http"}, nil, []string{"host:http"}},
		{[]string{"a b"}, nil, []string{"a b"}},
		{[]string{"ok:1", "bad'quote", " c\\d "}, nil, []string{"bad'quote", `c\d`}},
	}
	for _, tt := range tests {
		got, err := provision.ParseInsecureRegistries(tt.in)
		var bad *provision.BadRegistriesError
		errors.As(err, &bad)
		var gotBad []string
		if bad != nil {
			gotBad = bad.Hosts
		}
		if !reflect.DeepEqual(got, tt.want) || !reflect.DeepEqual(gotBad, tt.wantBad) || (err != nil) != (tt.wantBad != nil) {
			t.Errorf("ParseInsecureRegistries(%q) = %q, %v; want %q, bad %q", tt.in, got, err, tt.want, tt.wantBad)
		}
	}
}

func TestBadRegistriesErrorMessage(t *testing.T) {
	_, err := provision.ParseInsecureRegistries([]string{"http://x:5000", "ok", "a b"})
	want := `invalid --insecure-registry "http://x:5000", "a b": give HOST or HOST:PORT, such as 10.0.2.2:5000 (no scheme, no path)`
	if err == nil || err.Error() != want {
		t.Errorf("ParseInsecureRegistries error = %v\nwant %s", err, want)
	}
}
