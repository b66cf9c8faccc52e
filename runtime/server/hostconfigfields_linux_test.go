package server

import (
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"

	ctypes "github.com/moby/moby/api/types/container"
)

// hostConfigFields are the JSON names of every field of the API's
// HostConfig, its embedded Resources included.
func hostConfigFields(t *testing.T) []string {
	var names []string
	var walk func(reflect.Type)
	walk = func(typ reflect.Type) {
		for i := 0; i < typ.NumField(); i++ {
			f := typ.Field(i)
			if f.Anonymous {
				walk(f.Type)
				continue
			}
			name := f.Name
			if tag := strings.Split(f.Tag.Get("json"), ",")[0]; tag != "" {
				name = tag
			}
			names = append(names, name)
		}
	}
	walk(reflect.TypeFor[ctypes.HostConfig]())
	return names
}

// TestEveryHostConfigFieldAppliedOrRefused walks the fields of the API's
// HostConfig: each is applied or refused by name. For each refused one, a
// request that sets it (through its JSON name, as a client sends it) gets
// a 400 that names the field; the zero value of every field is accepted.
func TestEveryHostConfigFieldAppliedOrRefused(t *testing.T) {
	refused := map[string]refusal{}
	for _, r := range hostConfigRefusals {
		refused[r.field] = r
	}
	fields := hostConfigFields(t)
	for _, f := range fields {
		_, isRefused := refused[f]
		if isApplied := slices.Contains(appliedHostConfig, f); isApplied == isRefused {
			t.Errorf("HostConfig.%s: applied %v, refused %v; want exactly one (add it to appliedHostConfig or hostConfigRefusals)", f, isApplied, isRefused)
		}
	}
	for _, name := range append(appliedHostConfig, keys(refused)...) {
		if !slices.Contains(fields, name) {
			t.Errorf("%s is listed but HostConfig has no such field", name)
		}
	}
	if err := checkHostConfig(&ctypes.HostConfig{}); err != nil {
		t.Errorf("an empty HostConfig is refused: %v", err)
	}
	// A value that sets each refused field, as JSON a client sends.
	samples := map[string]string{
		"LogConfig": `{"Type":"syslog"}`, "VolumeDriver": `"nfs"`, "VolumesFrom": `["other"]`,
		"Annotations": `{"a":"b"}`, "CgroupnsMode": `"host"`, "Dns": `["1.1.1.1"]`,
		"DnsOptions": `["ndots:2"]`, "DnsSearch": `["example.com"]`, "IpcMode": `"host"`,
		"Cgroup": `"container:x"`, "PidMode": `"host"`, "StorageOpt": `{"size":"1G"}`,
		"UTSMode": `"host"`, "UsernsMode": `"host"`, "Runtime": `"crun"`, "Umask": `18`,
		"Isolation": `"hyperv"`, "MaskedPaths": `[]`, "ReadonlyPaths": `[]`, "CpuShares": `512`,
		"CgroupParent": `"/x"`, "BlkioWeight": `300`, "BlkioWeightDevice": `[{"Path":"/dev/vda","Weight":300}]`,
		"BlkioDeviceReadBps": `[{"Path":"/dev/vda","Rate":1}]`, "BlkioDeviceWriteBps": `[{"Path":"/dev/vda","Rate":1}]`,
		"BlkioDeviceReadIOps": `[{"Path":"/dev/vda","Rate":1}]`, "BlkioDeviceWriteIOps": `[{"Path":"/dev/vda","Rate":1}]`,
		"CpuPeriod": `100000`, "CpuQuota": `50000`, "CpuRealtimePeriod": `1000`, "CpuRealtimeRuntime": `100`,
		"CpusetCpus": `"0"`, "CpusetMems": `"0"`, "DeviceCgroupRules": `["c 1:3 rwm"]`,
		"DeviceRequests": `[{"Count":-1,"Capabilities":[["gpu"]]}]`, "MemoryReservation": `1048576`,
		"MemorySwap": `1073741824`, "MemorySwappiness": `10`, "OomKillDisable": `true`,
		"CpuCount": `1`, "CpuPercent": `50`, "IOMaximumIOps": `10`, "IOMaximumBandwidth": `10`,
	}
	for name := range refused {
		t.Run(name, func(t *testing.T) {
			sample, ok := samples[name]
			if !ok {
				t.Fatalf("no sample value for %s", name)
			}
			var hc ctypes.HostConfig
			if err := json.Unmarshal([]byte(`{"`+name+`":`+sample+`}`), &hc); err != nil {
				t.Fatal(err)
			}
			err := checkHostConfig(&hc)
			if err == nil || !strings.Contains(err.Error(), "HostConfig."+name+" ") || statusOf(err) != 400 {
				t.Errorf("HostConfig.%s = %s: %v, want a 400 naming the field", name, sample, err)
			}
		})
	}
	// What the docker CLI and compose send for their defaults is no-op.
	var defaults ctypes.HostConfig
	if err := json.Unmarshal([]byte(`{"LogConfig":{"Type":"","Config":{}},"NetworkMode":"bridge","RestartPolicy":{"Name":"no"},"CgroupnsMode":"private","IpcMode":"private","MemorySwap":-1,"MemorySwappiness":-1,"OomKillDisable":false,"Isolation":"default","VolumeDriver":"local","Runtime":"runc","Dns":[],"DnsOptions":[],"DnsSearch":[],"BlkioWeightDevice":[]}`), &defaults); err != nil {
		t.Fatal(err)
	}
	if err := checkHostConfig(&defaults); err != nil {
		t.Errorf("the clients' defaults are refused: %v", err)
	}
}

func keys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}
