# berth: build, test and demo. `make demo` and `make test` install what they
# need from Debian's packages (scripts/deps.sh) on a fresh Debian machine.
GO ?= go
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -s -w -X github.com/berthvm/berth/internal/version.Version=$(VERSION)
export PATH := $(PATH):$(shell $(GO) env GOPATH)/bin

.PHONY: all build agents embed-iso release test test-deps lint iso demo cross bench clean test-virtualbox-real reliability soak fuzz

all: build

# The agents are built first: the CLI embeds them, gzip-compressed, from
# provision/agentbin/files (see package provision/agentbin), and the
# berth-os ISO of its architecture from internal/isoembed/files when `make
# iso` has built it (package internal/isoembed; without it berth downloads
# the ISO of its version).
build: agents embed-iso
	$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o bin/berth ./cmd/berth

embed-iso:
	scripts/embed-iso.sh

# dist/: berth for every platform, each carrying the berth-os ISO of its
# architecture, both ISOs, and SHA256SUMS (scripts/release.sh; a binary
# over the 50 MB budget fails it).
release: iso agents
	scripts/embed-iso.sh --require
	VERSION='$(VERSION)' LDFLAGS='$(LDFLAGS)' scripts/release.sh

agents:
	CGO_ENABLED=0 GOOS=linux GOARCH=amd64 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o bin/linux-amd64/berth-agent ./cmd/berth-agent
	CGO_ENABLED=0 GOOS=linux GOARCH=arm64 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o bin/linux-arm64/berth-agent ./cmd/berth-agent
	gzip -9 -n -c bin/linux-amd64/berth-agent > provision/agentbin/files/berth-agent-linux-amd64.gz
	gzip -9 -n -c bin/linux-arm64/berth-agent > provision/agentbin/files/berth-agent-linux-arm64.gz
	@for f in bin/linux-*/berth-agent; do n=$$(wc -c < $$f); echo "$$f: $$n bytes"; \
	  [ $$n -le 15728640 ] || { echo "$$f is over the agent's 15 MB size budget" >&2; exit 1; }; done

test-deps:
	scripts/deps.sh test

# The tests run with the race detector, which needs cgo (CGO_ENABLED=1; the
# agents the tests build stay static, CGO_ENABLED=0, see testenv.Agent).
# It costs little where QEMU sets the pace (a QEMU end-to-end test: 159 s
# plain, 181 s with -race) and 3-5x elsewhere (the packages without VM
# tests: 129 s plain, 354 s; cmd/berth without its VM tests: 52 s, 250 s),
# so every package runs with it. `make test RACE=` runs without.
RACE ?= -race
test: test-deps iso build release lint
	CGO_ENABLED=1 $(GO) test $(RACE) -timeout 60m ./...

# The reliability suite (soak, concurrency, faults, escapes, fuzzing):
# prints its table and writes RELIABILITY.md (scripts/reliability.sh).
# `make soak` is its long form: 500 soak cycles, a minute per fuzz target.
# `make fuzz` runs only the fuzz targets (FUZZTIME each, default 30s).
reliability: test-deps iso build
	scripts/reliability.sh
soak: test-deps iso build
	BERTH_SOAK_CYCLES=500 FUZZTIME=60s scripts/reliability.sh
fuzz:
	scripts/fuzz.sh

# The berth-os guest ISOs (build/berth-os-amd64.iso, also named
# build/berth-os.iso, and build/berth-os-arm64.iso) with the agent on
# them; each skips when nothing changed.
iso: agents
	scripts/deps.sh iso
	scripts/iso/build.sh amd64
	scripts/iso/build.sh arm64

# The VirtualBox end-to-end and conformance tests against the VirtualBox
# installed on this host (`make test` runs them against the VBoxManage double).
test-virtualbox-real:
	BERTH_VBOX_REAL=1 $(GO) test -count=1 -timeout 60m -v -run 'TestVirtualBox|TestConformance$$' ./cmd/berth ./drivers/virtualbox

# gofmt, go vet (also of the CLI for its other platforms) and staticcheck
# (installed at its pinned version by scripts/deps.sh test).
lint:
	scripts/deps.sh lint
	test -z "$$(gofmt -l $$(git ls-files '*.go'))" || (gofmt -l $$(git ls-files '*.go'); exit 1)
	$(GO) vet ./...
	GOOS=windows $(GO) vet ./cmd/... ./internal/...
	GOOS=darwin $(GO) vet ./cmd/... ./internal/...
	$(shell $(GO) env GOPATH)/bin/staticcheck ./...

# The CLI for every platform berth's users are on (Linux-only code lives in
# the agent's _linux.go files).
CROSS := darwin/amd64 darwin/arm64 windows/amd64 linux/arm64
cross: agents
	@set -e; for t in $(CROSS); do \
	  os=$${t%/*}; arch=$${t#*/}; ext=; [ $$os = windows ] && ext=.exe; \
	  echo "berth for $$os/$$arch"; \
	  CGO_ENABLED=0 GOOS=$$os GOARCH=$$arch $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o bin/$$os-$$arch/berth$$ext ./cmd/berth; \
	done

# A machine called demo made with QEMU (reused when it exists), a command
# run in it over SSH, and the time each step took. Installs QEMU when missing.
demo:
	scripts/deps.sh demo
	$(MAKE) iso build
	scripts/demo.sh

# Benchmarks: Go benchmarks (ls of 100 machines: < 50 ms), then the machine
# lifecycle on real QEMU VMs into BENCHMARKS.md (scripts/bench.sh).
bench: build iso
	scripts/deps.sh bench
	$(GO) test -run '^$$' -bench . -benchtime 2s ./cmd/berth
	# Images: pull+unpack of a ~100 MB 5-layer image from a local registry,
	# berth vs docker pull (needs root, docker-registry and the Docker Engine).
	$(GO) run ./internal/testimages/cmd/imagebench
	# Containers: start-to-exit of `true`, berth vs runc vs crun vs docker run; 50 at once.
	scripts/bench-containers.sh
	# Image builds: cold, cached, one file changed; berth vs DOCKER_BUILDKIT=0 docker build.
	scripts/bench-build.sh
	# What Docker's seccomp profile and the bridge network cost a container
	# (start, syscalls, requests), and a syscall under the filter (needs root).
	$(GO) test -run '^$$' -bench '^Benchmark(Seccomp|NetworkModes|BridgeRequests)$$' -benchtime 8x ./runtime/container
	$(GO) test -run '^$$' -bench '^BenchmarkSyscallCost$$' -benchtime 1x ./runtime/seccomp
	# Published ports: HTTP GETs (a new connection each) through the port
	# proxy to busybox httpd in a container, req/s (needs root).
	$(GO) test -run '^$$' -bench PublishedPortHTTP -benchtime 2s ./runtime/container
	# The same from this computer: wrk on 127.0.0.1 through a published port
	# of a QEMU machine (host forward -> agent proxy -> container), req/s.
	scripts/bench-publish.sh
	# Shared folders: dd write/read and a 10,000-file create and walk in a
	# --share folder (virtio-9p) vs the machine's own disk, over berth ssh.
	scripts/bench-shares.sh
	# The docker CLI through a machine's host agent vs this computer's Docker
	# Engine (run --rm, ps), and ls with 3 running machines (no SSH).
	scripts/bench-env.sh
	# Team environments: berth up --wait of examples/team cold and warm,
	# and berth plan on the converged environment (target < 500 ms).
	scripts/bench-team.sh
	# The agent's CPU over 60 idle seconds with 10 containers, plain and with
	# healthchecks and an events follower (root).
	BERTH_IDLE_CPU_SECONDS=60 $(GO) test -count=1 -run TestIdleCPU -v ./runtime/server | grep BENCH
	scripts/bench.sh
	# create and start to ready with every step, next to the floor (the same
	# kernel and initramfs in QEMU alone), idle CPU, run --rm hello.
	scripts/bench-ready.sh

clean:
	rm -rf bin build dist provision/agentbin/files/*.gz internal/isoembed/files/*/berth-os.iso.*
