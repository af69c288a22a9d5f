#!/usr/bin/env bash
# Runs the whole test suite on a fresh Debian machine, installing what is missing first:
# Bun (pinned, from npm), redis-server (apt), a JDK + Maven (apt; they fetch the MongoDB-wire test
# server from Maven Central). Ends with one line: `tests: N passed, N failed[, N skipped]`.
#   --checks   also run the type check, the linter and the API fuzz run (what CI runs)
set -uo pipefail
cd "$(dirname "$0")/.."

BUN_VERSION=1.4.5
checks=0
[ "${1:-}" = "--checks" ] && checks=1

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
apt_updated=0
apt_install() {
  if [ $apt_updated = 0 ]; then as_root apt-get update -qq >/dev/null; apt_updated=1; fi
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

if ! command -v bun >/dev/null || [ "$(bun --version 2>/dev/null)" != "$BUN_VERSION" ]; then
  echo "installing bun $BUN_VERSION from npm"
  npm install -g --silent "bun@$BUN_VERSION" >/dev/null 2>&1 || { echo "npm install -g bun@$BUN_VERSION failed" >&2; exit 1; }
fi
command -v redis-server >/dev/null || { echo "installing redis-server"; apt_install redis-server; }
command -v shellcheck >/dev/null || { echo "installing shellcheck"; apt_install shellcheck; }
command -v systemd-analyze >/dev/null || { echo "installing systemd (systemd-analyze)"; apt_install systemd; }
command -v promtool >/dev/null || { echo "installing promtool"; apt_install prometheus || true; }
if ! command -v javac >/dev/null || ! command -v mvn >/dev/null; then
  echo "installing a JDK and Maven"
  apt_install default-jdk-headless maven
fi

bun install --frozen-lockfile >/dev/null || { echo "bun install failed" >&2; exit 1; }

failed_checks=0
if [ $checks = 1 ]; then
  echo "== type check"
  bunx tsc --noEmit -p . || failed_checks=$((failed_checks + 1))
  echo "== lint"
  bunx biome check . || failed_checks=$((failed_checks + 1))
fi

echo "== build"
bun run build || { echo "tests: 0 passed, 1 failed"; exit 1; }

echo "== tests"
log=$(mktemp)
# The suites' temporary directories (stores, daemon roots, templates) go under one scratch
# directory that is removed afterwards, so runs do not pile up gigabytes in /tmp.
scratch=$(mktemp -d)
TMPDIR="$scratch" bun test --timeout 60000 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
rm -rf "$scratch"
count() { grep -E "^ *[0-9]+ $1\$" "$log" | tail -1 | awk '{print $1}'; }
passed=$(count pass); failed=$(count fail); skipped=$(count skip)
passed=${passed:-0}; failed=${failed:-0}
[ "$status" != 0 ] && [ "$failed" = 0 ] && failed=1
if [ $checks = 1 ]; then
  # Schemathesis (pinned) over every OpenAPI operation of the compiled binary: no 5xx, responses
  # match their declared schemas, nothing slower than 2 s.
  echo "== fuzz"
  venv="${XDG_CACHE_HOME:-$HOME/.cache}/prexorcloud/fuzz-venv"
  if [ ! -x "$venv/bin/st" ] || ! "$venv/bin/pip" freeze 2>/dev/null | grep -qxF -f tests/fuzz/requirements.txt; then
    python3 -m venv "$venv" 2>/dev/null || { apt_install python3-venv python3-pip; python3 -m venv "$venv"; }
    "$venv/bin/pip" install -q -r tests/fuzz/requirements.txt || failed_checks=$((failed_checks + 1))
  fi
  fuzz_scratch=$(mktemp -d)
  TMPDIR="$fuzz_scratch" bun tests/fuzz/fuzz-api.ts "$venv/bin/st" || failed_checks=$((failed_checks + 1))
  rm -rf "$fuzz_scratch"
fi
[ $failed_checks != 0 ] && echo "checks failed: $failed_checks (type check / lint / fuzz above)"
line="tests: $passed passed, $failed failed"
[ -n "$skipped" ] && [ "$skipped" != 0 ] && line="$line, $skipped skipped"
rm -f "$log"
echo "$line"
[ "$status" = 0 ] && [ $failed_checks = 0 ]
