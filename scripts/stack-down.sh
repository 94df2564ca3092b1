#!/usr/bin/env bash
# Stops exactly what scripts/stack-up.sh started (by the PIDs in .stack/pids; for Dovecot, its
# master process) and waits until each process is gone. Data stays: .stack/temporal.db, the mail,
# the mailbox passwords. With --purge, also deletes all stack data (.stack and the /tmp runtime dir).
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$M2W_REPO_ROOT"

purge=0
case "${1:-}" in
  --purge) purge=1 ;;
  -h | --help)
    sed -n '2,4p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
    exit 0
    ;;
  '') ;;
  *) m2w_die "unknown argument '$1' (usage: stack-down.sh [--purge])" ;;
esac

m2w_lock

# The demo's worker first (it uses everything else), then the SMTP relay (it feeds Dovecot), Temporal last.
for svc in worker smtp dovecot oauth moto temporal; do
  m2w_stop "$svc"
done

if ((purge)); then
  m2w_info "purging stack data: $STACK_DIR and $M2W_SHORT_DIR"
  rm -rf "$STACK_DIR" "$M2W_SHORT_DIR"
else
  m2w_info "data kept in $STACK_DIR (delete it with: npm run stack:down -- --purge)"
fi
