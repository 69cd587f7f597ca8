#!/usr/bin/env bash
# The whole test suite, from a fresh clone: installs what the tests need, type-checks, runs every test file.
# This is THE test command (README.md, `npm test`, .ci/run all call it).
set -euo pipefail
cd "$(dirname "$0")/.."

# Debian packages the tests drive as real peers. Installed when missing and we are root (CI, a fresh machine);
# otherwise the tests that need them say so (and fail under CI=true).
DEB_PACKAGES=(sip-tester linphone-cli baresip baresip-core baresip-ffmpeg sox ffmpeg chromium)
missing=()
for p in "${DEB_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "== installing Debian packages: ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "!! missing Debian packages (${missing[*]}): run as root or install them; tests needing them will skip (fail under CI=true)"
  fi
fi

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "== npm ci"
  npm ci --no-audit --no-fund
fi

echo "== tsc --noEmit"
npx tsc --noEmit

mapfile -t files < <(find test -name '*.test.ts' -not -path '*/node_modules/*' | sort)
echo "== node --test (${#files[@]} files)"
exec node --import tsx --test --test-reporter=spec "${files[@]}"
