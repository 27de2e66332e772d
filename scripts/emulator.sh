#!/usr/bin/env bash
# Starts or stops the local AWS emulator (moto's server) on 127.0.0.1.
#
#   scripts/emulator.sh start   # prints the endpoint URL, e.g. http://127.0.0.1:43817
#   scripts/emulator.sh stop    # stops the server started by `start`, by its process id
#
# The process id and port live in .run/, so `stop` ends exactly the server `start` began.
set -euo pipefail
cd "$(dirname "$0")/.."

run_dir=.run
pid_file="$run_dir/emulator.pid"
port_file="$run_dir/emulator.port"

free_port() {
    .venv/bin/python - <<'PY'
import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()
PY
}

start() {
    mkdir -p "$run_dir"
    if [[ -f "$pid_file" ]] && kill -0 "$(cat "$pid_file")" 2>/dev/null; then
        echo "http://127.0.0.1:$(cat "$port_file")"
        return
    fi
    scripts/python-env.sh
    local port
    port=$(free_port)
    # moto's server, launched through scripts/emulator/server.py, which speeds up its Query.
    .venv/bin/python scripts/emulator/server.py -H 127.0.0.1 -p "$port" >"$run_dir/emulator.log" 2>&1 &
    echo $! >"$pid_file"
    echo "$port" >"$port_file"
    for _ in $(seq 1 100); do
        if .venv/bin/python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:$port/moto-api/')" 2>/dev/null; then
            echo "http://127.0.0.1:$port"
            return
        fi
        sleep 0.1
    done
    echo "the emulator did not start on 127.0.0.1:$port within 10 s; see $run_dir/emulator.log" >&2
    stop
    exit 1
}

stop() {
    if [[ -f "$pid_file" ]]; then
        kill "$(cat "$pid_file")" 2>/dev/null || true
        rm -f "$pid_file" "$port_file"
    fi
}

case "${1:-}" in
    start) start ;;
    stop) stop ;;
    *) echo "usage: scripts/emulator.sh start|stop" >&2; exit 2 ;;
esac
