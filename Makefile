# berth: build, test and demo. `make demo` and `make test` install what they
# need from Debian's packages (scripts/deps.sh) on a fresh Debian machine.
GO ?= go
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -s -w -X github.com/berthvm/berth/version.Version=$(VERSION)
export PATH := $(PATH):$(shell $(GO) env GOPATH)/bin

.PHONY: all build test test-deps lint iso demo cross bench clean

all: build

build:
	$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o bin/berth ./cmd/berth
	CGO_ENABLED=0 GOOS=linux GOARCH=amd64 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o bin/linux-amd64/berth-agent ./cmd/berth-agent
	CGO_ENABLED=0 GOOS=linux GOARCH=arm64 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o bin/linux-arm64/berth-agent ./cmd/berth-agent

test-deps:
	scripts/deps.sh test

test: test-deps build
	$(GO) test -timeout 60m ./...

lint:
	test -z "$$(gofmt -l $$(git ls-files '*.go'))" || (gofmt -l $$(git ls-files '*.go'); exit 1)
	$(GO) vet ./...
	staticcheck ./...

clean:
	rm -rf bin build
