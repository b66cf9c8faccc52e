// Package network gives the agent's containers bridge networks: the
// default one and user-defined ones (docker network create), each a
// Linux bridge with its own subnet, an address each for the containers
// on it, a route out through masquerading NAT, nftables rules that keep
// networks apart, and the names of the other containers on the network.
//
// Names are resolved through /etc/hosts, not an agent DNS server: every
// running container's hosts file (bind-mounted from its state folder) is
// rewritten in place whenever a container joins or leaves one of its
// networks. Each network keeps its part of the file (the container's
// own and its peers' names and aliases, and its links) beside it, and
// the file is joined from the parts. That keeps resolution working while
// the agent restarts or upgrades, as running containers do, and needs no
// server in the data path; other names go to the machine's resolvers
// (ResolvConf).
package network
