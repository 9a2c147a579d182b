#!/usr/bin/env bash
# Extended qemu proof (issue 14 part 4; opt-in, needs the corpus cache): the same three boots as
# qemu_modules.sh (unchanged, elfsieve-strip --policy=crc,ksymtab --strip-debug, elfsieve-strip --strip-unneeded),
# with Debian's own 6.1 amd64 kernel (vmlinuz from corpus/cache/x86_64/boot) and a chain of its modules: ext4 with
# jbd2/mbcache on a virtio disk (virtio_pci, virtio_blk), vfat with nls codepages on an IDE disk (libata, ata_piix,
# scsi_mod, sd_mod), ext4 on a USB stick (usbcore, xhci-pci, usb-storage), btrfs with its crypto and compression
# modules on a second virtio disk, a virtio network card (virtio_net, net_failover), loop. Each file system is
# written, remounted and read back; the same checker (qemu_modules_check.py) then asserts that every module loaded
# and worked the same in every boot and that /proc/kallsyms lost exactly the removed symbols. Stripped Debian modules
# lose their signature: the kernel (MODULE_SIG on, not enforced) taints itself (E); each boot's taint is printed.
#
# Usage: qemu_debian_modules.sh TOOLS-DIR SOURCE-DIR WORK-DIR   (runs only with ELFSIEVE_QEMU_DEBIAN=1)
# Environment: ELFSIEVE_CORPUS_CACHE (default corpus/cache), ELFSIEVE_BOOT_TIMEOUT (per boot, default 600 s).
# Exit status: 0 pass, 1 fail, 77 skipped (not asked for, cache or tools missing).
set -euo pipefail
tools=$1 src=$2 work=$3
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
variants=(unchanged crc-ksymtab unneeded)
if [[ ${ELFSIEVE_QEMU_DEBIAN:-0} != 1 ]]; then
  echo "SKIP: opt-in: ELFSIEVE_QEMU_DEBIAN=1 runs it (about 3 minutes on 2 cores; needs corpus/cache from corpus/regenerate --cache)"
  exit 77
fi
cache=${ELFSIEVE_CORPUS_CACHE:-$src/corpus/cache}/x86_64
vmlinuz=$(ls "$cache"/boot/vmlinuz-* 2>/dev/null | head -n 1 || true)
release=${vmlinuz##*/vmlinuz-}
moddir=$cache/lib/modules/$release
if [[ -z $vmlinuz || ! -d $moddir ]]; then
  echo "SKIP: no Debian amd64 kernel and modules in $cache (corpus/regenerate --cache)"
  exit 77
fi
missing=()
for p in qemu-system-x86_64 busybox cpio modinfo gzip python3 mkfs.ext4 mkfs.btrfs; do
  command -v "$p" >/dev/null || missing+=("$p")
done
((${#missing[@]} == 0)) || { echo "SKIP: missing ${missing[*]}"; exit 77; }
# shellcheck source=../../corpus/boot-lib.sh
source "$src/corpus/boot-lib.sh"
started=$SECONDS
rm -rf "$work"
mkdir -p "$work/flat"

# --- the module chain: the targets and everything their depends= name, from the Debian image ---------------------
targets="ext4 jbd2 mbcache fat vfat nls_cp437 nls_iso8859_1 nls_utf8 scsi_mod sd_mod libata ata_piix usbcore
  usb_common xhci_hcd xhci_pci usb_storage virtio virtio_ring virtio_pci virtio_blk virtio_net btrfs loop libcrc32c"
# The crypto algorithms btrfs and libcrc32c ask for (softdep pre:), when Debian builds them as modules; the generic
# ones: qemu's default CPU has no SSE4.2, so crc32c-intel would refuse to load (ENODEV).
optional="crc32c_generic xxhash_generic sha256_generic blake2b_generic"
declare -A path_of=() taken=()
while IFS= read -r f; do
  n=${f##*/}
  n=${n%.ko}
  path_of[${n//-/_}]=$f
done < <(find "$moddir" -name '*.ko')
queue=($targets)
for n in $optional; do [[ -z ${path_of[$n]:-} ]] || queue+=("$n"); done
while ((${#queue[@]})); do
  n=${queue[0]}
  queue=("${queue[@]:1}")
  [[ -n ${taken[$n]:-} ]] && continue
  [[ -n ${path_of[$n]:-} ]] || { echo "FAIL: module $n not in $moddir"; exit 1; }
  taken[$n]=1
  cp "${path_of[$n]}" "$work/flat/"
  for d in $(modinfo -F depends "${path_of[$n]}" | tr , ' ' | tr - _); do queue+=("$d"); done
done
module_load_order "$work/modules/unchanged" "$work/flat" >"$work/order" 2>"$work/order.log"
if [[ -s $work/order.log ]]; then cat "$work/order.log"; echo "FAIL: not every module can be ordered"; exit 1; fi
echo "load order ($(wc -l <"$work/order") modules): $(cut -d' ' -f2 "$work/order" | tr '\n' ' ')"
mkdir -p "$work/modules/crc-ksymtab" "$work/modules/unneeded" "$work/modules/gnu-unneeded"
while read -r f _; do
  in=$work/modules/unchanged/$f
  # The signature cannot survive a rewrite; elfsieve-strip says so on stderr for every file.
  "$tools/elfsieve-strip" --policy=crc,ksymtab --strip-debug -o "$work/modules/crc-ksymtab/$f" "$in" 2>/dev/null
  "$tools/elfsieve-strip" --strip-unneeded -o "$work/modules/unneeded/$f" "$in" 2>/dev/null
  strip --strip-unneeded -o "$work/modules/gnu-unneeded/$f" "$in"
done <"$work/order"

# --- disks made on the host (the same files for every boot: copied per boot, as the boots write to them) ---------
mkdir -p "$work/fs-root"
seq 1 20000 >"$work/fs-root/seq.txt"
truncate -s 64M "$work/ext4.img" "$work/usb.img" "$work/ide.img"
truncate -s 128M "$work/btrfs.img"
mkfs.ext4 -q -F -d "$work/fs-root" -E root_owner=0:0 -U 6d1b1f00-0000-4000-8000-000000000001 "$work/ext4.img"
mkfs.ext4 -q -F -d "$work/fs-root" -E root_owner=0:0 -U 6d1b1f00-0000-4000-8000-000000000002 "$work/usb.img"
mkfs.btrfs -q -r "$work/fs-root" "$work/btrfs.img" >/dev/null 2>&1

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
say "tainted=$(cat /proc/sys/kernel/tainted)"
# Devices probe asynchronously: wait for the four disks and the network card.
i=0
while [ $i -lt 60 ]; do
  n=0; for d in vda vdb sda sdb; do [ -b /dev/$d ] && n=$((n + 1)); done
  [ $n -eq 4 ] && [ -e /sys/class/net/eth0 ] && break
  sleep 1; i=$((i + 1))
done
usb=""; ide=""
for d in sda sdb; do
  case $(readlink -f /sys/block/$d 2>/dev/null) in *usb*) usb=/dev/$d ;; ?*) ide=/dev/$d ;; esac
done
roundtrip() { # roundtrip NAME DEV TYPE MOUNT-OPTIONS
  name=$1 dev=$2 type=$3 opts=$4
  [ -b "$dev" ] || { echo "$name: no device"; return; }
  mount -t "$type" -o "$opts" "$dev" /mnt || { echo "$name: mount failed"; return; }
  [ -f /mnt/seq.txt ] && echo "$name: host file: $(sha256sum /mnt/seq.txt | cut -d' ' -f1)"
  seq 1 30000 > /mnt/written.txt
  cp /bin/busybox /mnt/busybox.bin
  sync; umount /mnt || echo "$name: umount failed"
  mount -t "$type" -o "$opts" "$dev" /mnt || { echo "$name: remount failed"; return; }
  (cd /mnt && sha256sum written.txt busybox.bin) | sed "s/^/$name: /"
  echo "$name: busybox copy equal: $(cmp /bin/busybox /mnt/busybox.bin >/dev/null && echo yes || echo no)"
  umount /mnt || echo "$name: umount failed"
}
{
  echo "net: eth0 driver $(basename "$(readlink -f /sys/class/net/eth0/device/driver 2>/dev/null)" 2>/dev/null)"
  ip link set eth0 up 2>/dev/null && echo "net: eth0 up"
  echo "usb disk: ${usb:+found}, usb-storage interfaces bound: $(ls /sys/bus/usb/drivers/usb-storage 2>/dev/null | grep -c :)"
  roundtrip ext4-virtio /dev/vda ext4 rw
  roundtrip ext4-usb "$usb" ext4 rw
  [ -n "$ide" ] && mkdosfs -n ELFSIEVE "$ide" >/dev/null
  roundtrip vfat-ide "$ide" vfat iocharset=utf8,codepage=437
  roundtrip btrfs-virtio /dev/vdb btrfs compress=zstd
  dd if=/dev/zero of=/loop.img bs=1024 count=8192 2>/dev/null && mkdosfs /loop.img >/dev/null &&
    losetup /dev/loop0 /loop.img && roundtrip vfat-loop /dev/loop0 vfat iocharset=iso8859-1
  echo "reference seq 1 30000: $(seq 1 30000 | sha256sum | cut -d' ' -f1)"
} > /out/functional 2>&1
echo 0 > /proc/sys/kernel/kptr_restrict
cat /proc/modules > /out/proc-modules
cat /proc/kallsyms > /out/proc-kallsyms   # the one read of /proc/kallsyms
dmesg > /out/dmesg
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
{
  for fs in ext4-virtio ext4-usb vfat-ide btrfs-virtio vfat-loop; do echo "$fs: busybox copy equal: yes"; done
  echo "net: eth0 driver virtio_net"
  echo "usb disk: found, usb-storage interfaces bound: 1"
} >"$work/expected-functional"

boot_limit=${ELFSIEVE_BOOT_TIMEOUT:-600}
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
  make_initramfs "$root" "$w/initrd.gz"
  for d in ext4 usb ide btrfs; do cp --sparse=always "$work/$d.img" "$w/$d.img"; done
  t0=$(date +%s.%N)
  rc=0
  timeout "$boot_limit" qemu-system-x86_64 -m 1536 -display none -no-reboot -monitor none -nodefaults \
    -serial "file:$w/console.log" -serial "file:$w/ttyS1.log" -kernel "$vmlinuz" -initrd "$w/initrd.gz" \
    -append "console=ttyS0 panic=-1 no_timer_check module.sig_enforce=0" \
    -drive "file=$w/ext4.img,if=virtio,format=raw" -drive "file=$w/btrfs.img,if=virtio,format=raw" \
    -drive "file=$w/ide.img,if=ide,format=raw" \
    -device qemu-xhci,id=xhci -drive "if=none,id=stick,file=$w/usb.img,format=raw" \
    -device usb-storage,bus=xhci.0,drive=stick \
    -netdev user,id=n0 -device virtio-net-pci,netdev=n0 </dev/null || rc=$?
  t1=$(date +%s.%N)
  printf 'boot %-12s %5.1f s wall (qemu status %d, initramfs %d KiB)\n' "$v" \
    "$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')" "$rc" $(($(stat -c %s "$w/initrd.gz") / 1024))
  mkdir -p "$work/results/$v"
  cp "$w/console.log" "$work/results/$v/console.log"
  grep -a 'elfsieve-boot: tainted=' "$w/console.log" | sed "s/^/$v: /" || true
  if ! grep -q 'elfsieve-boot: done' "$w/console.log"; then
    echo "FAIL: boot $v did not reach the end (qemu status $rc; 124: the ${boot_limit}s limit); console:"
    tail -n 40 "$w/console.log"
    status=1
    continue
  fi
  for c in dmesg functional proc-kallsyms proc-modules; do
    extract_capture "$w/ttyS1.log" "$c" "$work/results/$v/$c" || status=1
  done
  rm -rf "$root" "$w"/*.img "$w/initrd.gz"
done
((status == 0)) || exit 1
python3 "$here/qemu_modules_check.py" --kallsyms "$tools/elfsieve-kallsyms" "$work" || status=1
echo "total $((SECONDS - started)) s"
exit "$status"
