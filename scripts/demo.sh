#!/usr/bin/env bash
# The main job on the bundled corpus: builds elfsieve-nm (Release) and lists the symbols of every corpus object,
# checking each listing against GNU nm and timing both.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
bash scripts/install-deps.sh
cmake -S . -B build/release -G Ninja -DCMAKE_BUILD_TYPE=Release -DELFSIEVE_BUILD_TESTS=OFF >/dev/null
cmake --build build/release --target elfsieve-nm >/dev/null

# Compressed corpus images (*.xz) are decompressed into the build tree, never next to the committed files.
work=build/release/corpus
mkdir -p "$work"
objects=()
while IFS= read -r -d '' f; do
  case "$f" in
    *.xz)
      out="$work/${f#corpus/}"
      out=${out%.xz}
      mkdir -p "$(dirname "$out")"
      [ -s "$out" ] || xz -dc "$f" >"$out"
      objects+=("$out")
      ;;
    *) objects+=("$f") ;;
  esac
done < <(find corpus -path corpus/cache -prune -o -type f \( -name '*.ko' -o -name '*.ko.xz' -o -name 'vmlinux*' \) -print0 | sort -z)

same=0
differ=0
for f in "${objects[@]}"; do
  if cmp -s <(LC_ALL=C nm -n "$f" 2>&1) <(build/release/bin/elfsieve-nm -n "$f" 2>&1); then
    same=$((same + 1))
  else
    differ=$((differ + 1))
    echo "differs from GNU nm: $f"
  fi
done
echo "elfsieve-nm -n equals GNU nm -n on $same of ${#objects[@]} corpus objects ($differ differ)"

echo "first lines of elfsieve-nm -n for ${objects[0]}:"
build/release/bin/elfsieve-nm -n "${objects[0]}" | head -n 8

TIMEFORMAT=%R
gnu_seconds=$( { time LC_ALL=C nm -n "${objects[@]}" >/dev/null 2>&1; } 2>&1 )
our_seconds=$( { time build/release/bin/elfsieve-nm -n "${objects[@]}" >/dev/null 2>&1; } 2>&1 )
echo "listing all ${#objects[@]} objects with -n: GNU nm ${gnu_seconds}s, elfsieve-nm ${our_seconds}s"
[ "$differ" -eq 0 ]
