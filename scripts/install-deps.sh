#!/usr/bin/env bash
# Installs the Debian packages elfsieve's build, tests and oracles need, if any is missing. Run as root.
set -euo pipefail

packages=(
  cmake ninja-build g++ make pkgconf python3 xz-utils file
  clang-14 libclang-rt-14-dev clang-format-14 clang-tidy-14
  libmsgsl-dev catch2 libbenchmark-dev libfmt-dev libcli11-dev
  binutils binutils-multiarch elfutils
  attr util-linux time
  gcc-i686-linux-gnu gcc-powerpc-linux-gnu gcc-powerpc64-linux-gnu
  libc6-dev-i386-cross libc6-dev-powerpc-cross libc6-dev-ppc64-cross
  zlib1g-dev liblzma-dev libzstd-dev liblz4-dev libbz2-dev
  linux-source-6.1 linux-source-6.12
  qemu-system-x86 busybox-static cpio kmod btrfs-progs
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "install-deps: missing Debian packages: ${missing[*]} (run as root, or install them)" >&2
  exit 1
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends "${missing[@]}"
