#!/usr/bin/env bash
# Oracle test of elfsieve-symvers against Debian: for each kernel in corpus/cache (filled by `corpus/regenerate
# --cache`: the image package's vmlinux or vmlinuz and all its modules), the output over the image and every module
# of modules.order must equal the Module.symvers that Debian's build wrote into the matching linux-headers package
# (corpus/cache/debs/linux-headers-<release>_*.deb; any directory corpus/cache/NAME/ holding boot/ and
# lib/modules/<release>/ of an image package is taken, e.g. a 6.12 one with .ko.xz modules). Module lines must match line for line; the vmlinux lines too
# when the image has a .symtab (ppc64le ships its unstripped vmlinux), and as a set for a vmlinuz (a bzImage has
# no .symtab, so its exports come in table order). And --check-versions passes for every module against it.
# Usage: symvers_debian.sh ELFSIEVE_SYMVERS SOURCE_DIR WORK_DIR
# Exit status: 0 all equal, 1 a difference, 77 (SKIP_RETURN_CODE) when no cached kernel has its headers package.
set -euo pipefail
symvers=$1
cache=$2/corpus/cache
work=$3
export LC_ALL=C
rm -rf "$work"
mkdir -p "$work"
status=0
checked=0

for arch_dir in "$cache"/*/lib/modules/*; do
  [[ -d $arch_dir ]] || continue
  release=$(basename "$arch_dir")
  root=$(dirname "$(dirname "$(dirname "$arch_dir")")")
  arch=$(basename "$root")
  deb=$(ls "$cache"/debs/linux-headers-"$release"_*.deb 2>/dev/null | head -n 1 || true)
  if [[ -z $deb ]]; then
    echo "symvers_debian: $arch $release: no linux-headers-${release}_*.deb in $cache/debs; skipped"
    continue
  fi
  image=""
  for candidate in "$root/boot/vmlinux-$release" "$root/boot/vmlinuz-$release"; do
    [[ -f $candidate ]] && { image=$candidate; break; }
  done
  [[ -n $image ]] || { echo "symvers_debian: $arch: no image in $root/boot" >&2; status=1; continue; }
  mkdir -p "$work/$arch/headers"
  dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$work/$arch/headers" --wildcards '*/Module.symvers'
  expected=$(find "$work/$arch/headers" -name Module.symvers | head -n 1)
  # modules.order names NAME.ko; Debian 6.12 ships NAME.ko.xz.
  while read -r m; do
    for f in "$arch_dir/$m" "$arch_dir/$m.xz" "$arch_dir/$m.zst" "$arch_dir/$m.gz"; do
      [[ -f $f ]] && { echo "$f"; break; }
    done
  done <"$arch_dir/modules.order" >"$work/$arch/list"
  start=$(date +%s.%N)
  "$symvers" -j "$(nproc)" --root "$arch_dir/kernel" -T "$work/$arch/list" "$image" >"$work/$arch/symvers"
  end=$(date +%s.%N)
  modules=$(wc -l <"$work/$arch/list")
  printf 'symvers_debian: %s %s: %d modules + %s in %.2f s\n' "$arch" "$release" "$modules" "$(basename "$image")" \
    "$(echo "$end - $start" | bc)"
  if grep -v -P '\tvmlinux\t' "$work/$arch/symvers" | cmp - <(grep -v -P '\tvmlinux\t' "$expected"); then
    echo "symvers_debian: $arch: module lines equal ($(grep -c -v -P '\tvmlinux\t' "$expected"))"
  else
    echo "symvers_debian: $arch: module lines differ" >&2
    status=1
  fi
  if readelf -SW "$image" 2>/dev/null | grep -q ' \.symtab '; then
    cmp "$work/$arch/symvers" "$expected" && echo "symvers_debian: $arch: Module.symvers equal, byte for byte" ||
      status=1
  elif cmp <(sort "$work/$arch/symvers") <(sort "$expected"); then
    echo "symvers_debian: $arch: Module.symvers equal as a set ($(wc -l <"$expected") lines; the image has no .symtab)"
  else
    status=1
  fi
  # Every module links against Debian's Module.symvers, as the kernel links it.
  if "$symvers" -j "$(nproc)" --check-versions="$expected" -T "$work/$arch/list" >"$work/$arch/check"; then
    echo "symvers_debian: $arch: --check-versions passes for all $modules modules"
  else
    head -n 20 "$work/$arch/check" >&2
    status=1
  fi
  checked=$((checked + 1))
done

if ((checked == 0)); then
  echo "symvers_debian: no cached kernel with its linux-headers package (corpus/regenerate --cache)"
  exit 77
fi
exit $status
