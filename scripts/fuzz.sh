#!/usr/bin/env bash
# Fuzzes imgforge's parsers for a bounded time each: the cargo-fuzz (libFuzzer) targets of fuzz/
# (the GPT, FAT32 and EROFS readers) and the TypeScript spec fuzzer (fuzz/spec/). Each run starts
# from a scratch copy of the committed corpus (fuzz/corpus/<target>/), which only --merge changes.
# Fails on any crash, panic, leak, timeout or out-of-memory, naming the reproducer. See fuzz/README.md.
#
#   npm run fuzz -- [--seconds 60] [--only gpt_read,spec] [--merge] [--max-len N] [--timeout 10]
#                   [--rss-limit-mb 2048] [--seed N] [--toolchain auto|nightly|stable] [--list]
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

seconds=60
only=""
merge=0
max_len=""
timeout_s=10
rss_mb=2048
seed=""
toolchain=auto

usage() {
  sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'
  cat <<'EOF'

  --seconds N        fuzzing time per target (default 60; builds are not counted)
  --only LIST        comma-separated targets (default: all; --list shows them)
  --merge            add new interesting inputs (minimized) to the committed corpus
  --max-len N        longest input in bytes (default: 65536 for the Rust targets, 16384 for spec)
  --timeout N        seconds one input may take before it counts as a hang (default 10)
  --rss-limit-mb N   memory limit (libFuzzer -rss_limit_mb/-malloc_limit_mb; the spec fuzzer's heap); default 2048
  --seed N           fixed seed (default: libFuzzer picks one; the spec fuzzer uses 1)
  --toolchain T      auto (nightly if installed or installable, else stable with RUSTC_BOOTSTRAP=1),
                     nightly, or stable (RUSTC_BOOTSTRAP=1)
EOF
}

die() {
  echo "fuzz: $*" >&2
  exit 2
}

need_value() {
  [ $# -ge 2 ] && [ -n "$2" ] || die "$1 needs a value"
}

list_only=0
while [ $# -gt 0 ]; do
  case "$1" in
    --seconds) need_value "$@"; seconds=$2; shift 2 ;;
    --only) need_value "$@"; only=$2; shift 2 ;;
    --merge) merge=1; shift ;;
    --max-len) need_value "$@"; max_len=$2; shift 2 ;;
    --timeout) need_value "$@"; timeout_s=$2; shift 2 ;;
    --rss-limit-mb) need_value "$@"; rss_mb=$2; shift 2 ;;
    --seed) need_value "$@"; seed=$2; shift 2 ;;
    --toolchain) need_value "$@"; toolchain=$2; shift 2 ;;
    --list) list_only=1; shift ;;
    -h | --help) usage; exit 0 ;;
    *) die "unknown option $1 (see --help)" ;;
  esac
done
for n in "$seconds" "$timeout_s" "$rss_mb" ${max_len:+"$max_len"} ${seed:+"$seed"}; do
  [[ "$n" =~ ^[0-9]+$ ]] || die "expected a whole number, got \"$n\""
done
case "$toolchain" in auto | nightly | stable) ;; *) die "--toolchain is auto, nightly or stable, not \"$toolchain\"" ;; esac

# The cargo-fuzz targets are the [[bin]]s of fuzz/Cargo.toml (no cargo-fuzz needed to list them).
mapfile -t rust_targets < <(awk '/^\[\[bin\]\]/ { bin = 1; next } /^\[/ { bin = 0 } bin && /^name *=/ { gsub(/.*= *"|".*/, ""); print }' fuzz/Cargo.toml)
all_targets=("${rust_targets[@]}" spec)
if [ "$list_only" = 1 ]; then
  printf '%s\n' "${all_targets[@]}"
  exit 0
fi
if [ -n "$only" ]; then
  IFS=, read -r -a targets <<<"$only"
  for t in "${targets[@]}"; do
    printf '%s\n' "${all_targets[@]}" | grep -qx -- "$t" || die "unknown target \"$t\"; targets: ${all_targets[*]}"
  done
else
  targets=("${all_targets[@]}")
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/imgforge-fuzz.XXXXXX")
trap 'rm -rf "$work"' EXIT

# ---- the Rust side: cargo-fuzz and a toolchain that takes -Z flags ----

cargo_cmd=()
setup_rust() {
  [ ${#cargo_cmd[@]} -gt 0 ] && return
  command -v cargo >/dev/null || die "cargo is not installed (https://rustup.rs)"
  if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "fuzz: installing cargo-fuzz (cargo install cargo-fuzz --locked)"
    cargo install cargo-fuzz --locked
  fi
  local have_rustup=0
  command -v rustup >/dev/null && have_rustup=1
  local choice=$toolchain
  if [ "$choice" = auto ]; then
    if [ $have_rustup = 0 ]; then
      rustc -V | grep -q nightly && choice=nightly-default || choice=stable
    elif rustup toolchain list | grep -q '^nightly'; then
      choice=nightly
    else
      echo "fuzz: no nightly toolchain; trying: rustup toolchain install nightly --profile minimal"
      if timeout 900 rustup toolchain install nightly --profile minimal; then
        choice=nightly
      else
        echo "fuzz: could not install nightly; using stable with RUSTC_BOOTSTRAP=1 (lets stable rustc take the -Z flags cargo-fuzz passes)"
        choice=stable
      fi
    fi
  fi
  case "$choice" in
    nightly) cargo_cmd=(cargo +nightly) ;;
    nightly-default) cargo_cmd=(cargo) ;;
    stable)
      export RUSTC_BOOTSTRAP=1
      if [ $have_rustup = 1 ]; then cargo_cmd=(cargo +stable); else cargo_cmd=(cargo); fi
      ;;
  esac
  echo "fuzz: toolchain: $("${cargo_cmd[@]}" --version 2>/dev/null | head -1)${RUSTC_BOOTSTRAP:+ (RUSTC_BOOTSTRAP=1)}; $(cargo fuzz --version)"
}

count_files() {
  if [ -d "$1" ]; then find "$1" -maxdepth 1 -type f | wc -l; else echo 0; fi
}

stat_of() { # stat_of <log> <name>: libFuzzer's -print_final_stats value
  sed -n "s/^stat::$2: *//p" "$1" | tail -1
}

summary=()
failed=()

run_rust_target() {
  local t=$1
  setup_rust
  local corpus="$ROOT/fuzz/corpus/$t"
  local scratch="$work/corpus/$t"
  local artifacts="$ROOT/fuzz/artifacts/$t"
  local log="$work/$t.log"
  mkdir -p "$scratch" "$artifacts"
  [ -d "$corpus" ] && cp -a "$corpus/." "$scratch/"
  local before
  before=$(count_files "$scratch")
  ls -1 "$artifacts" | sort >"$work/$t.artifacts.before"

  local args=(
    -max_total_time="$seconds" -timeout="$timeout_s" -rss_limit_mb="$rss_mb" -malloc_limit_mb="$rss_mb"
    -max_len="${max_len:-65536}" -detect_leaks=1 -print_final_stats=1 -artifact_prefix="$artifacts/"
  )
  [ -n "$seed" ] && args+=(-seed="$seed")
  echo
  echo "fuzz: $t: ${seconds} s from $before inputs (${corpus#"$ROOT"/}), max-len ${max_len:-65536}, timeout ${timeout_s} s, rss ${rss_mb} MB"
  local started=$SECONDS status=0
  # The build comes first and is not bounded by -max_total_time; the outer timeout catches a stuck run.
  # libFuzzer's NEW/REDUCE lines go to the log only; pulses, errors and the final stats are shown.
  (cd fuzz && RUST_BACKTRACE=1 timeout --kill-after=30 $((seconds + 1800)) \
    "${cargo_cmd[@]}" fuzz run "$t" "$scratch" -- "${args[@]}") >"$log" 2>&1 &
  local pid=$!
  tail -n +1 -f "$log" --pid=$pid 2>/dev/null |
    grep --line-buffered -E '^ *(Compiling|Finished)|^error|^#[0-9]+ *(INITED|DONE|pulse)|ERROR|SUMMARY|panicked|Test unit written|^stat::' || true
  wait $pid || status=$?
  local after elapsed=$((SECONDS - started))
  after=$(count_files "$scratch")

  local new_artifacts
  new_artifacts=$(ls -1 "$artifacts" | sort | comm -13 "$work/$t.artifacts.before" - || true)
  if [ $status -ne 0 ]; then
    failed+=("$t")
    if [ -n "$new_artifacts" ]; then
      local kind
      kind=$(grep -m1 -oE 'deadly signal|panicked|LeakSanitizer|AddressSanitizer: [a-z-]+|libFuzzer: (timeout|out-of-memory)' "$log" || echo "failure")
      echo "fuzz: $t FAILED ($kind); reproducer:"
      while read -r f; do
        echo "  fuzz/artifacts/$t/$f"
        echo "  reproduce: (cd fuzz && ${cargo_cmd[*]} fuzz run $t artifacts/$t/$f)"
        echo "  minimize:  (cd fuzz && ${cargo_cmd[*]} fuzz tmin $t artifacts/$t/$f)"
      done <<<"$new_artifacts"
    elif [ $status -eq 124 ] || [ $status -eq 137 ]; then
      echo "fuzz: $t FAILED: still running after $((seconds + 1800)) s; killed"
    else
      echo "fuzz: $t FAILED (exit status $status, no reproducer written); the end of its output:"
      tail -n 40 "$log" | sed 's/^/  /'
    fi
  fi

  local execs rate rss added=""
  execs=$(stat_of "$log" number_of_executed_units)
  rate=$(stat_of "$log" average_exec_per_sec)
  rss=$(stat_of "$log" peak_rss_mb)
  if [ $status -eq 0 ] && [ "$merge" = 1 ]; then
    mkdir -p "$corpus"
    local committed_before
    committed_before=$(count_files "$corpus")
    echo "fuzz: $t: merging new inputs into ${corpus#"$ROOT"/} (libFuzzer -merge=1 keeps only inputs with new coverage, the smallest ones)"
    (cd fuzz && "${cargo_cmd[@]}" fuzz run "$t" "$corpus" "$scratch" -- -merge=1 -timeout="$timeout_s" \
      -rss_limit_mb="$rss_mb" -malloc_limit_mb="$rss_mb" -max_len="${max_len:-65536}") >"$work/$t.merge.log" 2>&1 ||
      { failed+=("$t (merge)"); tail -n 20 "$work/$t.merge.log"; }
    added=", merge +$(($(count_files "$corpus") - committed_before))"
  fi
  summary+=("$(printf '%-11s %-7s %10s execs %8s/s  corpus %5s -> %-5s rss %5s MB  %4ss%s' \
    "$t" "$([ $status -eq 0 ] && echo ok || echo FAILED)" "${execs:-?}" "${rate:-?}" "$before" "$after" "${rss:-?}" "$elapsed" "$added")")
}

run_spec_target() {
  local log="$work/spec.log" status=0 started=$SECONDS
  local args=(--seconds "$seconds" --timeout "$timeout_s" --rss-limit-mb "$rss_mb")
  [ -n "$max_len" ] && args+=(--max-len "$max_len")
  [ -n "$seed" ] && args+=(--seed "$seed")
  [ "$merge" = 1 ] && args+=(--merge)
  echo
  echo "fuzz: spec: parseSpec (TypeScript), ${seconds} s"
  [ -d node_modules/tsx ] || die "node_modules is missing: run npm install"
  node --import tsx fuzz/spec/run.ts "${args[@]}" 2>&1 | tee "$log" || status=${PIPESTATUS[0]}
  [ $status -ne 0 ] && failed+=(spec)
  local line
  line=$(grep -E '^fuzz spec: done:' "$log" | tail -1 || true)
  local execs rate corpus
  execs=$(sed -nE 's/.*done: ([0-9]+) inputs.*/\1/p' <<<"$line")
  rate=$(sed -nE 's/.*\(([0-9]+)\/s\).*/\1/p' <<<"$line")
  corpus=$(sed -nE 's/.*corpus ([0-9]+ -> [0-9]+).*/\1/p' <<<"$line")
  summary+=("$(printf '%-11s %-7s %10s execs %8s/s  corpus %-14s %14s  %4ss' \
    spec "$([ $status -eq 0 ] && echo ok || echo FAILED)" "${execs:-?}" "${rate:-?}" "${corpus:-?}" "" "$((SECONDS - started))")")
}

for t in "${targets[@]}"; do
  if [ "$t" = spec ]; then run_spec_target; else run_rust_target "$t"; fi
done

echo
echo "fuzz: summary"
printf '  %s\n' "${summary[@]}"
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz: FAILED: ${failed[*]} (reproducers under fuzz/artifacts/; once fixed, add them to fuzz/corpus/<target>/)" >&2
  exit 1
fi
echo "fuzz: no crash, leak, timeout or out-of-memory"
