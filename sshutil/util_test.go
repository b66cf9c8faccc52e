package sshutil_test

import (
	"encoding/base64"
	"strconv"

	"golang.org/x/crypto/ssh"
)

func itoa(i int) string { return strconv.Itoa(i) }

func base64Key(k ssh.PublicKey) string { return base64.StdEncoding.EncodeToString(k.Marshal()) }
