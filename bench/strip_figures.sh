#!/usr/bin/env bash
# Strip figures per architecture and one timing against GNU objcopy. For every corpus architecture, strips copies
# of its modules (the full Debian module sets in corpus/cache when `corpus/regenerate --cache` has filled it, else
# the committed ones) with `elfsieve-strip --policy=crc,ksymtab --report` and sums: symbols removed, retargeted
# (relocations), resolved, kept and why, bytes saved. Timings next to GNU objcopy and the other peers: bench/compare.
# Usage: bench/strip_figures.sh [BUILD_DIR]   (BUILD_DIR: a build with bin/elfsieve-strip; default build/release)
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${1:-$root/build/release}
tool=$build/bin/elfsieve-strip
[ -x "$tool" ] || { echo "strip_figures: $tool not built (cmake --build $build --target elfsieve-strip)" >&2; exit 2; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

modules_of() { # arch -> module paths, one per line
  local cache=$root/corpus/cache/$1
  if [ -d "$cache/lib/modules" ]; then find "$cache/lib/modules" -name '*.ko' | sort
  else find "$root/corpus/$1" -maxdepth 1 \( -name '*.ko' -o -name '*.ko.xz' \) | sort; fi
}

printf '%-12s %7s %9s %22s %22s %7s %14s\n' arch modules removed "retargeted (relocs)" "resolved (relocs)" kept "bytes saved"
for arch in x86_64 i386 ppc64le ppc32 ppc64 x86_64-tiny; do
  [ -d "$root/corpus/$arch" ] || continue
  mkdir -p "$work/$arch"
  n=0
  while IFS= read -r f; do
    n=$((n + 1))
    case "$f" in
      *.xz) xz -dc "$f" >"$work/$arch/$n.ko" ;;
      *) cp "$f" "$work/$arch/$n.ko" ;;
    esac
  done < <(modules_of "$arch")
  "$tool" -j"$(nproc)" --policy=crc,ksymtab --report "$work/$arch"/*.ko >"$work/$arch.report" 2>"$work/$arch.err" || true
  awk -v arch="$arch" -v n="$n" '
    / summary: / {
      for (i = 1; i <= NF; i++) {
        if ($i == "removed" && $(i - 1) != "sections") removed += $(i + 1)
        if ($i == "retargeted") { rs += $(i + 1); rr += substr($(i + 3), 2) }
        if ($i == "resolved") { vs += $(i + 1); vr += substr($(i + 3), 2) }
        if ($i == "kept") kept += $(i + 1)
        if ($i == "->") { before += $(i - 1); after += $(i + 1) }
      }
    }
    END { printf "%-12s %7d %9d %22s %22s %7d %14d\n", arch, n, removed, rs " (" rr ")", vs " (" vr ")", kept, before - after }
  ' "$work/$arch.report"
  grep ': kept ' "$work/$arch.report" | sed 's/^[^:]*: kept [^:]*: //' | sort | uniq -c | sed "s/^/    $arch kept: /" || true
  grep -v 'module signature removed' "$work/$arch.err" | grep -v 'warning: keeping' | head -n 5 || true
done

