#!/usr/bin/env bash
# Oracle test of elfsieve-symvers: for each cross build of the corpus (ppc32, ppc64, x86_64-tiny), the build's own
# Module.symvers (written by modpost from vmlinux.o, the module objects and their .cmd files) must equal, byte for
# byte, what elfsieve-symvers prints from the finished binaries alone: the build's vmlinux and every module, laid
# out as the build's modules.order names them. Then the same modules after `elfsieve-strip --policy=crc,ksymtab
# --strip-debug` (no __ksymtab_/__kstrtab_/__crc_ symbols left, so the order falls back to table order): the same
# lines as a set. And --check-versions passes for every module against its own build's Module.symvers.
# Usage: symvers_corpus.sh ELFSIEVE_SYMVERS ELFSIEVE_STRIP SOURCE_DIR WORK_DIR
# Exit status: 0 all equal, 1 a difference, 77 (SKIP_RETURN_CODE) when the corpus has no modules.order yet.
set -euo pipefail
symvers=$1
strip=$2
corpus=$3/corpus
work=$4
export LC_ALL=C
rm -rf "$work"
mkdir -p "$work"
status=0
checked=0

for build in ppc32 ppc64 x86_64-tiny; do
  dir=$corpus/$build
  if [[ ! -f $dir/modules.order ]]; then
    echo "symvers_corpus: $build has no modules.order; skipped"
    continue
  fi
  tree=$work/$build
  mkdir -p "$tree"
  xz -dc "$dir/vmlinux.xz" >"$tree/vmlinux"
  # The build tree as modules.order names it, each name a link to the committed file (top level, deps/ or .xz).
  : >"$work/$build.list"
  while read -r path; do
    base=$(basename "$path")
    src=""
    for candidate in "$dir/$base" "$dir/deps/$base" "$dir/$base.xz"; do
      [[ -f $candidate ]] && { src=$candidate; break; }
    done
    if [[ -z $src ]]; then
      echo "symvers_corpus: $build: $path of modules.order is not in the corpus" >&2
      status=1
      continue
    fi
    link=$tree/$path
    [[ $src == *.xz ]] && link=$link.xz
    mkdir -p "$(dirname "$link")"
    ln -s "$src" "$link"
    echo "$link" >>"$work/$build.list"
  done <"$dir/modules.order"

  "$symvers" --root "$tree" -T "$work/$build.list" "$tree/vmlinux" >"$work/$build.symvers"
  if cmp "$work/$build.symvers" "$dir/Module.symvers"; then
    echo "symvers_corpus: $build: Module.symvers reproduced ($(wc -l <"$dir/Module.symvers") lines)"
  else
    diff "$work/$build.symvers" "$dir/Module.symvers" | head -n 20 >&2
    status=1
  fi
  checked=$((checked + 1))

  # Every module links against its own build's exports.
  if ! "$symvers" --check-versions="$dir/Module.symvers" -T "$work/$build.list" >"$work/$build.check"; then
    cat "$work/$build.check" >&2
    echo "symvers_corpus: $build: --check-versions failed" >&2
    status=1
  fi

  # Stripped copies (compressed ones decompressed first): the same exports.
  stripped=$work/$build-stripped
  : >"$work/$build.stripped.list"
  while read -r link; do
    rel=${link#"$tree"/}
    rel=${rel%.xz}
    out=$stripped/$rel
    mkdir -p "$(dirname "$out")"
    if [[ $link == *.xz ]]; then
      xz -dc "$link" >"$out.in"
      "$strip" --policy=crc,ksymtab --strip-debug -o "$out" "$out.in"
      rm -f "$out.in"
    else
      "$strip" --policy=crc,ksymtab --strip-debug -o "$out" "$link"
    fi
    echo "$out" >>"$work/$build.stripped.list"
  done <"$work/$build.list"
  cp "$tree/vmlinux" "$stripped/vmlinux"
  "$symvers" --root "$stripped" -T "$work/$build.stripped.list" "$stripped/vmlinux" >"$work/$build.stripped.symvers"
  if ! cmp <(sort "$work/$build.stripped.symvers") <(sort "$dir/Module.symvers"); then
    diff <(sort "$work/$build.stripped.symvers") <(sort "$dir/Module.symvers") | head -n 20 >&2
    echo "symvers_corpus: $build: stripped modules export other symbols" >&2
    status=1
  fi
  if readelf -sW "$stripped/lib/crc7.ko" | grep -q ' __ksymtab_crc7'; then
    echo "symvers_corpus: $build: the strip left __ksymtab_ symbols; the stripped check proves nothing" >&2
    status=1
  fi
done

if ((checked == 0)); then
  echo "symvers_corpus: no build has a modules.order"
  exit 77
fi
exit $status
