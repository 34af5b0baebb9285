#!/usr/bin/env bash
# Set up everything the tests need on a fresh machine, then run them. Used by .ci/run and the README.
set -euo pipefail
cd "$(dirname "$0")/.."

# Debian's chromium for the report's browser tests (Playwright drives it; no browser download).
if ! command -v chromium >/dev/null 2>&1; then
  if [ "$(id -u)" = "0" ]; then
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
      || echo "warning: could not install chromium; the browser tests will fail" >&2
  else
    echo "warning: chromium is missing and this is not root; install Debian's chromium for the browser tests" >&2
  fi
fi

# axe-core (npm) for the report's accessibility check in the browser tests; it is injected into the page by
# the test only, never shipped in a report.
if command -v npm >/dev/null 2>&1 && [ ! -f tests/.node/node_modules/axe-core/axe.min.js ]; then
  npm install --no-save --no-package-lock --no-audit --no-fund --silent --prefix tests/.node axe-core@4 \
    || echo "warning: could not install axe-core; the accessibility check will fail" >&2
fi

# Debian's postgresql for the store tests on PostgreSQL (they start a throwaway cluster with initdb + pg_ctl).
if ! command -v initdb >/dev/null 2>&1 && ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  if [ "$(id -u)" = "0" ]; then
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null) \
      || echo "warning: could not install postgresql; the PostgreSQL store tests will be skipped" >&2
  else
    echo "warning: postgresql is missing and this is not root; install Debian's postgresql for the store tests" >&2
  fi
fi

python3 -m venv .venv
. .venv/bin/activate
python -m pip install -q --upgrade pip
# torch is pinned: 2.13.0 is the CPU build; an unpinned torch would pull a multi-GB CUDA build.
python -m pip install -q torch==2.13.0 -e '.[local,dev]'
# The independent JavaScript bundle verifier (tests/test_bundle_js.py runs it over every vector).
if command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1; then
  (cd verifiers/js && npm ci --no-audit --no-fund --loglevel=error) || echo "warning: npm ci failed in verifiers/js" >&2
fi
python -m pytest -q "$@"
