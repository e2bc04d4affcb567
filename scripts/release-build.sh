#!/bin/sh
# Builds and tests imgforge's native addon for one release platform, on a machine of that
# platform (see .github/workflows/release.yml): a GitHub runner, or a Debian 11 / Alpine
# container on one. Leaves native/imgforge.<platform>.node for the workflow to upload.
# POSIX sh, since Alpine has no bash.
set -eu
platform=$1
cd "$(dirname "$0")/.."

# The containers start bare: a C toolchain, sgdisk for the install test, and Rust. macOS gets
# sgdisk too; Windows has none, and the install test checks the image only where sgdisk exists.
if command -v apk >/dev/null 2>&1; then
  apk add --no-cache build-base curl sgdisk
elif ! command -v sgdisk >/dev/null 2>&1; then
  if command -v apt-get >/dev/null 2>&1; then
    apt-get update -qq && apt-get install -y -qq gdisk
  elif command -v brew >/dev/null 2>&1; then
    brew install gptfdisk
  fi
fi
if ! command -v cargo >/dev/null 2>&1; then
  curl -sSf https://sh.rustup.rs | sh -s -- -y --profile minimal
  . "$HOME/.cargo/env"
fi

# napi build --release for this machine, then tsc and the CLI bundle.
npm ci
npm run build
built="native/imgforge.$platform.node"
if [ ! -f "$built" ]; then
  echo "expected $built; this machine built: $(ls native/*.node)" >&2
  exit 1
fi

# The napi crate is glue without tests, and its test binary cannot link without Node.
cargo test --workspace --exclude imgforge-napi
npx ava __test__/versions.test.ts __test__/install.test.ts
