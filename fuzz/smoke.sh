#!/usr/bin/env bash
# Fuzz smoke test: builds every cargo-fuzz target and runs each for N seconds (default 30),
# one fuzzer process at a time, starting from the committed seeds.
#
#   fuzz/smoke.sh        # 30 s per target
#   fuzz/smoke.sh 5      # 5 s per target
#
# Needs a nightly toolchain (`rustup toolchain install nightly`) and cargo-fuzz
# (`cargo install cargo-fuzz`). Without them it prints SKIPPED and exits 0, so CI can call it
# unconditionally. A crash, timeout or OOM fails the script; the reproducer is left in
# fuzz/artifacts/<target>/.
set -euo pipefail

seconds="${1:-30}"
if ! [[ "$seconds" =~ ^[0-9]+$ ]] || [ "$seconds" -lt 1 ]; then
    echo "usage: $0 [SECONDS_PER_TARGET]" >&2
    exit 2
fi

cd "$(dirname "${BASH_SOURCE[0]}")"

if ! cargo +nightly --version >/dev/null 2>&1 || ! cargo +nightly fuzz --version >/dev/null 2>&1; then
    echo "############################################################"
    echo "## SKIPPED: nightly or cargo-fuzz missing                 ##"
    echo "## (rustup toolchain install nightly; cargo install cargo-fuzz)"
    echo "############################################################"
    exit 0
fi

targets=(proof_verify guard_headers jwk_parse htu token_verify jwe_decrypt es256_tables)

# Keep one core free for whoever else is building on this machine.
export CARGO_BUILD_JOBS="${CARGO_BUILD_JOBS:-1}"

echo "== building ${#targets[@]} fuzz targets"
cargo +nightly fuzz build

logs="target/smoke-logs"
mkdir -p "$logs"
for target in "${targets[@]}"; do
    echo "== $target: ${seconds}s"
    # corpus/<target> (git-ignored) collects new inputs; seeds/<target> is only read.
    mkdir -p "corpus/$target"
    status=0
    cargo +nightly fuzz run "$target" "corpus/$target" "seeds/$target" -- \
        -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 -max_len=8192 \
        -print_final_stats=1 >"$logs/$target.log" 2>&1 || status=$?
    grep -E '^(#[0-9]+[[:space:]]+DONE|stat::number_of_executed_units|stat::average_exec_per_sec)' \
        "$logs/$target.log" || true
    if [ "$status" -ne 0 ]; then
        tail -n 60 "$logs/$target.log" >&2
        echo "!! $target failed (exit $status); reproducer in fuzz/artifacts/$target/," \
            "full log in fuzz/$logs/$target.log" >&2
        exit "$status"
    fi
done
echo "== all ${#targets[@]} targets ran ${seconds}s without a crash"
