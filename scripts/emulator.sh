#!/usr/bin/env bash
# Starts or stops a local AWS emulator (moto's server) on 127.0.0.1.
#
#   scripts/emulator.sh start       # starts a new server, prints its URL, e.g. http://127.0.0.1:43817
#   scripts/emulator.sh stop URL    # stops the server that `start` printed URL for
#   scripts/emulator.sh stop        # stops every server started from this checkout
#
# Every `start` runs its own server on a free port, so a test run, a replay and a server for
# `mpt serve` never share one, and stopping one leaves the others running. Each server's process
# id is kept in .run/emulator-PORT.pid, and `stop` ends exactly those processes.
set -euo pipefail
cd "$(dirname "$0")/.."

run_dir=.run

free_port() {
    .venv/bin/python - <<'PY'
import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()
PY
}

stop_port() {
    local pid_file="$run_dir/emulator-$1.pid"
    if [[ -f "$pid_file" ]]; then
        kill "$(cat "$pid_file")" 2>/dev/null || true
        rm -f "$pid_file"
    fi
}

start() {
    mkdir -p "$run_dir"
    scripts/python-env.sh
    local port
    port=$(free_port)
    # moto's server, launched through scripts/emulator/server.py, which speeds up its Query.
    .venv/bin/python scripts/emulator/server.py -H 127.0.0.1 -p "$port" >"$run_dir/emulator-$port.log" 2>&1 &
    echo $! >"$run_dir/emulator-$port.pid"
    for _ in $(seq 1 100); do
        if .venv/bin/python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:$port/moto-api/')" 2>/dev/null; then
            echo "http://127.0.0.1:$port"
            return
        fi
        sleep 0.1
    done
    echo "the emulator did not start on 127.0.0.1:$port within 10 s; see $run_dir/emulator-$port.log" >&2
    stop_port "$port"
    exit 1
}

stop() {
    if [[ $# -gt 0 ]]; then
        local port=${1##*:}
        port=${port%%/*}
        if [[ ! "$port" =~ ^[0-9]+$ ]]; then
            echo "cannot read a port from $1; pass the URL that 'scripts/emulator.sh start' printed" >&2
            exit 2
        fi
        stop_port "$port"
        return
    fi
    local pid_file
    for pid_file in "$run_dir"/emulator-*.pid; do
        [[ -f "$pid_file" ]] || continue
        local port=${pid_file##*/emulator-}
        stop_port "${port%.pid}"
    done
}

case "${1:-}" in
    start) start ;;
    stop) shift; stop "$@" ;;
    *) echo "usage: scripts/emulator.sh start | stop [URL]" >&2; exit 2 ;;
esac
