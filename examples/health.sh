#!/usr/bin/env bash
# Proves the credentials and that Qualys answers. URL and JWT as printed by `npm run demo`.
set -euo pipefail
http --check-status --ignore-stdin POST "${URL:-http://127.0.0.1:9090}/health" "Authorization:Bearer ${JWT:?set JWT (npm run demo prints it)}"
