#!/usr/bin/env bash
# Static checks of the deployment files: terraform/ and the Dockerfile.
#
#   bash scripts/check-deploy.sh                  install the tools if needed, then check
#   bash scripts/check-deploy.sh --if-installed   check only if the tools are already cached
#   bash scripts/check-deploy.sh --help
#
# Checks (provider plugins cannot be downloaded here, so init/validate/plan are out of reach):
#   1. no Terraform state, backend.hcl or *.tfvars is tracked or addable in terraform/
#   2. `tofu fmt -check -recursive terraform` (OpenTofu, built from its Go module)
#   3. checkov on terraform/ (framework terraform) and on the Dockerfile (framework dockerfile)
#
# Tools are cached in $KIOSK_CACHE (default ~/.cache/kiosk-pipeline):
#   bin/tofu         OpenTofu $TOFU_VERSION
#   venv-checkov/    a Python virtualenv with checkov $CHECKOV_VERSION
# Installing takes a few minutes once (most of it compiling OpenTofu); later runs take seconds.
set -euo pipefail

TOFU_VERSION=1.10.6
CHECKOV_VERSION=3.3.30

CACHE_DIR="${KIOSK_CACHE:-$HOME/.cache/kiosk-pipeline}"
BIN_DIR="$CACHE_DIR/bin"
TOFU="$BIN_DIR/tofu"
VENV="$CACHE_DIR/venv-checkov"
CHECKOV="$VENV/bin/checkov"
CHECKOV_STAMP="$VENV/.installed-checkov-$CHECKOV_VERSION"

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

log() { printf 'check-deploy: %s\n' "$*"; }
die() {
  printf 'check-deploy: FAILED: %s\n' "$*" >&2
  exit 1
}

usage() {
  cat <<EOF
Usage: bash scripts/check-deploy.sh [--if-installed] [--help]

Static checks of the AWS deployment: Terraform formatting (OpenTofu $TOFU_VERSION,
\`fmt -check -recursive terraform\`), checkov $CHECKOV_VERSION on terraform/ and the Dockerfile,
and a guard against committed Terraform state, backend.hcl or tfvars files.

Options:
  --if-installed  Run only if both tools are already in the cache; otherwise print
                  "skipped: tools not installed" and exit 0 (used by npm test).
  -h, --help      Show this help.

Without options, missing tools are installed first (once, cached, idempotent):
  OpenTofu  built from the Go module github.com/opentofu/opentofu@v$TOFU_VERSION into $BIN_DIR
  checkov   pip-installed into the virtualenv $VENV

Environment:
  KIOSK_CACHE  cache directory (default ~/.cache/kiosk-pipeline)

Exit status: 0 when every check passes (or is skipped with --if-installed), 1 otherwise.
EOF
}

if_installed=false
for arg in "$@"; do
  case "$arg" in
    --if-installed) if_installed=true ;;
    -h | --help)
      usage
      exit 0
      ;;
    *)
      usage >&2
      die "unknown argument: $arg"
      ;;
  esac
done

# The machine may point TF_CLI_CONFIG_FILE at a file that does not exist; OpenTofu then warns on
# every command. fmt needs no CLI configuration, so give it an empty one.
mkdir -p "$CACHE_DIR"
export TF_CLI_CONFIG_FILE="$CACHE_DIR/tofurc.empty"
: >"$TF_CLI_CONFIG_FILE"

tofu_ok() {
  [[ -x "$TOFU" ]] && [[ "$("$TOFU" version 2>/dev/null | head -n 1)" == "OpenTofu v$TOFU_VERSION" ]]
}

checkov_ok() {
  [[ -x "$CHECKOV" && -f "$CHECKOV_STAMP" ]]
}

install_tofu() {
  command -v go >/dev/null || die "Go is needed to build OpenTofu $TOFU_VERSION (apt-get install golang-go, or see go.dev)"
  log "installing OpenTofu $TOFU_VERSION from the Go module proxy (compiles once, takes a few minutes)..."
  # `go install github.com/opentofu/opentofu/cmd/tofu@v$TOFU_VERSION` is refused because the
  # module's go.mod has a replace directive (hashicorp/hcl -> opentofu/hcl). Building inside the
  # downloaded module honours that directive and its go.sum, so the result is the release source.
  local dir tmp
  dir="$(cd "$CACHE_DIR" && go mod download -json "github.com/opentofu/opentofu@v$TOFU_VERSION" |
    sed -n 's/^[[:space:]]*"Dir": "\(.*\)",*$/\1/p')"
  [[ -n "$dir" && -d "$dir" ]] || die "could not download github.com/opentofu/opentofu@v$TOFU_VERSION"
  mkdir -p "$BIN_DIR"
  tmp="$BIN_DIR/.tofu.$$"
  (cd "$dir" && GOFLAGS=-mod=readonly CGO_ENABLED=0 go build -trimpath -buildvcs=false \
    -ldflags "-s -w -X github.com/opentofu/opentofu/version.dev=no" -o "$tmp" ./cmd/tofu) ||
    {
      rm -f "$tmp"
      die "building OpenTofu $TOFU_VERSION failed (see the Go output above)"
    }
  mv -f "$tmp" "$TOFU"
  tofu_ok || die "$TOFU does not report OpenTofu v$TOFU_VERSION"
  log "installed $("$TOFU" version | head -n 1) at $TOFU"
}

install_checkov() {
  command -v python3 >/dev/null || die "python3 is needed to install checkov"
  log "installing checkov $CHECKOV_VERSION into $VENV (about a minute)..."
  rm -rf "$VENV"
  python3 -m venv "$VENV" || die "python3 -m venv failed (apt-get install python3-venv)"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check "checkov==$CHECKOV_VERSION" ||
    die "pip install checkov==$CHECKOV_VERSION failed"
  touch "$CHECKOV_STAMP"
  log "installed checkov $("$CHECKOV" --version) at $CHECKOV"
}

if ! tofu_ok || ! checkov_ok; then
  if $if_installed; then
    log "skipped: tools not installed (run 'npm run check:deploy' once to install OpenTofu $TOFU_VERSION and checkov $CHECKOV_VERSION)"
    exit 0
  fi
  # One installer at a time when several checks start together.
  exec 9>"$CACHE_DIR/.check-deploy.lock"
  if command -v flock >/dev/null; then flock 9; fi
  tofu_ok || install_tofu
  checkov_ok || install_checkov
fi

cd "$REPO_ROOT"
[[ -d terraform && -f Dockerfile ]] || die "terraform/ or Dockerfile missing in $REPO_ROOT"

failures=()

# 1. State and secrets never enter git: nothing tracked, nothing that `git add -A` would pick up.
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  leaked="$(git ls-files --cached --others --exclude-standard -- terraform |
    grep -E '(^|/)(\.terraform/|[^/]*\.tfstate([.].*)?$|backend\.hcl$|[^/]*\.tfvars(\.json)?$|[^/]*\.tfplan$)' || true)"
  if [[ -n "$leaked" ]]; then
    printf '%s\n' "$leaked" | sed 's/^/  /' >&2
    failures+=("terraform state, plans, backend.hcl or tfvars would be committed (listed above): delete them or fix terraform/.gitignore")
  else
    log "ok: no terraform state, plan, backend.hcl or tfvars file is tracked or unignored"
  fi
fi

# 2. Formatting.
if "$TOFU" fmt -check -recursive -diff terraform; then
  log "ok: tofu fmt -check -recursive terraform (OpenTofu $TOFU_VERSION)"
else
  failures+=("terraform files are not formatted: run '$TOFU fmt -recursive terraform'")
fi

# 3. checkov (offline: --skip-download avoids the Prisma Cloud look-ups).
run_checkov() {
  local label="$1"
  shift
  local out status summary
  set +e
  out="$("$CHECKOV" "$@" --quiet --compact --skip-download 2>&1)"
  status=$?
  set -e
  summary="$(printf '%s\n' "$out" | grep -E '^Passed checks: [0-9]+, Failed checks: [0-9]+, Skipped checks: [0-9]+' | tail -n 1 || true)"
  if [[ $status -eq 0 && -n "$summary" ]]; then
    summary="$(printf '%s' "$summary" | sed -E 's/Passed checks: ([0-9]+), Failed checks: ([0-9]+), Skipped checks: ([0-9]+)/passed=\1 failed=\2 skipped=\3/')"
    log "ok: checkov $label: $summary"
  else
    printf '%s\n' "$out" >&2
    failures+=("checkov $label reported failed checks or did not run (exit $status; output above)")
  fi
}

run_checkov terraform -d terraform --framework terraform
run_checkov dockerfile -f Dockerfile --framework dockerfile

if ((${#failures[@]} > 0)); then
  for f in "${failures[@]}"; do printf 'check-deploy: FAILED: %s\n' "$f" >&2; done
  exit 1
fi
log "all deployment checks passed"
