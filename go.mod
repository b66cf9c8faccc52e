module github.com/berthvm/berth

go 1.26.8

require github.com/diskfs/go-diskfs v1.9.4

require (
	github.com/djherbis/times v1.6.0 // indirect
	golang.org/x/sys v0.43.0 // indirect
)
