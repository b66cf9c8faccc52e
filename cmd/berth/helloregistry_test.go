package main

import (
	"context"
	"strings"
	"testing"

	"github.com/berthvm/berth/internal/testimages"
	"github.com/berthvm/berth/internal/testregistry"
)

// helloRegistry starts a registry on this host holding hello (an amd64 and
// arm64 index) and returns it with its address as a QEMU machine reaches
// this host's 127.0.0.1: 10.0.2.2:PORT (user networking, plain HTTP).
func helloRegistry(t *testing.T) (reg *testregistry.Registry, guestReg string) {
	t.Helper()
	reg = testregistry.Start(t, testregistry.Options{})
	idx, err := testimages.HelloIndex()
	if err != nil {
		t.Fatal(err)
	}
	if err := testimages.PushIndex(context.Background(), reg.Host+"/hello:latest", idx, "", ""); err != nil {
		t.Fatal(err)
	}
	return reg, "10.0.2.2:" + reg.Host[strings.LastIndex(reg.Host, ":")+1:]
}
