#!/usr/bin/env bash
# npm test: brings the local stack up (idempotent), then runs every jest project against it.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/stack-up.sh
mkdir -p .stack
status=0
node_modules/.bin/jest --runInBand --json --outputFile=.stack/jest-results.json "$@" || status=$?
# One plain closing line that any CI can read.
node -e '
  const r = require("./.stack/jest-results.json");
  console.log(`jest: ${r.numPassedTests} passed, ${r.numFailedTests} failed, ${r.numPendingTests} skipped`);
' || true
exit "$status"
