#!/usr/bin/env bash
# Runs a local image registry (Debian's docker-registry) on 127.0.0.1 for
# tests, benchmarks and demos, with its config and storage in a build folder.
#   scripts/registry.sh start   start it (BERTH_REGISTRY_PORT, default 5000;
#                               BERTH_REGISTRY_DIR, default build/registry);
#                               prints export BERTH_REGISTRY=127.0.0.1:PORT
#   scripts/registry.sh stop    stop it
#   scripts/registry.sh status  say whether it answers
# Go tests do not need it: they start their own (internal/testregistry).
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${BERTH_REGISTRY_DIR:-build/registry}
port=${BERTH_REGISTRY_PORT:-5000}
addr=127.0.0.1:$port
pidfile=$dir/registry.pid

answers() { curl -fsS -o /dev/null "http://$addr/v2/" 2>/dev/null; }

case "${1:-}" in
start)
  command -v docker-registry >/dev/null || { echo "docker-registry is not installed: scripts/deps.sh test" >&2; exit 1; }
  if [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null && answers; then
    echo "export BERTH_REGISTRY=$addr"; exit 0
  fi
  if answers; then
    echo "something else answers on $addr: set BERTH_REGISTRY_PORT to a free port" >&2; exit 1
  fi
  mkdir -p "$dir/data"
  cat >"$dir/config.yml" <<YML
version: 0.1
log:
  level: warn
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: $(cd "$dir" && pwd)/data
  delete:
    enabled: true
http:
  addr: $addr
  secret: berth-local-registry
YML
  nohup docker-registry serve "$dir/config.yml" >"$dir/registry.log" 2>&1 &
  echo $! >"$pidfile"
  for _ in $(seq 100); do
    answers && { echo "export BERTH_REGISTRY=$addr"; exit 0; }
    sleep 0.1
  done
  echo "the registry did not start; its log:" >&2; cat "$dir/registry.log" >&2; exit 1
  ;;
stop)
  if [ -f "$pidfile" ]; then
    kill "$(cat "$pidfile")" 2>/dev/null || true
    rm -f "$pidfile"
  fi
  ;;
status)
  if answers; then echo "running on $addr"; else echo "not running on $addr"; exit 1; fi
  ;;
*)
  echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
