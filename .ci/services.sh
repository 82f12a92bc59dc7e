# SPDX-License-Identifier: MIT
# Test services for .ci/run (sourced, not executed): servers started on free loopback ports in temporary
# folders, without systemd (CI runs as root on a fresh Debian 12; PID 1 is not systemd), and stopped at the
# end, also on failure (.ci/run traps EXIT and calls stop_services).
#
#   start_redis / stop_redis   redis-server; exports MEETINGBAAS_TEST_REDIS_URL=redis://127.0.0.1:<port>
#                              (and MEETINGBAAS_TEST_REDIS_SERVER, the binary the tests use for private
#                              servers)
#   start_services / stop_services   all of the above
#
# Humans can use it too: `source .ci/services.sh && start_redis`, run the tests, then `stop_redis`.

MB_SERVICES_DIR=${MB_SERVICES_DIR:-}

# Sets MB_SERVICES_DIR (in this shell: never call it in a $(...) subshell).
mb_services_dir() {
  if [[ -z $MB_SERVICES_DIR ]]; then
    MB_SERVICES_DIR=$(mktemp -d "${TMPDIR:-/tmp}/mb-services-XXXXXX")
    chmod 755 "$MB_SERVICES_DIR"  # a PostgreSQL server running as postgres must be able to enter it
  fi
}

# Waits until process $1 is gone (a daemon re-parented to PID 1 may linger as a zombie: that counts as gone).
mb_wait_gone() {
  local pid=$1 i state
  for ((i = 0; i < 100; i++)); do
    state=$(ps -o stat= -p "$pid" 2>/dev/null || true)
    [[ -z $state || $state == Z* ]] && return 0
    sleep 0.1
  done
  return 1
}

start_redis() {
  [[ -n ${MB_REDIS_PID:-} ]] && return 0
  command -v redis-server >/dev/null || { echo "start_redis: redis-server is not installed" >&2; return 1; }
  local dir port i attempt
  mb_services_dir
  dir="$MB_SERVICES_DIR/redis"
  mkdir -p "$dir"
  for ((attempt = 0; attempt < 10; attempt++)); do
    port=$((20000 + RANDOM % 20000))
    rm -f "$dir/redis.pid" "$dir/redis.log"
    redis-server --port "$port" --bind 127.0.0.1 --daemonize yes --save '' --appendonly no \
      --dir "$dir" --pidfile "$dir/redis.pid" --logfile "$dir/redis.log" || continue
    for ((i = 0; i < 50; i++)); do
      if redis-cli -p "$port" ping 2>/dev/null | grep -q PONG; then
        MB_REDIS_PID=$(cat "$dir/redis.pid")
        export MEETINGBAAS_TEST_REDIS_URL="redis://127.0.0.1:$port"
        MEETINGBAAS_TEST_REDIS_SERVER=$(command -v redis-server)
        export MEETINGBAAS_TEST_REDIS_SERVER
        echo "redis-server $(redis-server --version | awk '{print $3}') on $MEETINGBAAS_TEST_REDIS_URL (pid $MB_REDIS_PID, $dir)"
        return 0
      fi
      if grep -q 'Address already in use' "$dir/redis.log" 2>/dev/null; then break; fi
      sleep 0.1
    done
    if [[ -e $dir/redis.pid ]]; then kill "$(cat "$dir/redis.pid")" 2>/dev/null || true; fi
  done
  echo "start_redis: no redis-server came up; log:" >&2
  tail -20 "$dir/redis.log" >&2 || true
  return 1
}

stop_redis() {
  [[ -n ${MB_REDIS_PID:-} ]] || return 0
  kill "$MB_REDIS_PID" 2>/dev/null || true
  mb_wait_gone "$MB_REDIS_PID" || kill -9 "$MB_REDIS_PID" 2>/dev/null || true
  unset MB_REDIS_PID MEETINGBAAS_TEST_REDIS_URL MEETINGBAAS_TEST_REDIS_SERVER
}

start_services() {
  if command -v redis-server >/dev/null || [[ ${CI:-} == true ]]; then
    start_redis
  else
    echo "services: redis-server is not installed: the Redis tests will be skipped (under CI=true they fail)"
  fi
}

stop_services() {
  stop_redis
  if [[ -n $MB_SERVICES_DIR ]]; then
    rm -rf "$MB_SERVICES_DIR"
    MB_SERVICES_DIR=
  fi
}
