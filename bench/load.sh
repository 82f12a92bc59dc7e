#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Load test: calendar_sync_server against the Express peer written the guide's way (bench/peers/express),
# both processing against the same loopback fake Meeting BaaS API, in the same run, on the same machine.
#
#   cmake --preset bench && cmake --build build/bench --target calendar_sync_server fake_meetingbaas_api_server
#   bench/load.sh [BUILD_DIR]          (default build/bench; needs wrk, node >= 18 and npm)
#
# Environment: DURATION (10s), CONNECTIONS (32), THREADS (2), WORKERS (2), SCENARIOS ("unique duplicate"),
# SLOW_API_MS (0: the fake API answers at once; e.g. 1500: every API call takes 1.5 s).
#  * unique:    every request is a new calendar.sync_events delivery (a new last_updated_ts): the full
#               acknowledgement path (C++: verify, parse, claim, enqueue into SQLite; Express: parse, Set);
#               the servers then process them (GET each affected event from the fake API).
#  * duplicate: the same delivery over and over (the dedupe path).
#  * paced:     an open-loop client (python3) sending new deliveries at RATE per second (default 500) over 8
#               keep-alive connections; latency counted from each request's scheduled time. wrk is closed-loop
#               and saturates the machine; this one shows the latency at a steady rate.
#  * slow:      "paced" while SLOW_CLIENTS (default 400) other clients send request heads at one byte per
#               second each (reconnecting when the server cuts them off): the acknowledgement latency under
#               a slow-header attack.
# Express is installed with npm into a temporary directory (never committed).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build/bench}
duration=${DURATION:-10s}
connections=${CONNECTIONS:-32}
threads=${THREADS:-2}
workers=${WORKERS:-2}
scenarios=${SCENARIOS:-"duplicate paced slow unique"}
rate=${RATE:-500}
slow_clients=${SLOW_CLIENTS:-400}
slow_api_ms=${SLOW_API_MS:-0}
key=load-test-key

for tool in wrk node npm; do
  command -v "$tool" >/dev/null || { echo "load.sh: $tool is required" >&2; exit 2; }
done
for exe in calendar_sync_server fake_meetingbaas_api_server; do
  [[ -x $build/examples/$exe ]] || { echo "load.sh: build $build/examples/$exe first" >&2; exit 2; }
done

tmp=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT

wait_port() {  # file -> the port of its "listening on HOST:PORT" line, or of its {"event":"listening",...,"port":N} line
  for _ in $(seq 1 200); do
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
  echo "load.sh: $1 never said it was listening" >&2
  cat "$1" >&2
  return 1
}

"$build/examples/fake_meetingbaas_api_server" --api-key "$key" --events 500 --slow-ms "$slow_api_ms" >"$tmp/fake.log" 2>&1 &
pids+=($!)
fake_port=$(wait_port "$tmp/fake.log")

"$build/examples/calendar_sync_server" --listen 127.0.0.1:0 --api-base-url "http://127.0.0.1:$fake_port" \
  --api-key "$key" --state "$tmp/state.sqlite3" --workers "$workers" >"$tmp/cpp.log" 2>&1 &
cpp_pid=$!
pids+=($!)
cpp_port=$(wait_port "$tmp/cpp.log")

mkdir -p "$tmp/express"
cp "$root/bench/peers/express/package.json" "$root/bench/peers/express/server.js" "$tmp/express/"
(cd "$tmp/express" && npm install --no-audit --no-fund --silent >/dev/null 2>&1) ||
  { echo "load.sh: npm install express failed" >&2; exit 2; }
(cd "$tmp/express" && PORT=0 MEETINGBAAS_API_KEY="$key" MEETINGBAAS_API_BASE_URL="http://127.0.0.1:$fake_port" \
  exec node server.js >"$tmp/express.log" 2>&1) &
express_pid=$!
pids+=($!)
express_port=$(wait_port "$tmp/express.log")

cat >"$tmp/unique.lua" <<EOF
-- A new calendar.sync_events delivery per request: thread id and counter make last_updated_ts unique.
local counter = 0
local threads = {}
function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end
function init(args)
  counter = 0
end
function request()
  counter = counter + 1
  local n = (id or 0) * 100000000 + counter
  local ts = os.date("!%Y-%m-%dT%H:%M:%SZ", 1767225600 + n)
  local event = (n % 500) + 1
  local body = string.format('{"event":"calendar.sync_events","data":{"calendar_id":"62cf1c20-6d72-4a52-9217-c391ec23d7bf","last_updated_ts":"%s","affected_event_uuids":["00000000-0000-4000-8000-%012d"]}}', ts, event)
  return wrk.format("POST", "/webhooks/meeting-baas", {["Content-Type"] = "application/json", ["x-meeting-baas-api-key"] = "$key"}, body)
end
EOF
cat >"$tmp/duplicate.lua" <<EOF
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["x-meeting-baas-api-key"] = "$key"
wrk.body = '{"event":"calendar.sync_events","data":{"calendar_id":"62cf1c20-6d72-4a52-9217-c391ec23d7bf","last_updated_ts":"2026-09-14T08:42:17Z","affected_event_uuids":["00000000-0000-4000-8000-000000000001"]}}'
EOF

cat >"$tmp/paced.py" <<'PY'
import http.client, json, sys, threading, time, random
host, port, rate, seconds, key = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4]), sys.argv[5]
conns = 8
lat = []; errors = [0]; lock = threading.Lock()
start = time.monotonic() + 0.2
def worker(w):
    c = http.client.HTTPConnection(host, port, timeout=10)
    per = rate / conns; n = 0; mine = []
    while True:
        t = start + (n + w / conns) / per
        if t > start + seconds: break
        now = time.monotonic()
        if t > now: time.sleep(t - now)
        ts = time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime(1767225600 + w * 10**8 + n))
        body = json.dumps({"event": "calendar.sync_events", "data": {"calendar_id": "62cf1c20-6d72-4a52-9217-c391ec23d7bf", "last_updated_ts": ts, "affected_event_uuids": ["00000000-0000-4000-8000-%012d" % (n % 500 + 1)]}})
        try:
            c.request("POST", "/webhooks/meeting-baas", body, {"Content-Type": "application/json", "x-meeting-baas-api-key": key})
            r = c.getresponse(); r.read()
            if r.status != 200: errors[0] += 1
        except Exception:
            errors[0] += 1; c = http.client.HTTPConnection(host, port, timeout=10)
        mine.append((time.monotonic() - t) * 1000)  # from the scheduled time: no coordinated omission
        n += 1
    with lock: lat.extend(mine)
ts = [threading.Thread(target=worker, args=(w,)) for w in range(conns)]
[t.start() for t in ts]; [t.join() for t in ts]
lat.sort()
q = lambda p: lat[min(len(lat) - 1, int(len(lat) * p))]
print("%d requests at %.0f/s: p50 %.2f ms, p99 %.2f ms, max %.2f ms, errors %d" % (len(lat), rate, q(0.5), q(0.99), lat[-1], errors[0]))
PY

cat >"$tmp/slow.py" <<'PY'
import socket, sys, time
host, port, count, seconds = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
head = b"POST /webhooks/meeting-baas HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}"
def connect():
    s = socket.socket(); s.setblocking(True); s.connect((host, port)); return [s, 0]
conns = [connect() for _ in range(count)]
end = time.monotonic() + seconds; reconnects = 0
while time.monotonic() < end:
    for c in conns:
        try:
            c[0].send(head[c[1] % len(head):c[1] % len(head) + 1]); c[1] += 1
        except OSError:
            c[0].close(); c[:] = connect(); reconnects += 1
    time.sleep(1)
print("slow clients: %d, reconnects %d" % (count, reconnects), file=sys.stderr)
PY

cpu_ticks() {  # pid -> user + system clock ticks of the process, all its threads
  awk '{print $14 + $15}' "/proc/$1/stat"
}

wait_idle() {  # pid: until the process used at most 2 ticks in a second (its backlog is processed), 180 s at most
  local before after
  for _ in $(seq 1 180); do
    before=$(cpu_ticks "$1")
    sleep 1
    after=$(cpu_ticks "$1")
    ((after - before <= 2)) && return 0
  done
  echo "load.sh: process $1 still busy after 180 s" >&2
}

run() {  # name pid port scenario -> "rps p50 p99 non2xx cpu-us-per-request"
  local name=$1 pid=$2
  shift 2
  set -- "$name" "$@"
  wait_idle "$cpp_pid"  # both servers have finished processing what earlier runs sent them
  wait_idle "$express_pid"
  local out
  if [[ $3 == slow ]]; then
    python3 "$tmp/slow.py" 127.0.0.1 "$2" "$slow_clients" "$(( ${duration%s} + 4 ))" 2>"$tmp/$1-slow.txt" &
    local slow_pid=$!
    sleep 2  # every slow client is connected and has sent its first byte
    out=$(python3 "$tmp/paced.py" 127.0.0.1 "$2" "$rate" "${duration%s}" "$key")
    kill "$slow_pid" 2>/dev/null || true
    wait "$slow_pid" 2>/dev/null || true
    echo "$out" >"$tmp/$1-$3.txt"
    awk -v rate="$rate" '{gsub(",", ""); print rate, $6 "ms", $9 "ms", $NF, "-"}' <<<"$out"
    return
  fi
  if [[ $3 == paced ]]; then
    out=$(python3 "$tmp/paced.py" 127.0.0.1 "$2" "$rate" "${duration%s}" "$key")
    echo "$out" >"$tmp/$1-$3.txt"
    awk -v rate="$rate" '{gsub(",", ""); print rate, $6 "ms", $9 "ms", $NF, "-"}' <<<"$out"
    return
  fi
  wrk -t"$threads" -c"$connections" -d2s -s "$tmp/$3.lua" "http://127.0.0.1:$2/webhooks/meeting-baas" >/dev/null 2>&1 || true
  local t0 t1
  t0=$(cpu_ticks "$pid")
  out=$(wrk --latency -t"$threads" -c"$connections" -d"$duration" -s "$tmp/$3.lua" "http://127.0.0.1:$2/webhooks/meeting-baas")
  t1=$(cpu_ticks "$pid")
  echo "$out" >"$tmp/$1-$3.txt"
  local rps p50 p99 errors requests
  rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
  p50=$(awk '$1 == "50%" {print $2}' <<<"$out")
  p99=$(awk '$1 == "99%" {print $2}' <<<"$out")
  errors=$(awk '/Non-2xx/ {print $NF}' <<<"$out")
  requests=$(awk '/requests in/ {print $1}' <<<"$out")
  # CPU time the server used during the run (all its threads, its processing included) per request.
  echo "$rps ${p50:-?} ${p99:-?} ${errors:-0} $(awk -v t=$((t1 - t0)) -v n="$requests" -v hz="$(getconf CLK_TCK)" 'BEGIN {printf "%.1f", t * 1e6 / hz / n}')"
}

echo "wrk -t$threads -c$connections -d$duration; API delay ${slow_api_ms} ms; calendar_sync_server --workers $workers (SQLite state); node $(node --version), express $(cd "$tmp/express" && node -p 'require("express/package.json").version')"
echo "(each run waits until both servers are idle; cpu = CPU time of the server process per request, processing included)"
printf '%-10s %-22s %12s %10s %10s %8s %12s\n' scenario server requests/s p50 p99 non-2xx "cpu us/req"
for s in $scenarios; do
  read -r rps p50 p99 errors cpu <<<"$(run cpp "$cpp_pid" "$cpp_port" "$s")"
  printf '%-10s %-22s %12s %10s %10s %8s %12s\n' "$s" calendar_sync_server "$rps" "$p50" "$p99" "$errors" "$cpu"
  read -r rps p50 p99 errors cpu <<<"$(run express "$express_pid" "$express_port" "$s")"
  printf '%-10s %-22s %12s %10s %10s %8s %12s\n' "$s" express-peer "$rps" "$p50" "$p99" "$errors" "$cpu"
done
