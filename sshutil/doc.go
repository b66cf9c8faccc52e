// Package sshutil holds the SSH helpers berth uses to reach machines: keys, pinned host keys, exec, shells and SFTP.
package sshutil
