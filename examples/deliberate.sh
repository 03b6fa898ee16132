#!/usr/bin/env bash
# A CTIM verdict for each observable of observables.json that Qualys IOC judged.
set -euo pipefail
http --check-status POST "${URL:-http://127.0.0.1:9090}/deliberate/observables" "Authorization:Bearer ${JWT:?set JWT (npm run demo prints it)}" \
  < "${1:-$(dirname "$0")/observables.json}"
