#!/usr/bin/env bash
# Three replicas on one machine, as a Kubernetes Service would run them:
# PostgreSQL and Redis from Debian's packages on loopback ports in a temp
# directory (scripts/test-services), one warehouse simulator, and three
# qlink-facade processes sharing the store and the rate limits. Then
# tests/local_cluster.rs shows, against the running processes:
#
#   - a burst at all three replicas for one tenant limited to 5/s reaches
#     the warehouse at no more than 5/s (the simulator's request log);
#   - duplicate CreateOrder calls sent to different replicas reach the
#     warehouse once;
#   - a push received by one replica reaches a watcher on another;
#   - with Redis stopped the replicas keep serving, each within its share.
#
# Usage: deploy/local-cluster.sh [path/to/qlink-facade]   (CI runs it; so can you)
set -euo pipefail
cd "$(dirname "$0")/.."
binary="${1:-target/debug/qlink-facade}"
[ -x "$binary" ] || cargo build --locked --quiet --bin qlink-facade
work="$(mktemp -d)"
pids=()
services_started=""
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  if [ -n "$services_started" ]; then scripts/test-services stop || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# Services of its own: the checks stop this Redis.
eval "$(scripts/test-services start)"
services_started=1
database="qlink_cluster_$$"
psql "$QLINK_TEST_POSTGRES_URL" -qc "CREATE DATABASE $database" >/dev/null
postgres_url="${QLINK_TEST_POSTGRES_URL%/*}/$database"

sim_port="$(free_port)"
"$binary" simulate --listen "127.0.0.1:$sim_port" --ship-after-secs 60 >"$work/simulator.log" 2>&1 &
pids+=($!)

cat >"$work/facade.toml" <<TOML
[store]
url = "$postgres_url"

[cluster]
redis_url = "$QLINK_TEST_REDIS_URL"
replicas = 3

[[tenant]]
id = "limited"
protocol = "qlink"
base_url = "http://127.0.0.1:$sim_port"
app_key = "demo-app-key"
app_secret = "demo-app-secret"
warehouse_key = "demo-warehouse-key"
rate_limit = { per_second = 5, burst = 5 }

[[tenant]]
id = "pushed"
protocol = "qianyi"
base_url = "http://127.0.0.1:$sim_port/qianyi"
access_id = "demo-access-id"
secret_key = "demo-secret-key"
push = { extra_type = "CLUSTER", access_id = "QIANYI", secret_key = "cluster-push-secret" }
TOML

grpc_addrs=()
http_addrs=()
for replica in a b c; do
  grpc="127.0.0.1:$(free_port)"
  http="127.0.0.1:$(free_port)"
  "$binary" --config "$work/facade.toml" --grpc-addr "$grpc" --http-addr "$http" >"$work/$replica.log" 2>&1 &
  pids+=($!)
  grpc_addrs+=("$grpc")
  http_addrs+=("$http")
done
for http in "${http_addrs[@]}"; do
  for _ in $(seq 1 150); do
    if python3 -c "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://$http/readyz').status == 200 else 1)" 2>/dev/null; then
      continue 2
    fi
    sleep 0.2
  done
  echo "local-cluster: the replica on $http did not get ready" >&2
  cat "$work"/*.log >&2
  exit 1
done
echo "local-cluster: simulator on 127.0.0.1:$sim_port, replicas ${grpc_addrs[*]}" >&2

export QLINK_CLUSTER_GRPC="$(IFS=,; echo "${grpc_addrs[*]}")"
export QLINK_CLUSTER_HTTP="$(IFS=,; echo "${http_addrs[*]}")"
export QLINK_CLUSTER_SIMULATOR="127.0.0.1:$sim_port"
if ! cargo test --locked --quiet --test local_cluster -- --nocapture --test-threads 1; then
  echo "local-cluster: the checks failed; the replicas said:" >&2
  tail -n 40 "$work"/*.log >&2
  exit 1
fi
echo "local-cluster: the three replicas behave as one" >&2
