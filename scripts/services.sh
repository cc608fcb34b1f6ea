#!/usr/bin/env bash
# Make sure the real PostgreSQL and Redis the tests use are answering; start them if we can.
set -uo pipefail

pg_up() { pg_isready -q -h 127.0.0.1 -p 5432 >/dev/null 2>&1; }
redis_up() { [ "$(redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null)" = "PONG" ]; }

wait_for() {
  local check="$1"
  for _ in $(seq 1 30); do
    "$check" && return 0
    sleep 1
  done
  return 1
}

if ! pg_up; then
  echo "PostgreSQL is not answering on 127.0.0.1:5432; trying to start it" >&2
  if command -v pg_ctlcluster >/dev/null 2>&1 && [ -d /etc/postgresql ]; then
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start >&2 || true
  fi
  if ! wait_for pg_up; then
    echo "FATAL: PostgreSQL is required at 127.0.0.1:5432 (trust auth, user postgres)." >&2
    echo "       Install it with: apt-get install postgresql   (see README, Running the tests)" >&2
    exit 1
  fi
fi

if ! redis_up; then
  echo "Redis is not answering on 127.0.0.1:6379; trying to start it" >&2
  if command -v redis-server >/dev/null 2>&1; then
    mkdir -p /var/lib/redis /var/log/redis 2>/dev/null || true
    redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
      --dir /var/lib/redis --logfile /var/log/redis/ci.log >&2 || true
  fi
  if ! wait_for redis_up; then
    echo "FATAL: Redis is required at 127.0.0.1:6379." >&2
    echo "       Install it with: apt-get install redis-server   (see README, Running the tests)" >&2
    exit 1
  fi
fi
echo "services: PostgreSQL and Redis are answering" >&2
