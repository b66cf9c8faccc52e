package machine

import (
	"errors"
	"reflect"
	"testing"
)

func TestSetInsecureRegistries(t *testing.T) {
	s, m := stoppedMachine(t)
	for _, hosts := range [][]string{{"10.0.2.2:5000", "reg.local"}, nil} {
		if err := s.SetInsecureRegistries(m, hosts); err != nil {
			t.Fatal(err)
		}
		got, err := s.Load("dev")
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got.InsecureRegistries, hosts) || !reflect.DeepEqual(m.InsecureRegistries, hosts) {
			t.Errorf("after SetInsecureRegistries(%q) the stored machine has %q, the loaded one %q", hosts, got.InsecureRegistries, m.InsecureRegistries)
		}
	}
	// It takes the machine's lock, so it fails while another holds it.
	unlock, err := s.Lock("dev")
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	if err := s.SetInsecureRegistries(m, []string{"x"}); !errors.Is(err, ErrBusy) {
		t.Errorf("SetInsecureRegistries while another holds the machine's lock = %v, want ErrBusy", err)
	}
}
