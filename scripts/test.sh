#!/usr/bin/env bash
# The test command: installs missing Debian packages, then builds and tests twice: with g++ (warnings as errors),
# and with clang++ under ASan+UBSan, whose build also holds the libFuzzer fuzzers (replay, then a short fuzzing run
# of each). Ends with the fuzzing summary; any failure stops it with a non-zero exit.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
bash scripts/install-deps.sh
jobs=$(nproc)

echo "== layout and style: include graph, clang-format"
python3 scripts/check-layers.py include
mapfile -t sources < <(git ls-files 'include/*.hpp' 'examples/*.cpp' 'examples/*.hpp' 'tests/*.cpp' 'tests/*.hpp' \
  'fuzz/*.cpp' 'bench/*.cpp' 'bench/*.hpp' | grep -v '^tests/data/')
clang-format-14 --dry-run -Werror "${sources[@]}"
fuzz_seconds=${ELFSIEVE_FUZZ_SECONDS:-60}

configure_and_build() {
  local dir=$1
  shift
  cmake -S . -B "build/$dir" -G Ninja -DELFSIEVE_WERROR=ON "$@" >/dev/null
  cmake --build "build/$dir" -j"$jobs"
}

echo "== g++: build and test"
configure_and_build gcc -DCMAKE_CXX_COMPILER=g++ -DCMAKE_BUILD_TYPE=RelWithDebInfo -DELFSIEVE_BUILD_BENCHMARKS=ON \
  -DCMAKE_EXPORT_COMPILE_COMMANDS=ON
ctest --test-dir build/gcc -j"$jobs" --output-on-failure

echo "== clang-tidy (.clang-tidy) over the tools, the fuzz harnesses and the no-exceptions check"
printf '%s\n' examples/*.cpp fuzz/fuzz_*.cpp tests/noexcept_check.cpp |
  xargs -P "$jobs" -n 1 clang-tidy-14 -p build/gcc --quiet

echo "== clang++ with ASan+UBSan: build and test, libFuzzer replay and a ${fuzz_seconds}s fuzzing run of each fuzzer"
configure_and_build clang -DCMAKE_CXX_COMPILER=clang++-14 -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DELFSIEVE_SANITIZE=ON -DELFSIEVE_BUILD_FUZZERS=ON
ctest --test-dir build/clang -j"$jobs" --output-on-failure
fuzz_corpus=$(mktemp -d)
trap 'rm -rf "$fuzz_corpus"' EXIT
for fuzzer in build/clang/bin/fuzz_*; do
  echo "== $(basename "$fuzzer"): ${fuzz_seconds}s"
  "$fuzzer" -max_total_time="$fuzz_seconds" -rss_limit_mb=2048 -print_final_stats=1 "$fuzz_corpus" fuzz/regressions \
    2>&1 | tail -n 12
done
