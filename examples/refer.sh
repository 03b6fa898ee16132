#!/usr/bin/env bash
# Pivot links into the Qualys UI for each observable of observables.json.
set -euo pipefail
http --check-status POST "${URL:-http://127.0.0.1:9090}/refer/observables" "Authorization:Bearer ${JWT:?set JWT (npm run demo prints it)}" \
  < "${1:-$(dirname "$0")/observables.json}"
