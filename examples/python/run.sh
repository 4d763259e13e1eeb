#!/usr/bin/env bash
# End-to-end check of the Python example against qlink-facade in demo mode.
# From the repo root:  bash examples/python/run.sh
#
#   1. makes a virtualenv (examples/python/.venv, gitignored; QLINK_PY_VENV to
#      put it elsewhere) and installs requirements.txt into it,
#   2. generates the stubs into examples/python/gen/ (gitignored),
#   3. builds qlink-facade (a no-op when up to date; QLINK_FACADE_BIN=path to
#      use a given binary and skip the build) and starts it in demo mode on
#      free loopback ports,
#   4. runs client.py against it (extra arguments are passed on to it, e.g.
#      --page-size 40), and exits with the client's status.
# The server is always stopped on exit; its log is shown when something fails.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
python="${PYTHON:-python3}"
venv="${QLINK_PY_VENV:-$here/.venv}"

say() { printf '==> %s\n' "$*"; }

workdir="$(mktemp -d "${TMPDIR:-/tmp}/qlink-py.XXXXXX")"
server_log="$workdir/server.log"
server_pid=""

cleanup() {
  local status=$?
  trap - EXIT INT TERM
  if [[ -n "$server_pid" ]] && kill -0 "$server_pid" 2>/dev/null; then
    kill -TERM "$server_pid" 2>/dev/null || true
    # The server drains in-flight calls on SIGTERM; do not wait forever.
    for _ in $(seq 1 50); do
      kill -0 "$server_pid" 2>/dev/null || break
      sleep 0.1
    done
    kill -KILL "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  if [[ $status -ne 0 && -s "$server_log" ]]; then
    echo "--- qlink-facade log (last 40 lines) ---" >&2
    tail -n 40 "$server_log" >&2 || true
  fi
  rm -rf "$workdir"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# 1. virtualenv + requirements
if [[ ! -x "$venv/bin/python" ]]; then
  say "creating virtualenv in $venv"
  "$python" -m venv "$venv"
fi
py="$venv/bin/python"
say "installing examples/python/requirements.txt"
"$py" -m pip install -q --disable-pip-version-check -r "$here/requirements.txt"

# 2. stubs
say "generating stubs from proto/ into examples/python/gen/"
bash "$here/generate.sh" "$py"

# 3. server
if [[ -n "${QLINK_FACADE_BIN:-}" ]]; then
  bin="$QLINK_FACADE_BIN"
else
  say "building qlink-facade (cargo build --bin qlink-facade)"
  (cd "$root" && cargo build -q --bin qlink-facade)
  target_dir="${CARGO_TARGET_DIR:-$root/target}"
  [[ "$target_dir" = /* ]] || target_dir="$root/$target_dir"
  bin="$target_dir/debug/qlink-facade"
fi
[[ -x "$bin" ]] || { echo "qlink-facade binary not found at $bin" >&2; exit 1; }

read -r grpc_port http_port < <("$py" - <<'EOF'
import socket
socks = []
for _ in range(2):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    socks.append(s)
print(*(s.getsockname()[1] for s in socks))
for s in socks:
    s.close()
EOF
)
target="127.0.0.1:$grpc_port"
say "starting qlink-facade (demo mode) on $target, http 127.0.0.1:$http_port"
# No configuration means demo mode, so make sure none leaks in from the env.
env -u QLINK_FACADE_CONFIG NO_COLOR=1 "$bin" --grpc-addr "$target" --http-addr "127.0.0.1:$http_port" \
  >"$server_log" 2>&1 &
server_pid=$!

deadline=$((SECONDS + 60))
until "$py" "$here/client.py" --target "$target" --ready-only --wait-ready 2 >/dev/null 2>&1; do
  if ! kill -0 "$server_pid" 2>/dev/null; then
    echo "qlink-facade exited before it was ready" >&2
    exit 1
  fi
  if ((SECONDS >= deadline)); then
    echo "qlink-facade did not answer on $target within 60 s" >&2
    exit 1
  fi
  sleep 0.5
done

# 4. the client
say "running examples/python/client.py"
set +e
"$py" "$here/client.py" --target "$target" "$@"
status=$?
set -e
exit "$status"
