#!/usr/bin/env bash
# npm run demo: stack up, a worker in the background, two sample advisories, one sweep; everything left running.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/stack-up.sh
set -a
# shellcheck disable=SC1091
. ./.stack/env
set +a

pidfile=.stack/pids/worker.pid
if [[ -f $pidfile ]] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
  echo "[demo] worker already running (pid $(cat "$pidfile"))"
else
  echo "[demo] starting the worker (log: .stack/logs/worker.log)"
  setsid nohup node --import tsx src/worker.ts >.stack/logs/worker.log 2>&1 </dev/null &
  echo $! >"$pidfile"
  for _ in $(seq 1 240); do
    grep -q 'mail2waf worker: task queue' .stack/logs/worker.log 2>/dev/null && break
    if ! kill -0 "$(cat "$pidfile")" 2>/dev/null; then
      echo "[demo] the worker exited:" >&2
      cat .stack/logs/worker.log >&2
      exit 2
    fi
    sleep 0.5
  done
  grep -q 'mail2waf worker: task queue' .stack/logs/worker.log || { echo "[demo] worker did not start in 120 s" >&2; exit 2; }
fi
exec node --import tsx scripts/demo.ts
