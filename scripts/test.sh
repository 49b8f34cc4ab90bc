#!/usr/bin/env bash
# The whole test command: lint, format, typecheck, unit tests (the workflow tests among them, with mocked
# activities on a Temporal dev server of their own: they need no stack), then integration tests against the
# real local stack (started when it is down), then the deployment checks when their tools are installed.
# The last line is 'N passed, N failed[, N skipped]' over every check and test case.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

passed=0
failed=0
skipped=0
failures=()
stats=$(mktemp)
trap 'rm -f "$stats"' EXIT

check() {
  local name=$1
  shift
  echo "== $name"
  if "$@"; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
    failures+=("$name")
  fi
}

suite() {
  local name=$1
  shift
  echo "== $name"
  rm -f "$stats"
  MOCHA_STATS_FILE=$stats npx mocha --reporter ./test/support/counting-reporter.ts "$@"
  local rc=$?
  if [ -s "$stats" ]; then
    read -r p f s < <(node -e 'const s = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
console.log(s.passes, s.failures, s.pending)' "$stats")
    passed=$((passed + p))
    failed=$((failed + f))
    skipped=$((skipped + s))
    [ "$f" -gt 0 ] && failures+=("$name ($f)")
    if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
      failed=$((failed + 1))
      failures+=("$name (runner exit $rc)")
    fi
  else
    failed=$((failed + 1))
    failures+=("$name (mocha did not run: exit $rc)")
  fi
}

check "lint (eslint)" npx eslint .
check "format (prettier)" npx prettier --check .
check "typecheck (tsc)" npx tsc -p tsconfig.json
check "alert rules (promtool test rules)" promtool test rules monitoring/tests/*.yml
# The workflow unit tests run the cached Temporal CLI: install what is missing (no services started).
bash scripts/stack.sh install || echo "scripts/stack.sh install failed; the workflow unit tests will fail"
suite "unit tests" "test/unit/**/*.test.ts"

if bash scripts/stack.sh status >/dev/null 2>&1 || bash scripts/stack.sh up; then
  suite "integration tests" "test/integration/**/*.test.ts"
else
  failed=$((failed + 1))
  failures+=("local stack could not start (see .stack/logs)")
fi

echo "== deployment checks"
deploy_out=$(bash scripts/check-deploy.sh --if-installed 2>&1)
deploy_rc=$?
echo "$deploy_out"
if [ "$deploy_rc" -ne 0 ]; then
  failed=$((failed + 1))
  failures+=("deployment checks")
elif grep -q "skipped: tools not installed" <<<"$deploy_out"; then
  skipped=$((skipped + 1))
else
  passed=$((passed + 1))
fi

if [ ${#failures[@]} -gt 0 ]; then
  echo
  echo "failed: ${failures[*]}"
fi
echo
line="$passed passed, $failed failed"
[ "$skipped" -gt 0 ] && line="$line, $skipped skipped"
echo "$line"
[ "$failed" -eq 0 ]
