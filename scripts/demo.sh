#!/usr/bin/env bash
# The main job on the bundled corpus: builds elfsieve-strip (Release) and strips the export bookkeeping symbols
# (__crc_*, __kstrtab*, __ksymtab_*) and the debug sections from every exporting corpus module, next to GNU objcopy
# asked for the same symbols; shows what GNU refuses, what elfsieve did (removed, retargeted, kept and why) and the
# sizes before and after; then times both over the same modules. Nothing under corpus/ is modified.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
bash scripts/install-deps.sh
cmake -S . -B build/release -G Ninja -DCMAKE_BUILD_TYPE=Release -DELFSIEVE_BUILD_TESTS=OFF >/dev/null
cmake --build build/release --target elfsieve-strip >/dev/null
strip_tool=$root/build/release/bin/elfsieve-strip

# Work on copies in the build tree; compressed modules (*.ko.xz) are decompressed there.
work=$root/build/release/demo
rm -rf "$work"
mkdir -p "$work/in" "$work/gnu" "$work/elfsieve"
modules=()
while IFS= read -r -d '' f; do
  name=$(echo "${f#corpus/}" | tr / _)
  name=${name%.xz}
  case "$f" in
    *.xz) xz -dc "$f" >"$work/in/$name" ;;
    *) cp "$f" "$work/in/$name" ;;
  esac
  # Exporting modules only: those with an export table.
  if readelf -SW "$work/in/$name" | grep -q ' __ksymtab'; then modules+=("$name"); else rm "$work/in/$name"; fi
done < <(find corpus -path corpus/cache -prune -o -type f \( -name '*.ko' -o -name '*.ko.xz' \) -print0 | sort -z)

printf '%s\n' '__crc_*' '__kstrtab_*' '__kstrtabns_*' '__ksymtab_*' >"$work/list"
cp "$work"/in/* "$work/elfsieve/"

echo "== ${#modules[@]} exporting modules; asking for __crc_* __kstrtab_* __kstrtabns_* __ksymtab_* and debug sections"
"$strip_tool" -j"$(nproc)" --policy=crc,ksymtab --strip-debug --report "${modules[@]/#/$work/elfsieve/}" \
  >"$work/report.txt" 2>"$work/warnings.txt"
printf '%-32s %-28s %-44s %s\n' module "GNU objcopy" "elfsieve-strip" "bytes before -> after"
refused_total=0
for m in "${modules[@]}"; do
  set +e
  LC_ALL=C objcopy --strip-debug --wildcard --strip-symbols="$work/list" "$work/in/$m" "$work/gnu/$m" \
    2>"$work/gnu/$m.err"
  status=$?
  set -e
  refusals=$(grep -c 'named in a relocation' "$work/gnu/$m.err" || true)
  if [ "$status" -ne 0 ]; then
    gnu="exit $status, refused $refusals"
    refused_total=$((refused_total + 1))
  else
    gnu="ok"
  fi
  summary=$(grep -F "$work/elfsieve/$m: summary:" "$work/report.txt")
  removed=$(sed -n 's/.*, removed \([0-9]*\), retargeted.*/\1/p' <<<"$summary")
  retargeted=$(sed -n 's/.*retargeted \([0-9]*\) symbols (\([0-9]*\) relocations).*/\1 (\2 relocs)/p' <<<"$summary")
  kept=$(sed -n 's/.*, kept \([0-9]*\),.*/\1/p' <<<"$summary")
  sizes=$(sed -n 's/.*, \([0-9]* -> [0-9]*\) bytes$/\1/p' <<<"$summary")
  printf '%-32s %-28s %-44s %s\n' "$m" "$gnu" "removed $removed, retargeted $retargeted, kept $kept" "$sizes"
done
left=$(for m in "${modules[@]}"; do LC_ALL=C nm "$work/elfsieve/$m"; done | grep -cE ' (__crc_|__kstrtab_|__kstrtabns_|__ksymtab_)' || true)
echo "GNU objcopy refused (exit 1, no output) on $refused_total of ${#modules[@]} modules;"
echo "elfsieve-strip stripped all ${#modules[@]}; export bookkeeping symbols left: $left;" \
  "warnings: $(grep -c 'warning: keeping' "$work/warnings.txt" || true) kept symbols," \
  "$(grep -c 'module signature removed' "$work/warnings.txt" || true) module signatures dropped"
echo "first report lines:"
head -n 5 "$work/report.txt"

# Timing: the same --strip-debug job (which GNU can do) over the same modules, a GNU objcopy per module vs one
# elfsieve-strip process.
rm -rf "$work/time-gnu" "$work/time-es"
mkdir -p "$work/time-gnu" "$work/time-es"
cp "$work"/in/* "$work/time-es/"
TIMEFORMAT=%R
gnu_seconds=$( { time for m in "${modules[@]}"; do objcopy --strip-debug "$work/in/$m" "$work/time-gnu/$m"; done; } 2>&1 )
our_seconds=$( { time "$strip_tool" -j"$(nproc)" --strip-debug "${modules[@]/#/$work/time-es/}" 2>/dev/null; } 2>&1 )
echo "--strip-debug of ${#modules[@]} modules: GNU objcopy loop ${gnu_seconds}s, elfsieve-strip ${our_seconds}s"
[ "$left" -eq 0 ]
