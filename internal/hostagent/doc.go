// Package hostagent is the per-machine background process on the user's
// host that serves the machine's Docker Engine API on a local socket (a
// named pipe on Windows), relays each connection to the agent in the
// machine as a stream of one kept dial-mux session (see agentclient),
// keeps the host's port forwards in
// line with the containers, and records the status `berth ls` shows.
//
// One host agent runs per running machine at most: it holds a lock in the
// machine folder for its whole life. Its files there (PidFile, LogFile,
// StatusFile, LockFile, SocketFile) are listed in machine.Files.
package hostagent
