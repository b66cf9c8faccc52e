// Package network gives the agent's containers a bridge network: an
// address each on a Linux bridge of the machine, a route out through
// masquerading NAT, and the names of the other containers on the network.
//
// Names are resolved through /etc/hosts, not an agent DNS server: every
// running container's hosts file (bind-mounted from its state folder) is
// rewritten in place whenever a container joins or leaves the network.
// That keeps resolution working while the agent restarts or upgrades, as
// running containers do, and needs no server in the data path; other
// names go to the machine's resolvers (ResolvConf).
package network
