package virtualbox

import (
	"strings"
)

// listedVM is one line of `list vms` or `list runningvms`.
type listedVM struct {
	Name string
	UUID string
}

// parseListVMs reads `list vms` output: `"name" {uuid}` per line. A name
// may itself hold `" {`, so the last one ends it.
func parseListVMs(out string) []listedVM {
	var vms []listedVM
	for _, line := range strings.Split(out, "\n") {
		line = strings.TrimRight(line, "\r")
		i := strings.LastIndex(line, `" {`)
		if !strings.HasPrefix(line, `"`) || i < 1 || !strings.HasSuffix(line, "}") {
			continue
		}
		vms = append(vms, listedVM{Name: line[1:i], UUID: line[i+3 : len(line)-1]})
	}
	return vms
}

// hostOnlyIf is one adapter of `list hostonlyifs`.
type hostOnlyIf struct {
	Name        string
	DHCP        bool
	IPAddress   string
	NetworkMask string
	Up          bool
	NetworkName string
}

// parseHostOnlyIfs reads `list hostonlyifs` records (blank-line separated
// "Label:  value" lines; 6.x adds Wireless:). Unknown labels are ignored.
func parseHostOnlyIfs(out string) []hostOnlyIf {
	var ifs []hostOnlyIf
	for _, rec := range records(out) {
		var h hostOnlyIf
		for k, v := range rec {
			switch k {
			case "Name":
				h.Name = v
			case "DHCP":
				h.DHCP = v == "Enabled"
			case "IPAddress":
				h.IPAddress = v
			case "NetworkMask":
				h.NetworkMask = v
			case "Status":
				h.Up = v == "Up"
			case "VBoxNetworkName":
				h.NetworkName = v
			}
		}
		if h.Name != "" {
			ifs = append(ifs, h)
		}
	}
	return ifs
}

// dhcpServer is one record of `list dhcpservers`.
type dhcpServer struct {
	NetworkName string
	dhcpConfig
	Enabled bool
}

// dhcpConfig is a DHCP server's addresses.
type dhcpConfig struct {
	ServerIP, Mask, Lower, Upper string
}

// parseDHCPServers reads `list dhcpservers` in both layouts: 5.x (IP:,
// lowerIPAddress:, upperIPAddress:) and 6.1+ (Dhcpd IP:, LowerIPAddress:,
// UpperIPAddress:, then an indented Global Configuration block).
func parseDHCPServers(out string) []dhcpServer {
	var srvs []dhcpServer
	for _, rec := range records(out) {
		var d dhcpServer
		for k, v := range rec {
			switch k {
			case "NetworkName":
				d.NetworkName = v
			case "IP", "Dhcpd IP":
				d.ServerIP = v
			case "NetworkMask":
				d.Mask = v
			case "lowerIPAddress", "LowerIPAddress":
				d.Lower = v
			case "upperIPAddress", "UpperIPAddress":
				d.Upper = v
			case "Enabled":
				d.Enabled = v == "Yes"
			}
		}
		if d.NetworkName != "" {
			srvs = append(srvs, d)
		}
	}
	return srvs
}

// records splits "Label:   value" output into blank-line separated
// records. Indented lines (6.1's DHCP configuration details) are skipped.
// A new NetworkName or Name label also starts a record, in case a version
// prints no blank line between records.
func records(out string) []map[string]string {
	var recs []map[string]string
	var cur map[string]string
	flush := func() {
		if len(cur) > 0 {
			recs = append(recs, cur)
		}
		cur = nil
	}
	for _, line := range strings.Split(out, "\n") {
		line = strings.TrimRight(line, "\r ")
		if strings.TrimSpace(line) == "" {
			flush()
			continue
		}
		if line[0] == ' ' || line[0] == '\t' {
			continue
		}
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		k = strings.TrimSpace(k)
		if _, dup := cur[k]; dup || (cur != nil && (k == "Name" || k == "NetworkName")) {
			flush()
		}
		if cur == nil {
			cur = map[string]string{}
		}
		cur[k] = strings.TrimSpace(v)
	}
	flush()
	return recs
}
