#!/bin/sh
# Browser tests, called by `make test-e2e` from the repository root after
# `make build`. Headless Chromium, the gateway and the tests run in a private
# network namespace that has only loopback, so that no candidate or packet
# can leave the machine and Chromium has no other address to wander off to.
#
# A developer machine without Chromium or root skips the tests (exit 0); CI
# (CI=true) must never skip silently, so there every missing piece fails.
set -eu

cd "$(dirname "$0")/.."

skip() {
	if [ "${CI:-}" = "true" ]; then
		echo "FAIL browser tests: $1 (CI=true, so this is not skipped)" >&2
		exit 1
	fi
	echo "SKIP browser tests: $1"
	exit 0
}

[ -x /usr/bin/chromium ] || skip "/usr/bin/chromium is missing (apt-get install chromium)"
[ "$(id -u)" = 0 ] || skip "not root, needed for a private network namespace (unshare -n)"
command -v unshare >/dev/null 2>&1 || skip "unshare is missing (util-linux)"
command -v ip >/dev/null 2>&1 || skip "ip is missing (apt-get install iproute2)"
# Root inside a container may still lack CAP_SYS_ADMIN.
unshare -n true 2>/dev/null || skip "unshare -n is not permitted here"
command -v node >/dev/null 2>&1 || skip "node is missing"
[ -x bin/camgate ] || skip "bin/camgate is missing (make build)"
if [ ! -d e2e/node_modules ] && command -v npm >/dev/null 2>&1; then
	echo "e2e: npm ci --prefix e2e"
	npm ci --prefix e2e --no-audit --no-fund || true
fi
[ -d e2e/node_modules/playwright-core ] || skip "e2e/node_modules is missing (npm ci --prefix e2e)"

mkdir -p e2e/screenshots
# Two test files at a time (E2E_CONCURRENCY): each runs its own camgate and
# Chromium on ephemeral ports, and mostly waits on video; node's default on
# 2 cores is one at a time.
echo "e2e: node --test e2e/ in a loopback-only network namespace, ${E2E_CONCURRENCY:-2} files at a time"
exec unshare -n sh -c "ip link set lo up && exec node --test --test-concurrency=${E2E_CONCURRENCY:-2} e2e/"
