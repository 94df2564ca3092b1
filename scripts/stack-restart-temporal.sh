#!/usr/bin/env bash
# Restarts only the Temporal dev server of the local stack, on the same SQLite file
# (.stack/temporal.db), and waits until it is SERVING again. Tests use it to show that workflow
# state survives a server restart. Starts it if it was not running.
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$M2W_REPO_ROOT"

m2w_lock
[[ -f "$STACK_DIR/temporal.db" ]] || m2w_warn "$STACK_DIR/temporal.db does not exist yet: Temporal starts with empty state"
# Find the CLI before stopping anything, so a bad TEMPORAL_CLI_PATH does not leave Temporal down.
m2w_check_cli_path
TEMPORAL_BIN="$(m2w_temporal_bin)" || exit 1
t0=$SECONDS
m2w_stop temporal
m2w_start_temporal
m2w_wait_temporal
m2w_info "temporal: SERVING again on 127.0.0.1:$STACK_TEMPORAL_PORT (pid $(m2w_running_pid temporal)) after $((SECONDS - t0)) s"
