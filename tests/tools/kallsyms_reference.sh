#!/usr/bin/env bash
# Oracle test of elfsieve-kallsyms: on every corpus vmlinux, for Linux 6.1 and 6.12 and several flag sets, its .S
# output must equal, byte for byte, what the kernel's own pipeline prints:
#   6.1:  scripts/mksysmap (nm -n | grep -v) | scripts/kallsyms FLAGS
#   6.12: nm -n | sed -f scripts/mksysmap      | scripts/kallsyms FLAGS
# with scripts/kallsyms.c (and 6.12's scripts/include/) taken from Debian's linux-source-6.1 / -6.12 packages
# (/usr/src/linux-source-<v>.tar.xz) and compiled here with cc. Where scripts/kallsyms fails (a value out of range
# in relative mode), elfsieve-kallsyms must fail too, with the same words.
# Usage: kallsyms_reference.sh ELFSIEVE_KALLSYMS SOURCE_DIR WORK_DIR [KERNEL_SCRIPTS_DIR]
# Exit status: 0 all equal, 1 a difference, 77 (SKIP_RETURN_CODE) when neither source package is installed.
set -euo pipefail
tool=$1
source_dir=$2
work=$3
scripts_dir=${4:-$work}
export LC_ALL=C
mkdir -p "$work"

# scripts/ of version $1 extracted (once) into $base/kernel-scripts-$1 and scripts/kallsyms built (once) as
# $base/kallsyms-$1/kallsyms, where $base is $ELFSIEVE_KERNEL_SCRIPTS_DIR when set (scripts/test.sh shares one across
# its two builds), else KERNEL_SCRIPTS_DIR (the C++ tests' work directory), else WORK_DIR: the places and names tests/support/kernel_sources.hpp uses. Each is made under a
# private name and renamed into place, so the C++ tests running at the same time never see half of it. Prints the
# version when ready; nothing when the package is missing.
base=${ELFSIEVE_KERNEL_SCRIPTS_DIR:-$scripts_dir}
mkdir -p "$base"
prepare_kernel() {
  local version=$1 tarball=/usr/src/linux-source-$1.tar.xz
  local scripts=$base/kernel-scripts-$1 bin=$base/kallsyms-$1
  if [[ ! -f $scripts/scripts/kallsyms.c ]]; then
    [[ -f $tarball ]] || return 0
    local tmp=$scripts.tmp.$$ top=linux-source-$version
    rm -rf "$tmp"
    mkdir -p "$tmp"
    local members=("$top/scripts/kallsyms.c" "$top/scripts/mksysmap")
    [[ $version == 6.1 ]] || members+=("$top/scripts/include")
    tar -xJf "$tarball" -C "$tmp" --strip-components=1 "${members[@]}"
    mv -T "$tmp" "$scripts" 2>/dev/null || rm -rf "$tmp"
  fi
  if [[ ! -x $bin/kallsyms ]]; then
    local includes=()
    [[ $version == 6.1 ]] || includes=(-I "$scripts/scripts/include")
    mkdir -p "$bin"
    cc -O2 "${includes[@]}" -o "$bin/kallsyms.tmp.$$" "$scripts/scripts/kallsyms.c"
    mv "$bin/kallsyms.tmp.$$" "$bin/kallsyms"
  fi
  echo "$version"
}

# The kernel's pipeline for version $1 on vmlinux $2 with flags $3...: the .S on stdout, its status returned.
reference() {
  local version=$1 vmlinux=$2 scripts=$base/kernel-scripts-$1/scripts
  shift 2
  local map=$work/System.map.$version
  if [[ $version == 6.1 ]]; then
    NM=nm sh "$scripts/mksysmap" "$vmlinux" "$map" 2>/dev/null
  else
    nm -n "$vmlinux" | sed -f "$scripts/mksysmap" >"$map"
  fi
  "$base/kallsyms-$version/kallsyms" "$@" "$map"
}

# The flags scripts/link-vmlinux.sh passes for a configuration file.
config_flags() {
  local config=$1 version=$2 flags=()
  grep -q '^CONFIG_KALLSYMS_ALL=y' "$config" && flags+=(--all-symbols)
  grep -q '^CONFIG_KALLSYMS_ABSOLUTE_PERCPU=y' "$config" && flags+=(--absolute-percpu)
  [[ $version == 6.1 ]] && grep -q '^CONFIG_KALLSYMS_BASE_RELATIVE=y' "$config" && flags+=(--base-relative)
  echo "${flags[*]}"
}

# Flags $1 with flag $2 added, or removed if there.
toggle() {
  local words=() found=0 word
  for word in $1; do
    if [[ $word == "$2" ]]; then found=1; else words+=("$word"); fi
  done
  ((found)) || words+=("$2")
  echo "${words[*]}"
}

versions=()
for version in 6.1 6.12; do
  if [[ -n $(prepare_kernel "$version") ]]; then
    versions+=("$version")
  else
    echo "SKIP $version: /usr/src/linux-source-$version.tar.xz is not installed (Debian package linux-source-$version)"
  fi
done
if ((${#versions[@]} == 0)); then
  echo "no kernel source package installed: nothing to compare against"
  exit 77
fi

failures=0
compared=0
for arch in ppc32 ppc64 x86_64-tiny; do
  compressed=$source_dir/corpus/$arch/vmlinux.xz
  vmlinux=$work/vmlinux-$arch
  if [[ ! -f $vmlinux || $vmlinux -ot $compressed ]]; then
    xz -dc "$compressed" >"$vmlinux.tmp.$$"
    mv "$vmlinux.tmp.$$" "$vmlinux"
  fi
  for version in "${versions[@]}"; do
    own=$(config_flags "$source_dir/corpus/$arch/config" "$version")
    # The build's own flags, none, and the build's flags with each flag toggled (6.1: and with --lto-clang).
    sets=("$own" "" "$(toggle "$own" --all-symbols)" "$(toggle "$own" --absolute-percpu)")
    if [[ $version == 6.1 ]]; then sets+=("$(toggle "$own" --base-relative)" "$own --lto-clang"); fi
    declare -A seen=()
    for flags in "${sets[@]}"; do
      [[ -z ${seen["x$flags"]:-} ]] || continue
      seen["x$flags"]=1
      # shellcheck disable=SC2086 # the flags are words
      set +e
      reference "$version" "$vmlinux" $flags >"$work/reference.S" 2>"$work/reference.err"
      ref_status=$?
      "$tool" --kernel="$version" $flags "$vmlinux" >"$work/ours.S" 2>"$work/ours.err"
      our_status=$?
      set -e
      compared=$((compared + 1))
      what="$arch --kernel=$version ${flags:-(no flags)}"
      if ((ref_status == 0 && our_status == 0)) && cmp -s "$work/reference.S" "$work/ours.S"; then
        echo "ok   $what ($(grep -c . "$work/ours.S") lines)"
      elif ((ref_status != 0 && our_status != 0)) && grep -qF "$(head -n 1 "$work/reference.err")" "$work/ours.err"; then
        echo "ok   $what (both fail: $(head -n 1 "$work/reference.err"))"
      else
        echo "FAIL $what: scripts/kallsyms exit $ref_status, elfsieve-kallsyms exit $our_status"
        head -n 3 "$work/reference.err" "$work/ours.err"
        diff "$work/reference.S" "$work/ours.S" | head -n 10 || true
        failures=$((failures + 1))
      fi
    done
  done
done
echo "$compared comparisons, $failures different"
((failures == 0))
