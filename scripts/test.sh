#!/usr/bin/env bash
# The test command: installs missing Debian packages, then builds and tests twice: with g++ (warnings as errors),
# and with clang++ under ASan+UBSan, whose build also holds the libFuzzer fuzzers (replay, then a short fuzzing run
# of each). Ends with one summary line (tests passed per build, executions per fuzzer, duration); any failure stops
# it with a non-zero exit. Build trees are kept in build/gcc and build/clang: a second run configures nothing again
# and rebuilds only what changed.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
started=$SECONDS
bash scripts/install-deps.sh
jobs=$(nproc)
logs=$(mktemp -d)
trap 'rm -rf "$logs"' EXIT

# "== NAME" with the seconds since the start, so a slow step shows in CI's log.
phase() { echo "== $* (at $((SECONDS - started))s)"; }

phase "layout and style: include graph, clang-format"
python3 scripts/check-layers.py include
mapfile -t sources < <(git ls-files 'include/*.hpp' 'examples/*.cpp' 'examples/*.hpp' 'tests/*.cpp' 'tests/*.hpp' \
  'fuzz/*.cpp' 'bench/*.cpp' 'bench/*.hpp' | grep -v '^tests/data/')
clang-format-14 --dry-run -Werror "${sources[@]}"
fuzz_seconds=${ELFSIEVE_FUZZ_SECONDS:-30}
# The kernel's scripts/ taken from Debian's linux-source tarballs (and scripts/kallsyms built from them) are
# extracted once for both builds, not once per build (tests/support/kernel_sources.hpp).
export ELFSIEVE_KERNEL_SCRIPTS_DIR=$root/build/kernel-scripts

configure_and_build() {
  local dir=$1
  shift
  if [[ ! -f build/$dir/CMakeCache.txt ]]; then
    cmake -S . -B "build/$dir" -G Ninja -DELFSIEVE_WERROR=ON "$@" >/dev/null
  fi
  cmake --build "build/$dir" -j"$jobs"
}

# run_ctest DIR: ctest over build/DIR; keeps its "N% tests passed, ... out of M" line for the summary.
run_ctest() {
  ctest --test-dir "build/$1" -j"$jobs" --output-on-failure | tee "$logs/ctest-$1.log"
}
passed_line() {
  local line
  line=$(grep -E '^[0-9]+% tests passed' "$logs/ctest-$1.log" | tail -n 1)
  # "100% tests passed, 0 tests failed out of 685" -> "685/685"; skipped tests are counted by ctest as passed.
  sed -E 's/^.* ([0-9]+) tests? failed out of ([0-9]+).*$/\1 \2/' <<<"$line" | awk '{ printf "%d/%d", $2 - $1, $2 }'
}

phase "g++: build and test"
# -O2 without debug info (RelWithDebInfo's -g costs a tenth of the compile time; a failure is reproduced locally).
configure_and_build gcc -DCMAKE_CXX_COMPILER=g++ -DCMAKE_BUILD_TYPE=None "-DCMAKE_CXX_FLAGS=-O2 -DNDEBUG" \
  -DELFSIEVE_BUILD_BENCHMARKS=ON \
  -DCMAKE_EXPORT_COMPILE_COMMANDS=ON
run_ctest gcc

phase "g++ tests done; clang-tidy (.clang-tidy) over the tools, the fuzz harnesses and the no-exceptions check"
printf '%s\n' examples/*.cpp fuzz/fuzz_*.cpp tests/noexcept_check.cpp |
  xargs -P "$jobs" -n 1 clang-tidy-14 -p build/gcc --quiet

phase "clang++ with ASan+UBSan: build and test, libFuzzer replay and a ${fuzz_seconds}s fuzzing run of each fuzzer"
# -O1, as the sanitizers recommend; without line tables (-gline-tables-only costs a sixth of the build, against the
# 30 minutes CI allows): a report names the functions, and its file:line comes from a local build with -g.
configure_and_build clang -DCMAKE_CXX_COMPILER=clang++-14 -DCMAKE_BUILD_TYPE=None \
  "-DCMAKE_CXX_FLAGS=-O1" -DELFSIEVE_SANITIZE=ON -DELFSIEVE_BUILD_FUZZERS=ON
run_ctest clang
phase "fuzzing"
# The fuzzers run $jobs at a time (libFuzzer uses one core each), each with its own corpus directory; then each
# one's result is reported in turn.
fuzz_corpus=$logs/fuzz-corpus
mkdir "$fuzz_corpus"
printf '%s\n' build/clang/bin/fuzz_* | xargs -P "$jobs" -I{} bash -c '
  name=$(basename "$1")
  mkdir -p "$2/$name"
  "$1" -max_total_time="$3" -rss_limit_mb=2048 -print_final_stats=1 "$2/$name" fuzz/regressions >"$4/$name.log" 2>&1
  echo $? >"$4/$name.rc"' fuzz {} "$fuzz_corpus" "$fuzz_seconds" "$logs" || true
fuzz_summary=""
for fuzzer in build/clang/bin/fuzz_*; do
  name=$(basename "$fuzzer")
  echo "== $name: ${fuzz_seconds}s"
  if [[ "$(cat "$logs/$name.rc" 2>/dev/null)" != 0 ]]; then
    tail -n 60 "$logs/$name.log"
    echo "== $name failed (its crash input is in the current directory: crash-*)" >&2
    exit 1
  fi
  tail -n 12 "$logs/$name.log"
  executions=$(sed -n 's/^stat::number_of_executed_units: *//p' "$logs/$name.log" | tail -n 1)
  fuzz_summary+=" $name ${executions:-?} runs,"
done
elapsed=$((SECONDS - started))
printf '== summary: g++ %s tests passed, clang++ ASan+UBSan %s, fuzzing (%ss each):%s no crash; %dm%02ds\n' \
  "$(passed_line gcc)" "$(passed_line clang)" "$fuzz_seconds" "${fuzz_summary%,}" $((elapsed / 60)) $((elapsed % 60))
