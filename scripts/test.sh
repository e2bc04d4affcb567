#!/usr/bin/env bash
# The whole test suite: installs what the tests need when it is missing, then runs the Rust and
# the TypeScript tests. Used as `npm test` and by CI.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-system-deps.sh

if [ ! -d node_modules ]; then
  npm ci
fi
npm run build

cargo test --workspace
npx ava
