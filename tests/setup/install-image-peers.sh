#!/usr/bin/env bash
# The optional peers of `npm run build:image` and `npm run test:image` (issue 23), kept out of
# install-peers.sh and so out of CI's default install: together they are some 300 MB (QEMU's
# system emulator pulls in graphics libraries) and the image test runs for tens of minutes.
# Debian or Ubuntu, as root (or with sudo). Safe to run again: installs only what is missing, and
# enables the arm64 binfmt_misc handler mmdebstrap needs to run the image's maintainer scripts.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"

PACKAGES=(
  mmdebstrap        # builds the image's root file system from Debian packages, without loop devices
  qemu-user-static  # runs the arm64 maintainer scripts (dpkg, initramfs, install.sh) on any host
  binfmt-support    # registers qemu-user-static with binfmt_misc
  arch-test         # checks that arm64 programs run (build-image.sh refuses otherwise)
  dosfstools        # mkfs.vfat: the FAT32 boot partition
  mtools            # mcopy/mtype/mdir: files into and out of the boot partition without mounting it
  e2fsprogs         # mkfs.ext4 -d: the root partition from a directory
  fdisk             # sfdisk: the MBR partition table
  xz-utils          # the compressed image
  qemu-system-arm   # qemu-system-aarch64: boots the image in the test
  openssh-client    # ssh/ssh-keygen: the test's key on the boot partition and its way into the VM
)
installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }
missing=()
for pkg in "${PACKAGES[@]}"; do installed "$pkg" || missing+=("$pkg"); done
if [ ${#missing[@]} -gt 0 ]; then
  echo "» installing Debian packages: ${missing[*]}"
  $SUDO apt-get update
  $SUDO apt-get install -y --no-install-recommends "${missing[@]}"
fi
if ! arch-test arm64 >/dev/null 2>&1; then
  echo "» enabling the arm64 binfmt_misc handler"
  $SUDO update-binfmts --enable qemu-aarch64 || true
fi
arch-test arm64
