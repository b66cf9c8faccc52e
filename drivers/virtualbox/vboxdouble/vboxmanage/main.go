// Command vboxmanage is the VBoxManage test double (package vboxdouble).
// Tests build it as an executable named VBoxManage and put it first on
// PATH; it is never shipped.
package main

import (
	"os"

	"github.com/berthvm/berth/drivers/virtualbox/vboxdouble"
)

func main() {
	code := vboxdouble.Main(os.Args[1:], os.Stdout, os.Stderr, os.Getenv)
	if code == vboxdouble.ExitCrash {
		crash()
	}
	os.Exit(code)
}
