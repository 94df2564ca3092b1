#!/usr/bin/env bash
# Shows each service of the local stack: running/stopped, PID, endpoint and health.
# Exit status: 0 if every service is running and healthy, 3 otherwise.
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$M2W_REPO_ROOT"

all_up=1
printf '%-9s %-8s %-8s %-8s %s\n' SERVICE STATE PID HEALTH ENDPOINT
for svc in "${STACK_SERVICES[@]}"; do
  if pid="$(m2w_running_pid "$svc")"; then
    state=running
    if m2w_healthy "$svc"; then health=ok; else health=FAILING all_up=0; fi
  else
    state=stopped pid=- health=- all_up=0
  fi
  printf '%-9s %-8s %-8s %-8s %s\n' "$svc" "$state" "$pid" "$health" "$(m2w_endpoint "$svc")"
done
if ((all_up)); then
  echo "env file: $STACK_ENV_FILE"
  exit 0
fi
echo "not all services are up: start them with 'npm run stack:up'; logs in $STACK_LOGS/" >&2
exit 3
