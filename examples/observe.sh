#!/usr/bin/env bash
# Qualys IOC events about each observable of observables.json, as CTIM documents.
set -euo pipefail
http --check-status POST "${URL:-http://127.0.0.1:9090}/observe/observables" "Authorization:Bearer ${JWT:?set JWT (npm run demo prints it)}" \
  < "${1:-$(dirname "$0")/observables.json}"
