#!/usr/bin/env bash
# Saves a release's worker as a test fixture: test/fixtures/releases/<commit>.tar.gz holds the sources the
# worker loads (worker.ts and workflows/index.ts with everything they import), its migrations, package.json,
# package-lock.json and tsconfig.json; test/fixtures/releases/PREVIOUS names it as the release the current code
# deploys over.
# The deploy test (test/integration/deploy/deploy.test.ts) runs that worker, so it works from a shallow clone and
# offline, where a tag's commit may be missing.
#
#   bash scripts/release-fixture.sh <tag or commit>     (run when a release is tagged, then record its
#                                                        histories: see test/fixtures/releases/README.md)
set -euo pipefail

if [ $# -ne 1 ] || [ "$1" = "--help" ] || [ "$1" = "-h" ]; then
  sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'
  [ $# -eq 1 ] && exit 0 || exit 2
fi

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT="$REPO_ROOT/test/fixtures/releases"
commit=$(git -C "$REPO_ROOT" rev-parse --short=7 "$1^{commit}")

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
git -C "$REPO_ROOT" archive "$commit" | tar -x -C "$work"
ln -s "$REPO_ROOT/node_modules" "$work/node_modules"

# The import closure of the worker and of the workflow bundle's entry (loaded by path at run time).
(cd "$work" && npx --no-install tsc --listFilesOnly --noEmit --module commonjs --moduleResolution node10 \
  --target es2022 --esModuleInterop --resolveJsonModule --types node worker.ts workflows/index.ts) |
  grep -v '/node_modules/' | sed "s|^$work/||" >"$work/.files"
{
  cat "$work/.files"
  (cd "$work" && git -C "$REPO_ROOT" ls-tree -r --name-only "$commit" -- migrations)
  echo package.json
  echo package-lock.json
  echo tsconfig.json
} | sort -u >"$work/.list"

mkdir -p "$OUT"
# Reproducible: fixed owners and times, no name or time in the gzip header.
tar -c -C "$work" --owner=0 --group=0 --mtime='2000-01-01 00:00Z' --sort=name -T "$work/.list" |
  gzip -n -9 >"$OUT/$commit.tar.gz"
echo "$commit" >"$OUT/PREVIOUS"
echo "test/fixtures/releases/$commit.tar.gz: $(wc -l <"$work/.list") files, $(wc -c <"$OUT/$commit.tar.gz") bytes"
