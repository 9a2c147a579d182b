#!/usr/bin/env bash
# The main job on the bundled corpus. Builds every tool (elfsieve-nm, -strip, -undefs, -fill) in build/release
# (Release, no tests), then on every exporting corpus module asks GNU objcopy and elfsieve-strip for the same thing:
# --strip-debug plus exactly the symbols elfsieve's `crc,ksymtab` policy selects (GNU gets them as a name list
# written by `elfsieve-nm --policy=crc,ksymtab`). Prints per module and per architecture what GNU did (refused, or
# succeeded with output checked against elfsieve's in `nm -a` and `readelf -rW`), what elfsieve did, where the bytes
# went (debug sections, symbol tables, signature), and a timing of a --strip-debug job both tools can do.
# Nothing under corpus/ is modified; the work files are in build/release/demo.
# DEMO_REPEAT=N sets how many times the timed job goes over the corpus (default 5).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
bash scripts/install-deps.sh
repeat=${DEMO_REPEAT:-5}
jobs=$(nproc)
policy=crc,ksymtab

# ---- Build: all five tools, with ninja's progress shortened to one line per step.
echo "== building elfsieve-nm, elfsieve-strip, elfsieve-undefs, elfsieve-fill, elfsieve-kallsyms, elfsieve-symvers in build/release (Release, no tests)"
launcher=()
if command -v ccache >/dev/null; then launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache); fi
mkdir -p build
cmake -S . -B build/release -G Ninja -DCMAKE_BUILD_TYPE=Release -DELFSIEVE_BUILD_TESTS=OFF "${launcher[@]}" \
  >build/release-configure.log 2>&1 || { cat build/release-configure.log; exit 1; }
build_start=$SECONDS
if ! cmake --build build/release 2>&1 | tee build/release/build.log |
  sed -u -n -e 's|^\[\([0-9]*/[0-9]*\)\] Building CXX object .*/\([^/]*\)\.o$|   [\1] compiling \2|p' \
    -e 's|^\[\([0-9]*/[0-9]*\)\] Linking CXX executable \(.*\)$|   [\1] linking \2|p' \
    -e 's|^ninja: no work to do.*|   already built|p'; then
  cat build/release/build.log
  exit 1
fi
echo "   done in $((SECONDS - build_start)) s; install with: cmake --install build/release --prefix /usr/local"
bin=build/release/bin

# ---- Inputs: the exporting modules (those with an export table), decompressed into the work tree.
work=build/release/demo
rm -rf "$work"
mkdir -p "$work/in" "$work/elfsieve" "$work/cmp"
modules=()  # paths relative to corpus/, as committed (btrfs.ko.xz keeps its .xz)
all=()      # every corpus module, for the timing
while IFS= read -r -d '' f; do
  m=${f#corpus/}
  mkdir -p "$work/in/$(dirname "$m")"
  xz -dcf "$f" >"$work/in/${m%.xz}"
  all+=("$m")
  # grep -c reads all of readelf's output: grep -q would stop early and, under pipefail, drop large modules.
  if readelf -SW "$work/in/${m%.xz}" | grep -c ' __ksymtab' >/dev/null; then modules+=("$m"); fi
done < <(find corpus -path corpus/cache -prune -o -type f \( -name '*.ko' -o -name '*.ko.xz' \) -print0 | sort -z)

# ---- The comparison, one module at a time: these exact commands produce each GNU column below.
# shellcheck disable=SC2016 # $m and $t expand when the commands run, not here
compare='xz -dcf corpus/$m >$t/in.ko
'"$bin"'/elfsieve-nm --policy='"$policy"' $t/in.ko | awk '"'"'{print $NF}'"'"' >$t/list
'"$bin"'/elfsieve-strip --policy='"$policy"' --strip-debug -o $t/elfsieve.ko $t/in.ko 2>/dev/null
if LC_ALL=C objcopy --strip-debug --strip-symbols=$t/list $t/in.ko $t/gnu.ko 2>$t/gnu.err; then
  for f in gnu elfsieve; do nm -a $t/$f.ko >$t/$f.nm; readelf -rW $t/$f.ko | sed "s/ at offset 0x[0-9a-f]*//" >$t/$f.rel; done
  if cmp -s $t/gnu.nm $t/elfsieve.nm && cmp -s $t/gnu.rel $t/elfsieve.rel; then echo "ok, same symbols+relocs"; else echo "ok, DIFFERENT"; fi
else
  echo "refused: exit $?, $(grep -c "named in a relocation" $t/gnu.err) reasons, $(grep -vc "named in a relocation" $t/gnu.err) other lines, $(test -e $t/gnu.ko && echo OUTPUT WRITTEN || echo no output)"
fi'

echo
echo "== ${#modules[@]} exporting modules; both tools are asked for --strip-debug and the same symbols:"
echo "   those \`$bin/elfsieve-nm --policy=$policy MODULE\` lists (__crc_*, __kstrtab_*, __kstrtabns_*,"
echo "   __ksymtab_* symbols; never a section symbol such as powerpc's __ksymtab_strings), given to GNU objcopy"
echo "   as --strip-symbols=LIST and to elfsieve-strip as --policy=$policy."
echo "   Each GNU column is what these commands print, run from the repository (m: a path under corpus/):"
echo
echo "   m=${modules[0]} t=\$(mktemp -d)"
sed 's/^/   /' <<<"$compare"
echo

# elfsieve-strip on all of them in one process, with its report (paths relative to the work tree: short).
cp -r "$work/in/." "$work/elfsieve/"
short=("${modules[@]%.xz}")
(cd "$work/elfsieve" && "$root/$bin/elfsieve-strip" -j"$jobs" --policy="$policy" --strip-debug --report \
  "${short[@]}" >../report.txt 2>../warnings.txt)

# Byte accounting of one file: .symtab+.strtab bytes, debug section bytes (.debug*, .zdebug*, their relocation
# sections), signature trailer bytes, file bytes.
bytes() {
  local symtab=0 debug=0 sig=0 name size
  while read -r name _ _ _ size _; do
    case $name in
      .symtab | .strtab) symtab=$((symtab + 16#$size)) ;;
      .debug* | .zdebug* | .rel.debug* | .rela.debug*) debug=$((debug + 16#$size)) ;;
    esac
  done < <(readelf -SW "$1" | sed -n 's/^ *\[ *[0-9]*\] //p' | grep -v '^ *NULL')
  if tail -c 28 "$1" | cmp -s - <(printf '~Module signature appended~\n'); then
    # struct module_signature ends with a big-endian sig_len; the trailer is signature + 12 + 28 bytes.
    sig=$(( $(tail -c 32 "$1" | head -c 4 | od -An -tu1 | awk '{print $1*16777216 + $2*65536 + $3*256 + $4}') + 40 ))
  fi
  echo "$symtab $debug $sig $(stat -c %s "$1")"
}

echo "Per module: GNU objcopy's result; elfsieve-strip's symbols removed / retargeted (their relocations now name"
echo "the section symbol) / kept; bytes before -> after elfsieve: the file and its .symtab+.strtab, then the debug"
echo "sections' and the signature trailer's bytes removed (the rest is section headers and alignment)."
row='%-26s %-55s %-16s %19s %17s %9s %5s\n'
# shellcheck disable=SC2059
printf "$row" module "GNU objcopy" "elfsieve rm/rt/k" "file bytes" ".symtab+.strtab" "debug" sig
declare -A arch_n arch_refused arch_reasons arch_same arch_diff arch_removed arch_retargeted arch_kept \
  arch_debug arch_symtab_before arch_symtab_after arch_signed
archs=()
signed=0
for m in "${modules[@]}"; do
  a=${m%%/*}
  if [ -z "${arch_n[$a]:-}" ]; then
    archs+=("$a")
    for v in arch_n arch_refused arch_reasons arch_same arch_diff arch_removed arch_retargeted arch_kept arch_debug \
      arch_symtab_before arch_symtab_after arch_signed; do
      declare -n counter=$v
      # shellcheck disable=SC2034 # counter names one of the arrays
      counter[$a]=0
      unset -n counter
    done
  fi
  t=$work/cmp/${m//\//_}
  mkdir -p "$t"
  gnu=$(m=$m t=$t bash -c "$compare")
  arch_n[$a]=$((arch_n[$a] + 1))
  case $gnu in
    "ok, same symbols+relocs") arch_same[$a]=$((arch_same[$a] + 1)) ;;
    ok*) arch_diff[$a]=$((arch_diff[$a] + 1)) ;;
    refused*)
      arch_refused[$a]=$((arch_refused[$a] + 1))
      reasons=$(sed -n 's/^refused: exit [0-9]*, \([0-9]*\) reasons.*/\1/p' <<<"$gnu")
      arch_reasons[$a]=$((arch_reasons[$a] + reasons))
      ;;
  esac
  summary=$(grep -F "${m%.xz}: summary:" "$work/report.txt")
  removed=$(sed -n 's/.*, removed \([0-9]*\), retargeted.*/\1/p' <<<"$summary")
  retargeted=$(sed -n 's/.*retargeted \([0-9]*\) symbols.*/\1/p' <<<"$summary")
  kept=$(sed -n 's/.*, kept \([0-9]*\),.*/\1/p' <<<"$summary")
  read -r sym_b dbg_b sig_b file_b < <(bytes "$work/in/${m%.xz}")
  read -r sym_a dbg_a sig_a file_a < <(bytes "$work/elfsieve/${m%.xz}")
  arch_removed[$a]=$((arch_removed[$a] + removed))
  arch_retargeted[$a]=$((arch_retargeted[$a] + retargeted))
  arch_kept[$a]=$((arch_kept[$a] + kept))
  arch_debug[$a]=$((arch_debug[$a] + dbg_b - dbg_a))
  arch_symtab_before[$a]=$((arch_symtab_before[$a] + sym_b))
  arch_symtab_after[$a]=$((arch_symtab_after[$a] + sym_a))
  if [ "$sig_b" -gt 0 ]; then arch_signed[$a]=$((arch_signed[$a] + 1)); signed=$((signed + 1)); fi
  # shellcheck disable=SC2059
  printf "$row" "$m" "$gnu" "$removed/$retargeted/$kept" "$file_b -> $file_a" "$sym_b -> $sym_a" \
    "-$((dbg_b - dbg_a))" "-$((sig_b - sig_a))"
done

echo
echo "== per architecture (GNU: refused = exit 1 and no output file; same = succeeded and its nm -a and"
echo "   readelf -rW output equal elfsieve's; elfsieve: symbols removed outright / retargeted / kept; bytes: sums)"
arow='%-12s %7s %21s %8s %9s %19s %13s %31s\n'
# shellcheck disable=SC2059
printf "$arow" arch modules "GNU refused (reasons)" "GNU same" "different" "elfsieve rm/rt/kept" "debug removed" \
  ".symtab+.strtab before -> after"
t_n=0 t_refused=0 t_reasons=0 t_same=0 t_diff=0 t_removed=0 t_retargeted=0 t_kept=0 t_debug=0 t_sb=0 t_sa=0
for a in "${archs[@]}"; do
  # shellcheck disable=SC2059
  printf "$arow" "$a" "${arch_n[$a]}" "${arch_refused[$a]} (${arch_reasons[$a]})" "${arch_same[$a]}" \
    "${arch_diff[$a]}" "${arch_removed[$a]}/${arch_retargeted[$a]}/${arch_kept[$a]}" "${arch_debug[$a]}" \
    "${arch_symtab_before[$a]} -> ${arch_symtab_after[$a]}"
  t_n=$((t_n + arch_n[$a])) t_refused=$((t_refused + arch_refused[$a])) t_reasons=$((t_reasons + arch_reasons[$a]))
  t_same=$((t_same + arch_same[$a])) t_diff=$((t_diff + arch_diff[$a])) t_removed=$((t_removed + arch_removed[$a]))
  t_retargeted=$((t_retargeted + arch_retargeted[$a])) t_kept=$((t_kept + arch_kept[$a]))
  t_debug=$((t_debug + arch_debug[$a])) t_sb=$((t_sb + arch_symtab_before[$a])) t_sa=$((t_sa + arch_symtab_after[$a]))
done
# shellcheck disable=SC2059
printf "$arow" all "$t_n" "$t_refused ($t_reasons)" "$t_same" "$t_diff" "$t_removed/$t_retargeted/$t_kept" "$t_debug" \
  "$t_sb -> $t_sa"
refused_archs=$(for a in "${archs[@]}"; do [ "${arch_refused[$a]}" -eq 0 ] || printf '%s, ' "$a"; done)
echo
echo "GNU objcopy refused (exit 1, no output) on $t_refused of $t_n modules (${refused_archs%, }): relocations name"
echo "  the symbols ($t_reasons \"named in a relocation\" lines); it succeeded on $((t_same + t_diff)), and on $t_same of"
echo "  those its output equals elfsieve's in symbols (nm -a) and relocations (readelf -rW)."
left=$(for m in "${short[@]}"; do
  "$bin/elfsieve-nm" --policy="$policy" "$work/elfsieve/$m"
done | wc -l)
echo "elfsieve-strip stripped all $t_n; symbols its policy selects left: $left; kept with a warning:" \
  "$(grep -c 'warning: keeping' "$work/warnings.txt" || true)."
signed_archs=$(for a in "${archs[@]}"; do [ "${arch_signed[$a]}" -eq 0 ] || printf '%s, ' "$a"; done)
echo "Signatures: $signed modules (${signed_archs%, }) end in a signature; a rewritten module's signature is"
echo "  invalid, so elfsieve-strip does not copy it and warns (sign the stripped module again), as GNU objcopy drops it."
echo "What elfsieve did, first lines of its report (build/release/demo/report.txt):"
for what in removed retargeted kept summary; do
  sed -n "/^[^ ]*: $what /{s/^/  /p;q}" "$work/report.txt"
done

# ---- Timing: a job both tools can do (--strip-debug), on every corpus module, repeated; in place on copies.
echo
all_short=("${all[@]%.xz}")
total_mb=$(( $( (cd "$work/in" && cat "${all_short[@]}") | wc -c) * repeat / 1000000 ))
echo "== timing --strip-debug of all ${#all[@]} corpus modules x $repeat (DEMO_REPEAT) = $(( ${#all[@]} * repeat )) files," \
  "$total_mb MB, in place on copies"
copies() {  # fresh copies of every module, $repeat times, under $1; prints their paths
  rm -rf "$1"
  local i m
  for ((i = 0; i < repeat; i++)); do
    mkdir -p "$1/$i"
    cp -r "$work/in/." "$1/$i/"
    for m in "${all_short[@]}"; do printf '%s\n' "$1/$i/$m"; done
  done
}
TIMEFORMAT=%R
mapfile -t files < <(copies "$work/time")
gnu_s=$( { time for f in "${files[@]}"; do objcopy --strip-debug "$f"; done; } 2>&1)
mapfile -t files < <(copies "$work/time")
es1_s=$( { time "$bin/elfsieve-strip" -j1 --strip-debug "${files[@]}" 2>/dev/null; } 2>&1)
mapfile -t files < <(copies "$work/time")
esn_s=$( { time "$bin/elfsieve-strip" -j"$jobs" --strip-debug "${files[@]}" 2>/dev/null; } 2>&1)
rm -rf "$work/time"
trow='  %-52s %7s s\n'
# shellcheck disable=SC2059
printf "$trow" "GNU objcopy, one process per file (-j1)" "$gnu_s"
# shellcheck disable=SC2059
printf "$trow" "elfsieve-strip -j1, one process" "$es1_s"
# shellcheck disable=SC2059
printf "$trow" "elfsieve-strip -j$jobs (nproc), one process" "$esn_s"
[ "$left" -eq 0 ] && [ "$t_diff" -eq 0 ]
