# shellcheck shell=bash
# Shared by corpus/regenerate --boot-test and tests/kernel/qemu_modules.sh: put kernel modules in dependency order
# and boot the x86_64-tiny bzImage under qemu with a busybox initramfs. Source it; it defines functions only.

# module_load_order DEST DIR...: copies every .ko (and .ko.xz, decompressed) found directly in the DIRs into DEST
# (the first file of a module name wins) and prints "FILE NAME" lines in dependency order: .modinfo depends=, plus
# a "softdep=pre: NAME" (a module name or an alias: libcrc32c's init asks the crypto API for crc32c, which the
# initramfs cannot modprobe) when some module provides it. A module whose dependency is in none of the DIRs is left
# out with a message on stderr. NAME is the module's name with - as _ (as the kernel compares them). Needs modinfo.
module_load_order() {
  local dest=$1 dir f base name a
  shift
  local -A file_of=() deps_of=() provider=() state=()
  local order=()
  mkdir -p "$dest"
  for dir in "$@"; do
    for f in "$dir"/*.ko "$dir"/*.ko.xz; do
      [[ -f $f ]] || continue
      base=$(basename "$f" .xz)
      [[ -e $dest/$base ]] && continue
      if [[ $f == *.xz ]]; then xz -dc -- "$f" >"$dest/$base"; else cp "$f" "$dest/$base"; fi
      name=$(modinfo -F name "$dest/$base" | tr - _)
      if [[ -n ${file_of[$name]:-} ]]; then rm -f "$dest/$base"; continue; fi
      file_of[$name]=$base
    done
  done
  for name in "${!file_of[@]}"; do
    provider[$name]=$name
    for a in $(modinfo -F alias "$dest/${file_of[$name]}" | tr - _); do provider[$a]=${provider[$a]:-$name}; done
  done
  for name in "${!file_of[@]}"; do
    f=$dest/${file_of[$name]}
    deps_of[$name]=$(modinfo -F depends "$f" | tr - _) # the kernel treats - and _ in module names alike
    for a in $(modinfo -F softdep "$f" |
      awk '{ for (i = 1; i <= NF; i++) { if ($i == "pre:") p = 1; else if ($i ~ /:$/) p = 0; else if (p) print $i } p = 0 }' |
      tr - _); do
      [[ -n ${provider[$a]:-} ]] && deps_of[$name]+=",${provider[$a]}"
    done
  done
  _visit_module() {
    local n=$1 dep
    case ${state[$n]:-} in finished) return 0 ;; missing) return 1 ;; visiting) echo "module dependency cycle at $n" >&2; return 1 ;; esac
    if [[ -z ${file_of[$n]:-} ]]; then state[$n]=missing; return 1; fi
    state[$n]=visiting
    local IFS=,
    for dep in ${deps_of[$n]}; do
      [[ -n $dep ]] || continue
      if ! _visit_module "$dep"; then
        echo "module $n left out: its dependency $dep is in none of the module directories" >&2
        state[$n]=missing; return 1
      fi
    done
    state[$n]=finished
    order+=("$n")
  }
  for name in $(printf '%s\n' "${!file_of[@]}" | LC_ALL=C sort); do _visit_module "$name" || true; done
  for name in "${order[@]}"; do echo "${file_of[$name]} $name"; done
}

# extract_capture LOG NAME OUT: the bytes between "elfsieve-capture: begin NAME" and "elfsieve-capture: end NAME
# LINES SHA256" in a serial log (base64 of gzip), checked against the guest's line count and sha256. Returns 1 with
# a message on stderr if the capture is missing or damaged.
extract_capture() {
  local log=$1 name=$2 out=$3 tail lines sha
  tail=$(sed 's/\r$//' "$log" | grep "^elfsieve-capture: end $name " | tail -1)
  [[ -n $tail ]] || { echo "capture $name: end marker missing (incomplete capture)" >&2; return 1; }
  sed 's/\r$//' "$log" | sed -n "/^elfsieve-capture: begin $name\$/,/^elfsieve-capture: end $name /p" |
    sed '1d;$d' | base64 -d | gzip -dc >"$out" || { echo "capture $name: cannot decode" >&2; return 1; }
  read -r _ _ _ lines sha <<<"$tail"
  [[ $(wc -l <"$out") == "$lines" ]] || { echo "capture $name: $(wc -l <"$out") lines, the guest counted $lines" >&2; return 1; }
  [[ $(sha256sum "$out" | cut -d' ' -f1) == "$sha" ]] || { echo "capture $name: sha256 differs from the guest's" >&2; return 1; }
}

# initramfs_skeleton ROOT: a busybox root (static busybox, /dev/console) to which the caller adds /init and files.
initramfs_skeleton() {
  local root=$1
  mkdir -p "$root/bin" "$root/lib/modules" "$root/proc" "$root/sys" "$root/dev" "$root/mnt" "$root/out"
  [[ -e $root/dev/console ]] || mknod -m 600 "$root/dev/console" c 5 1 2>/dev/null || true
  cp /bin/busybox "$root/bin/busybox"
}

# make_initramfs ROOT OUT: gzip'd newc cpio of ROOT (the x86_64-tiny kernel decompresses gzip only).
make_initramfs() {
  (cd "$1" && find . | LC_ALL=C sort | cpio -o -H newc 2>/dev/null | gzip -1 >"$2")
}

# boot_x86_64_tiny BZIMAGE INITRD WORK TIMEOUT: boots under qemu (TCG, no reboot), console (ttyS0) to
# WORK/console.log, the second serial port (ttyS1) to WORK/ttyS1.log. Returns qemu's (or timeout's) status.
# no_timer_check: on a busy host TCG's timer can miss the kernel's IO-APIC timer check, which then panics
# ("IO-APIC + timer doesn't work!").
boot_x86_64_tiny() {
  local bz=$1 initrd=$2 w=$3 limit=$4
  timeout "$limit" qemu-system-x86_64 -m 1024 -display none -no-reboot -monitor none -nodefaults \
    -serial "file:$w/console.log" -serial "file:$w/ttyS1.log" -kernel "$bz" \
    -initrd "$initrd" -append "console=ttyS0 panic=-1 loglevel=7 no_timer_check" </dev/null
}
