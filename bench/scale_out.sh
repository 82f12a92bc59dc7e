#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Scale-out benchmark (issue 15, docs/perf/scale-out.md): BOTS bots scheduled by INSTANCES calendar_sync_server
# processes sharing one Redis or PostgreSQL state and one write limit (--api-write-rate RATE), against the
# loopback fake Meeting BaaS API. The limit allows one write per 1/RATE s, so BOTS bots take at least
# (BOTS - 1) / RATE s (99.8 s for 500 at 5/s); the script reports the measured time from the first delivery
# to the last bot POST, its ratio to that bound, the longest gap and the most writes in any one second, and
# the 429s the servers saw.
#
#   cmake --preset bench && cmake --build build/bench --target calendar_sync_server fake_meetingbaas_api_server
#   bench/scale_out.sh [BUILD_DIR] [redis|postgres]      (default build/bench, redis)
#
# Environment: BOTS (500), RATE (5), INSTANCES (3), WORKERS (2 per instance). The state server: the
# MEETINGBAAS_TEST_REDIS_URL / MEETINGBAAS_TEST_POSTGRES_URL of a running one (it is wiped: Redis db 14, a
# database "mb_bench_scale_out"), else one started with .ci/services.sh for the run. Needs curl and python3.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build/bench}
backend=${2:-redis}
bots=${BOTS:-500}
rate=${RATE:-5}
instances=${INSTANCES:-3}
workers=${WORKERS:-2}
key=scale-bench-key

for tool in curl python3; do
  command -v "$tool" >/dev/null || { echo "scale_out.sh: $tool is required" >&2; exit 2; }
done
for exe in calendar_sync_server fake_meetingbaas_api_server; do
  [[ -x $build/examples/$exe ]] || { echo "scale_out.sh: build $build/examples/$exe first" >&2; exit 2; }
done

tmp=$(mktemp -d)
pids=()
started_services=false
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  if $started_services; then stop_services >/dev/null 2>&1 || true; fi
  rm -rf "$tmp"
}
trap cleanup EXIT

# The state server, wiped.
case $backend in
  redis)
    if [[ -z ${MEETINGBAAS_TEST_REDIS_URL:-} ]]; then
      # shellcheck source=.ci/services.sh
      source "$root/.ci/services.sh"; start_redis >/dev/null; started_services=true
    fi
    state="$MEETINGBAAS_TEST_REDIS_URL/14"
    redis-cli -u "$state" flushdb >/dev/null
    ;;
  postgres)
    if [[ -z ${MEETINGBAAS_TEST_POSTGRES_URL:-} ]]; then
      # shellcheck source=.ci/services.sh
      source "$root/.ci/services.sh"; start_postgres >/dev/null; started_services=true
    fi
    PGOPTIONS="-c client_min_messages=warning" psql "$MEETINGBAAS_TEST_POSTGRES_URL" -qc "DROP DATABASE IF EXISTS mb_bench_scale_out WITH (FORCE)" >/dev/null
    psql "$MEETINGBAAS_TEST_POSTGRES_URL" -qc "CREATE DATABASE mb_bench_scale_out" >/dev/null
    state="${MEETINGBAAS_TEST_POSTGRES_URL%/*}/mb_bench_scale_out"
    ;;
  *) echo "scale_out.sh: the backend is redis or postgres" >&2; exit 2 ;;
esac

wait_port() {  # file -> the port of its "listening on HOST:PORT" or {"event":"listening",...,"port":N} line
  for _ in $(seq 1 300); do
    if grep -q '"event":"listening"' "$1" 2>/dev/null; then
      grep -m1 '"event":"listening"' "$1" | grep -o '"port":[0-9]*' | sed 's/.*://'
      return 0
    fi
    if grep -q 'listening on' "$1" 2>/dev/null; then
      grep -m1 -o 'listening on [0-9.]*:[0-9]*' "$1" | sed 's/.*://'
      return 0
    fi
    sleep 0.05
  done
  echo "scale_out.sh: $1 did not start:" >&2
  cat "$1" >&2
  return 1
}

"$build/examples/fake_meetingbaas_api_server" --api-key "$key" --events "$bots" >"$tmp/api.out" 2>&1 &
pids+=($!)
api_port=$(wait_port "$tmp/api.out")

ports=()
for ((i = 0; i < instances; i++)); do
  MEETINGBAAS_API_KEY=$key "$build/examples/calendar_sync_server" --listen 127.0.0.1:0 \
    --api-base-url "http://127.0.0.1:$api_port" --state "$state" --instance-id "bench-$i" \
    --api-write-rate "$rate" --workers "$workers" >"$tmp/server$i.log" 2>&1 &
  pids+=($!)
  ports+=("$(wait_port "$tmp/server$i.log")")
done

# One delivery per event, round-robin over the instances (as a load balancer would).
start=$(date +%s.%N)
for ((n = 1; n <= bots; n++)); do
  uuid=$(printf '00000000-0000-4000-8000-%012d' "$n")
  body="{\"event\":\"calendar.sync_events\",\"data\":{\"calendar_id\":\"62cf1c20-6d72-4a52-9217-c391ec23d7bf\",\"last_updated_ts\":\"2026-01-01T00:00:00Z\",\"affected_event_uuids\":[\"$uuid\"]}}"
  port=${ports[$((n % instances))]}
  status=$(curl -s -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' \
    -H "x-meeting-baas-api-key: $key" --data "$body" "http://127.0.0.1:$port/webhooks/meeting-baas")
  [[ $status == 200 ]] || { echo "scale_out.sh: delivery $n answered $status" >&2; exit 1; }
done
sent=$(date +%s.%N)

# Wait until every bot is scheduled (one "action" line with action schedule and result applied per event).
limit=$(python3 -c "print(int(($bots - 1) / $rate * 2 + 60))")
for ((t = 0; t < limit * 10; t++)); do
  done_count=$(cat "$tmp"/server*.log | grep '"event":"action"' | grep '"action":"schedule"' |
    grep -c '"result":"applied"' || true)
  [[ $done_count -ge $bots ]] && break
  sleep 0.1
done

throttled=0
for port in "${ports[@]}"; do
  n=$(curl -s "http://127.0.0.1:$port/metrics" | awk '/^meetingbaas_api_calls_total\{status="429"\}/ {s += $2} END {print s + 0}')
  throttled=$((throttled + n))
done

python3 - "$start" "$sent" "$bots" "$rate" "$throttled" "$backend" "$instances" "$tmp"/server*.log <<'PY'
import json, sys, datetime
start, sent, bots, rate, throttled, backend, instances = float(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]), int(sys.argv[5]), sys.argv[6], int(sys.argv[7])
times = []
for path in sys.argv[8:]:
    for line in open(path):
        if not line.startswith('{'):
            continue
        e = json.loads(line)
        if e.get('event') == 'action' and e.get('action') == 'schedule' and e.get('result') == 'applied':
            ts = datetime.datetime.strptime(e['ts'].rstrip('Z'), '%Y-%m-%dT%H:%M:%S.%f').replace(tzinfo=datetime.timezone.utc)
            times.append(ts.timestamp())
times.sort()
if len(times) < bots:
    print(f"scale_out.sh: only {len(times)} of {bots} bots scheduled")
    sys.exit(1)
bound = (bots - 1) / rate
total = times[-1] - start
gaps = [b - a for a, b in zip(times, times[1:])]
best = 0
lo = 0
for hi in range(len(times)):
    while times[hi] - times[lo] >= 1.0:
        lo += 1
    best = max(best, hi - lo + 1)
print(f"backend={backend} instances={instances} bots={bots} rate={rate}/s")
print(f"deliveries sent in {sent - start:.1f} s")
print(f"first delivery -> last bot: {total:.2f} s; bound (bots-1)/rate = {bound:.1f} s; ratio {total / bound:.3f}")
print(f"first bot -> last bot: {times[-1] - times[0]:.2f} s; longest gap {max(gaps):.3f} s; "
      f"most bots in any 1 s: {best}; 429s seen by the servers: {throttled}")
PY
