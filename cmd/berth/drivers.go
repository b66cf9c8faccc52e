package main

// The drivers the berth binary offers register themselves when imported.
// Add one blank import per driver below, e.g.
//
//	import _ "github.com/berthvm/berth/drivers/qemu"

import (
	_ "github.com/berthvm/berth/drivers/generic"
	_ "github.com/berthvm/berth/drivers/qemu"
	_ "github.com/berthvm/berth/drivers/virtualbox"
)
