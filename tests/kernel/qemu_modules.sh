#!/usr/bin/env bash
# The kernel's module loader as the judge (issue 14): boots corpus/x86_64-tiny/bzImage under qemu (TCG) three
# times, with every module of that build unchanged, after `elfsieve-strip --policy=crc,ksymtab --strip-debug` and
# after `elfsieve-strip --strip-unneeded`; each boot insmods every module in dependency order, uses them (the test
# module elfsieve_probe calls into crc7, crc8, crc-ccitt, libcrc32c, xz_dec, nls_base, configfs; vfat with nls
# codepages, msdos and ext2 on loop devices; btrfs with zstd and lzo compression on a loop device), then reads
# /proc/modules, /proc/kallsyms and dmesg once and ships them out over the second serial port.
# tests/kernel/qemu_modules_check.py then asserts: every module loaded in every variant, a clean kernel log, the
# same functional results everywhere (and the probe's values equal the host's), and per module the stripped
# variants' /proc/kallsyms lines are the unchanged ones minus the symbols the strip removed (names and types), with
# --strip-unneeded equal to what the kernel would show for GNU strip --strip-unneeded.
# The unchanged boot also loads a copy of elfsieve_probe.ko with one relocation's symbol index changed (after
# unloading the good one); `--expect-broken-caught` checks that the checker rejects it.
#
# Usage: qemu_modules.sh TOOLS-DIR SOURCE-DIR WORK-DIR [--expect-broken-caught]
# Environment: ELFSIEVE_KERNEL_DEPS: directory of the build's other modules (default corpus/x86_64-tiny/deps).
# Exit status: 0 pass, 1 fail, 77 skipped (qemu, busybox, cpio or kmod missing; or, with --expect-broken-caught,
# no results of a boot run to check).
set -euo pipefail
tools=$1 src=$2 work=$3 mode=${4:-}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
corpus=$src/corpus/x86_64-tiny
deps=${ELFSIEVE_KERNEL_DEPS:-$corpus/deps}
variants=(unchanged crc-ksymtab unneeded)

if [[ $mode == --expect-broken-caught ]]; then
  [[ -f $work/results/unchanged/broken-dmesg ]] || { echo "SKIP: no boot results in $work (kernel.qemu_stripped_modules did not run)"; exit 77; }
  # The checker must fail when the broken probe's results stand in for the good one's.
  if python3 "$here/qemu_modules_check.py" --broken "$work" >"$work/broken-check.log" 2>&1; then
    cat "$work/broken-check.log"
    echo "FAIL: the checker accepted elfsieve_probe.ko with a changed relocation symbol index"
    exit 1
  fi
  grep -E '^(FAIL|broken)' "$work/broken-check.log" || true
  # Rejected for the right reason: the value read through the changed relocation.
  if ! grep -q '^FAIL: unchanged: elfsieve_probe crc_ccitt_table\[1\]=0x1021, expected 0x1189' "$work/broken-check.log"; then
    echo "FAIL: the checker did not report the wrong crc_ccitt_table read of the broken module"
    exit 1
  fi
  echo "PASS: the checker rejected the module with a changed relocation symbol index (it read crc_ccitt_false_table)"
  exit 0
fi

missing=()
for p in qemu-system-x86_64 busybox cpio modinfo gzip xz python3; do command -v "$p" >/dev/null || missing+=("$p"); done
if ((${#missing[@]})); then
  echo "SKIP: missing ${missing[*]} (scripts/install-deps.sh installs qemu-system-x86, busybox-static, cpio, kmod)"
  exit 77
fi
[[ -f $corpus/bzImage ]] || { echo "FAIL: $corpus/bzImage missing"; exit 1; }
# shellcheck source=../../corpus/boot-lib.sh
source "$src/corpus/boot-lib.sh"
started=$SECONDS
rm -rf "$work"
mkdir -p "$work"

# --- modules, in load order, and the three variants of each file -------------------------------------------------
if [[ ! -d $deps ]]; then
  echo "SKIP: $deps missing (the build's other modules: btrfs's and libcrc32c's dependencies, nls codepages, ...)"
  exit 77
fi
module_dirs=("$corpus" "$deps")
module_load_order "$work/modules/unchanged" "${module_dirs[@]}" >"$work/order" 2>"$work/order.log"
if [[ -s $work/order.log ]]; then
  cat "$work/order.log"
  echo "FAIL: not every module can be loaded (a dependency is missing from $corpus and $deps)"
  exit 1
fi
echo "load order ($(wc -l <"$work/order") modules): $(cut -d' ' -f2 "$work/order" | tr '\n' ' ')"
mkdir -p "$work/modules/crc-ksymtab" "$work/modules/unneeded" "$work/modules/gnu-unneeded"
while read -r f _; do
  in=$work/modules/unchanged/$f
  "$tools/elfsieve-strip" --policy=crc,ksymtab --strip-debug -o "$work/modules/crc-ksymtab/$f" "$in"
  "$tools/elfsieve-strip" --strip-unneeded -o "$work/modules/unneeded/$f" "$in"
  strip --strip-unneeded -o "$work/modules/gnu-unneeded/$f" "$in"
done <"$work/order"

# The broken module: elfsieve_probe.ko with one relocation of crc_ccitt_table retargeted to crc_ccitt_false_table
# (both exported by crc-ccitt, so it still loads; only its output says the wrong table was read).
python3 "$here/qemu_modules_check.py" --make-broken "$work/modules/unchanged/elfsieve_probe.ko" "$work/broken.ko"

# --- the files each boot needs: btrfs image made on the host (no mkfs.btrfs in busybox) ---------------------------
btrfs_note=""
if command -v mkfs.btrfs >/dev/null; then
  mkdir -p "$work/btrfs-root"
  seq 1 20000 >"$work/btrfs-root/seq.txt"
  truncate -s 16M "$work/btrfs.img"
  mkfs.btrfs -q --mixed -r "$work/btrfs-root" "$work/btrfs.img" >/dev/null 2>&1 || rm -f "$work/btrfs.img"
fi
[[ -f $work/btrfs.img ]] || btrfs_note="btrfs functional check skipped: mkfs.btrfs (btrfs-progs) not available on the host"
[[ -n $btrfs_note ]] && echo "note: $btrfs_note"

cat >"$work/init" <<'EOF'
#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc; mount -t sysfs sys /sys; mount -t devtmpfs dev /dev 2>/dev/null
exec >/dev/console 2>&1
say() { echo "elfsieve-boot: $*"; }
say "kernel $(uname -r) up, variant $(cat /variant)"
while read -r f m; do
  if insmod /lib/modules/$f 2>/out/err; then say "insmod $m ok"; else say "insmod $m FAILED: $(cat /out/err)"; fi
done < /lib/modules/order
# Functional checks: everything they print goes to /out/functional and must be equal in every variant.
names() { # the file names in $1, hex-encoded (busybox ls would print ? for non-ASCII bytes)
  for n in "$1"/*; do printf '%s ' "$(printf '%s' "${n##*/}" | od -An -tx1 | tr -d ' \n')"; done
}
fs_roundtrip() { # fs_roundtrip NAME DEV TYPE MOUNT-OPTIONS REMOUNT-OPTIONS
  name=$1 dev=$2 type=$3 opts=$4 reopts=$5
  mount -t "$type" -o "$opts" "$dev" /mnt || { echo "$name: mount failed"; return; }
  seq 1 30000 > /mnt/seq.txt
  cp /bin/busybox /mnt/busybox.bin
  echo "elfsieve" > "/mnt/Gr$(printf '\303\274\303\237')e-$(printf '\342\202\254').txt"
  sync; umount /mnt || echo "$name: umount failed"
  mount -t "$type" -o "$reopts" "$dev" /mnt || { echo "$name: remount failed"; return; }
  echo "$name: files: $(names /mnt)"
  (cd /mnt && sha256sum seq.txt busybox.bin) | sed "s/^/$name: /"
  echo "$name: busybox copy equal: $(cmp /bin/busybox /mnt/busybox.bin >/dev/null && echo yes || echo no)"
  umount /mnt || echo "$name: umount failed"
}
{
  mkdir -p /sys/kernel/config && mount -t configfs none /sys/kernel/config &&
    echo "configfs: $(ls /sys/kernel/config | tr '\n' ' ')"
  dd if=/dev/zero of=/vfat.img bs=1024 count=8192 2>/dev/null
  mkdosfs -n ELFSIEVE /vfat.img >/dev/null
  losetup /dev/loop0 /vfat.img && echo "loop0: $(cat /sys/block/loop0/size) sectors"
  fs_roundtrip vfat-utf8 /dev/loop0 vfat iocharset=utf8,codepage=437 iocharset=utf8,codepage=437
  mount -t vfat -o iocharset=iso8859-1,codepage=437 /dev/loop0 /mnt &&
    echo "vfat-iso8859-1: files: $(names /mnt)" && umount /mnt
  grep -q '^msdos ' /proc/modules && mount -t msdos /dev/loop0 /mnt && echo "msdos: files: $(names /mnt)" &&
    echo "msdos: $(sha256sum /mnt/seq.txt | cut -d' ' -f1)" && umount /mnt
  losetup -d /dev/loop0
  if grep -q '^ext2 ' /proc/modules; then
    dd if=/dev/zero of=/ext2.img bs=1024 count=4096 2>/dev/null
    losetup /dev/loop1 /ext2.img
    mke2fs /dev/loop1 >/dev/null
    fs_roundtrip ext2 /dev/loop1 ext2 rw rw
    losetup -d /dev/loop1
  fi
  if [ -f /btrfs.img ]; then
    losetup /dev/loop2 /btrfs.img
    mount -t btrfs -o compress=zstd /dev/loop2 /mnt && {
      echo "btrfs: mkfs file: $(sha256sum /mnt/seq.txt | cut -d' ' -f1)"
      seq 1 30000 > /mnt/zstd.txt; sync; umount /mnt; }
    mount -t btrfs -o compress=lzo /dev/loop2 /mnt && { seq 1 30000 > /mnt/lzo.txt; sync; umount /mnt; }
    mount -t btrfs -o compress=zlib /dev/loop2 /mnt && { seq 1 30000 > /mnt/zlib.txt; sync; umount /mnt; }
    mount -t btrfs -o ro /dev/loop2 /mnt && {
      echo "btrfs: files: $(names /mnt)"
      (cd /mnt && sha256sum seq.txt zstd.txt lzo.txt zlib.txt) | sed 's/^/btrfs: /'
      umount /mnt; }
    losetup -d /dev/loop2
  fi
  echo "reference seq 1 30000: $(seq 1 30000 | sha256sum | cut -d' ' -f1)"
} > /out/functional 2>&1
echo 0 > /proc/sys/kernel/kptr_restrict
cat /proc/modules > /out/proc-modules
cat /proc/kallsyms > /out/proc-kallsyms   # the one read of /proc/kallsyms
dmesg > /out/dmesg
if [ -f /broken/elfsieve_probe.ko ]; then
  umount /sys/kernel/config 2>/dev/null
  rmmod elfsieve_probe && say "rmmod elfsieve_probe ok"
  dmesg -c > /dev/null
  if insmod /broken/elfsieve_probe.ko 2>/out/err; then say "insmod broken elfsieve_probe ok"; else say "insmod broken elfsieve_probe FAILED: $(cat /out/err)"; fi
  dmesg > /out/broken-dmesg
fi
stty -F /dev/ttyS1 raw -echo 2>/dev/null
for c in $(ls /out); do
  {
    echo "elfsieve-capture: begin $c"
    gzip -c /out/$c | base64
    echo "elfsieve-capture: end $c $(wc -l < /out/$c) $(sha256sum /out/$c | cut -d' ' -f1)"
  } > /dev/ttyS1
done
say done
reboot -f
EOF

# Lines the functional results must hold: the long name "Gr\u00fc\u00dfe-\u20ac.txt" in UTF-8, hex-encoded, as
# vfat (iocharset=utf8) and ext2 list it; the copies equal; the probe's configfs subsystem; btrfs's files.
long_name=$(printf 'Gr\303\274\303\237e-\342\202\254.txt' | od -An -tx1 | tr -d ' \n')
loads() { grep -q " $1\$" "$work/order"; }
{
  echo "configfs: elfsieve_probe"
  echo "vfat-utf8: files: $long_name "
  echo "vfat-utf8: busybox copy equal: yes"
  if loads ext2; then
    echo "ext2: files: $long_name "
    echo "ext2: busybox copy equal: yes"
  fi
  if loads btrfs && [[ -z $btrfs_note ]]; then echo "btrfs: files: $(printf 'lzo.txt' | od -An -tx1 | tr -d ' \n') "; fi
} >"$work/expected-functional"
for m in ext2 msdos btrfs nls_utf8 nls_cp437 nls_iso8859_1; do loads $m || echo "note: no $m module in $deps: its checks are left out"; done

# --- one boot per variant -------------------------------------------------------------------------------------------
boot_limit=${ELFSIEVE_BOOT_TIMEOUT:-180}
status=0
for v in "${variants[@]}"; do
  w=$work/boot-$v
  root=$w/root
  mkdir -p "$w"
  initramfs_skeleton "$root"
  cp "$work/init" "$root/init"
  chmod +x "$root/init"
  echo "$v" >"$root/variant"
  cp "$work/order" "$root/lib/modules/order"
  while read -r f _; do cp "$work/modules/$v/$f" "$root/lib/modules/$f"; done <"$work/order"
  if [[ -f $work/btrfs.img ]] && loads btrfs; then cp "$work/btrfs.img" "$root/btrfs.img"; fi
  if [[ $v == unchanged ]]; then mkdir -p "$root/broken" && cp "$work/broken.ko" "$root/broken/elfsieve_probe.ko"; fi
  make_initramfs "$root" "$w/initrd.gz"
  t0=$(date +%s.%N)
  rc=0
  boot_x86_64_tiny "$corpus/bzImage" "$w/initrd.gz" "$w" "$boot_limit" || rc=$?
  t1=$(date +%s.%N)
  printf 'boot %-12s %5.1f s wall (qemu status %d, initramfs %d KiB)\n' "$v" "$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')" "$rc" \
    $(($(stat -c %s "$w/initrd.gz") / 1024))
  mkdir -p "$work/results/$v"
  cp "$w/console.log" "$work/results/$v/console.log"
  if ! grep -q 'elfsieve-boot: done' "$w/console.log"; then
    echo "FAIL: boot $v did not reach the end (qemu status $rc; 124: the ${boot_limit}s limit); console:"
    tail -n 40 "$w/console.log"
    status=1
    continue
  fi
  for c in dmesg functional proc-kallsyms proc-modules broken-dmesg; do
    [[ $c == broken-dmesg && $v != unchanged ]] && continue
    extract_capture "$w/ttyS1.log" "$c" "$work/results/$v/$c" || status=1
  done
  rm -rf "$root" "$w/initrd.gz"
done
((status == 0)) || exit 1

# --- assertions --------------------------------------------------------------------------------------------------
python3 "$here/qemu_modules_check.py" --kallsyms "$tools/elfsieve-kallsyms" "$work" || status=1
[[ -n $btrfs_note ]] && echo "note: $btrfs_note"
echo "total $((SECONDS - started)) s"
exit "$status"
