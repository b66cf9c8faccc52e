package vboxdouble

import (
	"fmt"
	"net/netip"
	"strings"
)

func init() {
	handlers["hostonlyif"] = hostOnlyIfCmd
	handlers["dhcpserver"] = dhcpServerCmd
}

// hostOnlyIf is a host-only adapter. The double creates no host network
// interface: VMs attached to it get an isolated network in QEMU.
type hostOnlyIf struct {
	Name string `json:"name"`
	GUID string `json:"guid"`
	IP   string `json:"ip"`
	Mask string `json:"mask"`
	MAC  string `json:"mac"`
}

// dhcpServer is a DHCP server of a (host-only) network.
type dhcpServer struct {
	Network string `json:"network"`
	IP      string `json:"ip"`
	Mask    string `json:"mask"`
	Lower   string `json:"lower"`
	Upper   string `json:"upper"`
	Enabled bool   `json:"enabled"`
}

func (st *state) findHostOnly(name string) *hostOnlyIf {
	for _, h := range st.HostOnlyIfs {
		if h.Name == name {
			return h
		}
	}
	return nil
}

func hostOnlyIfCmd(e *env, args []string) error {
	sub := args[0]
	switch sub {
	case "create", "remove", "ipconfig":
	default:
		return &usageError{"Unknown sub-command '" + sub + "'", 2}
	}
	opts, _ := subOptions("hostonlyif", sub)
	p, err := getopt(args[1:], opts, e.ver, false, 2)
	if err != nil {
		return err
	}
	switch sub {
	case "create":
		if len(p.pos) > 0 {
			return &usageError{"Invalid parameter '" + p.pos[0] + "'", 2}
		}
		n := len(e.st.HostOnlyIfs)
		for e.st.findHostOnly(fmt.Sprintf("vboxnet%d", n)) != nil {
			n++
		}
		h := &hostOnlyIf{Name: fmt.Sprintf("vboxnet%d", n), GUID: fmt.Sprintf("786f6276-656e-4%03x-8000-0a00270000%02x", n, n), IP: "192.168.56.1", Mask: "255.255.255.0", MAC: fmt.Sprintf("0a:00:27:00:00:%02x", n)}
		e.st.HostOnlyIfs = append(e.st.HostOnlyIfs, h)
		e.changed = true
		if p.has("--machinereadable") {
			fmt.Fprint(e.stdout, h.Name)
			return nil
		}
		fmt.Fprint(e.stderr, "0%...10%...20%...30%...40%...50%...60%...70%...80%...90%...100%\n")
		fmt.Fprintf(e.stdout, "Interface '%s' was successfully created\n", h.Name)
	case "remove":
		if len(p.pos) == 0 {
			return &usageError{"No interface name was specified", 2}
		}
		if len(p.pos) > 1 {
			return &usageError{"Only one interface name can be specified", 2}
		}
		for i, h := range e.st.HostOnlyIfs {
			if h.Name == p.pos[0] {
				e.st.HostOnlyIfs = append(e.st.HostOnlyIfs[:i], e.st.HostOnlyIfs[i+1:]...)
				e.changed = true
				fmt.Fprint(e.stderr, "0%...10%...20%...30%...40%...50%...60%...70%...80%...90%...100%\n")
				return nil
			}
		}
		return apiError("Failed to remove the host-only adapter", "NS_ERROR_FAILURE (0x80004005)", "HostWrap", "IHost", `"FindHostNetworkInterfaceByName(...)" at line 251 of file VBoxManageHostonly.cpp`)
	case "ipconfig":
		if len(p.pos) != 1 {
			return &usageError{"No interface name was specified", 2}
		}
		h := e.st.findHostOnly(p.pos[0])
		if h == nil {
			return &usageError{"Could not find interface '" + p.pos[0] + "'", 2}
		}
		ip, hasIP := p.get("--ip")
		if p.has("--dhcp") && (hasIP || p.has("--netmask")) {
			return &usageError{"You can not use --dhcp with static ip configuration parameters: --ip, --netmask, --ipv6 and --netmasklengthv6.", 2}
		}
		if !hasIP {
			return notImplemented("hostonlyif ipconfig without --ip")
		}
		mask, ok := p.get("--netmask")
		if !ok {
			mask = "255.255.255.0"
		}
		if _, err := netip.ParseAddr(ip); err != nil {
			return apiError("Invalid IP address "+ip, "E_INVALIDARG (0x80070057)", "HostNetworkInterfaceWrap", "IHostNetworkInterface", `"EnableStaticIPConfig(Bstr(pcszIp).raw(), Bstr(pcszNetmask).raw())" at line 292 of file VBoxManageHostonly.cpp`)
		}
		allowed := netip.MustParsePrefix("192.168.56.0/21")
		if a := netip.MustParseAddr(ip); !allowed.Contains(a) && !e.ver.less(version{6, 1, 28}) {
			// VirtualBox >= 6.1.28 without /etc/vbox/networks.conf.
			return apiError("Code E_ACCESSDENIED (0x80070005) - Access denied (extended info not available)", "E_ACCESSDENIED (0x80070005)", "HostNetworkInterfaceWrap", "IHostNetworkInterface", `"EnableStaticIPConfig(Bstr(pcszIp).raw(), Bstr(pcszNetmask).raw())" at line 242 of file VBoxManageHostonly.cpp`)
		}
		h.IP, h.Mask = ip, mask
		e.changed = true
	}
	return nil
}

func listHostOnlyIfs(e *env) {
	for _, h := range e.st.HostOnlyIfs {
		fmt.Fprintf(e.stdout, "Name:            %s\nGUID:            %s\nDHCP:            Disabled\nIPAddress:       %s\nNetworkMask:     %s\nIPV6Address:     \nIPV6NetworkMaskPrefixLength: 0\nHardwareAddress: %s\nMediumType:      Ethernet\n",
			h.Name, h.GUID, h.IP, h.Mask, h.MAC)
		if !e.ver.less(version{6, 0, 0}) {
			fmt.Fprintf(e.stdout, "Wireless:        No\n")
		}
		fmt.Fprintf(e.stdout, "Status:          Up\nVBoxNetworkName: HostInterfaceNetworking-%s\n\n", h.Name)
	}
}

func dhcpServerCmd(e *env, args []string) error {
	spc := spec.Commands["dhcpserver"]
	opts := append(append([]optSpec{}, spc.CommonOptions...), spc.AddModifyOptions...)
	p, err := getopt(args, opts, e.ver, false, 2)
	if err != nil {
		return err
	}
	if len(p.pos) == 0 {
		return &usageError{"No subcommand specified", 2}
	}
	sub := p.pos[0]
	switch sub {
	case "add", "modify", "remove":
	case "start", "restart", "stop", "findlease":
		return notImplemented("dhcpserver " + sub)
	default:
		return &usageError{"Unknown subcommand: " + sub, 2}
	}
	netName, hasNet := p.get("--network")
	ifName, hasIf := p.get("--interface")
	switch {
	case hasNet && hasIf:
		return &usageError{"Either --network or --interface, not both", 2}
	case hasIf:
		if e.st.findHostOnly(ifName) == nil {
			return &usageError{"Could not find interface '" + ifName + "'", 2}
		}
		netName = "HostInterfaceNetworking-" + ifName
	case !hasNet:
		return &usageError{"You need to specify either --network or --interface to identify the DHCP server", 2}
	}
	var cur *dhcpServer
	idx := -1
	for i, d := range e.st.DHCP {
		if d.Network == netName {
			cur, idx = d, i
		}
	}
	switch sub {
	case "remove":
		if cur == nil {
			return &runtimeError{lines: []string{"Failed to find DHCP server for network '" + netName + "'"}, exit: 1}
		}
		e.st.DHCP = append(e.st.DHCP[:idx], e.st.DHCP[idx+1:]...)
		e.changed = true
		return nil
	case "add":
		if cur != nil {
			return &usageError{"DHCP server already exists", 2}
		}
		for _, req := range []struct{ name, word string }{{"--server-ip", "--ip"}, {"--netmask", "--netmask"}, {"--lower-ip", "--lowerip"}, {"--upper-ip", "--upperip"}} {
			if !p.has(req.name) {
				return &usageError{"Missing required option: " + req.word, 2}
			}
		}
		cur = &dhcpServer{Network: netName}
		e.st.DHCP = append(e.st.DHCP, cur)
	case "modify":
		if cur == nil {
			return &usageError{"DHCP server does not exist", 2}
		}
	}
	for name, field := range map[string]*string{"--server-ip": &cur.IP, "--netmask": &cur.Mask, "--lower-ip": &cur.Lower, "--upper-ip": &cur.Upper} {
		if v, ok := p.get(name); ok {
			if _, err := netip.ParseAddr(v); err != nil {
				return &usageError{"Invalid IP address: " + v, 2}
			}
			*field = v
		}
	}
	if p.has("--enable") {
		cur.Enabled = true
	}
	if p.has("--disable") {
		cur.Enabled = false
	}
	e.changed = true
	return nil
}

func listDHCPServers(e *env) {
	for i, d := range e.st.DHCP {
		yes := "No"
		if d.Enabled {
			yes = "Yes"
		}
		if e.ver.less(version{6, 1, 0}) {
			fmt.Fprintf(e.stdout, "\nNetworkName:    %s\nIP:             %s\nNetworkMask:    %s\nlowerIPAddress: %s\nupperIPAddress: %s\nEnabled:        %s\n", d.Network, d.IP, d.Mask, d.Lower, d.Upper, yes)
			continue
		}
		if i > 0 {
			fmt.Fprintln(e.stdout)
		}
		fmt.Fprintf(e.stdout, "NetworkName:    %s\nDhcpd IP:       %s\nLowerIPAddress: %s\nUpperIPAddress: %s\nNetworkMask:    %s\nEnabled:        %s\n", d.Network, d.IP, d.Lower, d.Upper, d.Mask, yes)
		fmt.Fprint(e.stdout, strings.Join([]string{
			"Global Configuration:",
			"    minLeaseTime:     default",
			"    defaultLeaseTime: default",
			"    maxLeaseTime:     default",
			"    Forced options:   None",
			"    Suppressed opts.: None",
			"        1/legacy: " + d.Mask,
			"Groups:               None",
			"Individual Configs:   None",
		}, "\n")+"\n")
	}
}
