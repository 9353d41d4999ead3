#!/usr/bin/env bash
# `npm run build:image` (as root): a raw disk image for 64-bit Raspberry Pi boards (3, 4, 5, Zero 2)
# built from Debian packages only, with the gateway release tarball installed by its own install.sh.
#
#   MBR  p1  FAT32 "SIEMBOOT" (256 MiB)  Pi firmware (raspi-firmware), Debian's arm64 kernel, initrd
#                                        and Broadcom DTBs, config.txt and cmdline.txt; the
#                                        installer's files (docs/flash-gateway.md)
#        p2  ext4 "siem-root"            minimal Debian (mmdebstrap), nodejs, the gateway, its
#                                        hardened unit, systemd-networkd/-timesyncd; grown to the
#                                        card at first boot
#
# No loop devices and no mounts: mmdebstrap builds the root file system in a directory (arm64
# maintainer scripts run under qemu-user-static through binfmt_misc), `mkfs.ext4 -d` and
# `mkfs.vfat` + `mcopy` make the two file systems as files, and dd puts them behind an sfdisk
# partition table. Output in dist/image/ (IMAGE_OUT): <name>.img.xz, <name>.img.xz.sha256 and
# <name>.manifest.tsv (every Debian package with its version, and the gateway release).
#
# Suite: Debian 13 "trixie" by default, because the gateway needs Node.js >= 20.19 and bookworm's
# nodejs is 18.20 (trixie: 20.19); trixie's kernel (6.12) and raspi-firmware also know the Pi 5.
#
# Reproducibility: SOURCE_DATE_EPOCH (default: the last commit's time) is passed to mmdebstrap and
# clamps every file time, the ext4 and FAT volume ids and times, the ext4 hash seed and the MBR
# disk id. What is not reproducible: the package versions are whatever the mirror serves on the
# day (point IMAGE_MIRROR at a snapshot.debian.org date to pin them), and file order inside the
# ext4 image follows the build host's directory order.
#
# Options (environment): IMAGE_TARBALL (default: dist/siem-gateway-<version>-linux-arm64.tar.gz,
# built with `npm run build:gateway -- --targets linux-arm64` when missing), IMAGE_OUT,
# IMAGE_SUITE, IMAGE_MIRROR, IMAGE_SECURITY_MIRROR, IMAGE_BOOT_MIB (256), IMAGE_FREE_MIB (free
# space left in the root file system before it is grown, 384), IMAGE_XZ_LEVEL (6),
# IMAGE_KEEP_RAW=1 (also keep the uncompressed .img).
# Needs: mmdebstrap qemu-user-static binfmt-support arch-test dosfstools mtools e2fsprogs fdisk xz-utils
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
VERSION=$(node -p "require('$REPO/package.json').version")
SUITE=${IMAGE_SUITE:-trixie}
MIRROR=${IMAGE_MIRROR:-http://deb.debian.org/debian}
SECURITY_MIRROR=${IMAGE_SECURITY_MIRROR:-http://deb.debian.org/debian-security}
OUT=${IMAGE_OUT:-$REPO/dist/image}
BOOT_MIB=${IMAGE_BOOT_MIB:-256}
FREE_MIB=${IMAGE_FREE_MIB:-384}
XZ_LEVEL=${IMAGE_XZ_LEVEL:-6}
SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git -C "$REPO" log -1 --format=%ct 2>/dev/null || date +%s)}
export SOURCE_DATE_EPOCH
NAME="siem-gateway-$VERSION-$SUITE-arm64"
TARBALL=${IMAGE_TARBALL:-$REPO/dist/siem-gateway-$VERSION-linux-arm64.tar.gz}

say() { echo "build-image: $*"; }
fail() { echo "build-image: $*" >&2; exit 1; }
started=$(date +%s)

# Everything a Debian package gives; nothing is downloaded from anywhere else.
[ "$(id -u)" -eq 0 ] || fail "run as root (mmdebstrap runs arm64 maintainer scripts in a chroot)"
for tool in mmdebstrap mkfs.ext4 mkfs.vfat mcopy sfdisk xz arch-test; do
  command -v "$tool" >/dev/null || fail "$tool is missing: apt-get install mmdebstrap qemu-user-static binfmt-support arch-test dosfstools mtools e2fsprogs fdisk xz-utils"
done
arch-test arm64 >/dev/null || fail "this machine cannot run arm64 programs: apt-get install qemu-user-static binfmt-support"

# The same tarball the install path uses.
if [ ! -f "$TARBALL" ]; then
  say "building the gateway release (npm run build:gateway -- --targets linux-arm64)"
  (cd "$REPO" && node --import tsx firmware-shims/build/bundle-gateway.ts --targets linux-arm64)
fi
[ -f "$TARBALL" ] || fail "no release tarball at $TARBALL"

WORK=$(mktemp -d "${TMPDIR:-/var/tmp}/siem-image.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
mkdir -p "$WORK/release" "$OUT"
tar -C "$WORK/release" --strip-components=1 -xzf "$TARBALL"
[ -x "$WORK/release/install.sh" ] || fail "$TARBALL holds no install.sh"

# Values that would otherwise be random, derived from SOURCE_DATE_EPOCH.
hex() { printf '%s' "$SOURCE_DATE_EPOCH-$1" | sha256sum | cut -c1-"$2"; }
uuid() { hex "$1" 32 | sed -E 's/^(.{8})(.{4})(.{4})(.{4})(.{12})$/\1-\2-\3-\4-\5/'; }

PACKAGES=(
  systemd systemd-sysv udev dbus libpam-systemd # init, devices; logind for SSH sessions
  systemd-timesyncd                             # a Pi has no real-time clock
  systemd-resolved                              # DNS for systemd-networkd (DHCP or network.conf)
  kmod iproute2 netbase ca-certificates procps
  openssh-server                    # off until an authorized_keys is dropped on the boot partition
  nodejs                            # Debian's Node.js runs the bundled gateway
  linux-image-arm64 initramfs-tools zstd # Debian's kernel; the initrd finds root by label
  raspi-firmware                    # the Pi's boot firmware, config.txt and cmdline.txt
  fdisk e2fsprogs                     # sfdisk/resize2fs: root grown to the card at first boot
  dosfstools                        # fsck of the boot partition
)

say "root file system: mmdebstrap $SUITE arm64 (SOURCE_DATE_EPOCH=$SOURCE_DATE_EPOCH)"
mmdebstrap \
  --architectures=arm64 \
  --variant=minbase \
  --components=main,non-free-firmware \
  --include="$(IFS=,; echo "${PACKAGES[*]}")" \
  --aptopt='APT::Install-Recommends "false"' \
  --dpkgopt='path-exclude=/usr/share/man/*' \
  --dpkgopt='path-exclude=/usr/share/locale/*' \
  --dpkgopt='path-include=/usr/share/locale/locale.alias' \
  --dpkgopt='path-exclude=/usr/share/doc/*' \
  --dpkgopt='path-include=/usr/share/doc/*/copyright' \
  --setup-hook='mkdir -p "$1/boot/firmware" "$1/usr/share/initramfs-tools/modules.d"' \
  --setup-hook='printf "%s\n" virtio_pci virtio_blk virtio_net >"$1/usr/share/initramfs-tools/modules.d/siem-image"' \
  --customize-hook="\"$HERE/customize.sh\" \"\$1\" \"$WORK/release\" \"$OUT/$NAME.manifest.tsv\"" \
  "$SUITE" "$WORK/rootfs" \
  "deb $MIRROR $SUITE main non-free-firmware" \
  "deb $MIRROR $SUITE-updates main non-free-firmware" \
  "deb $SECURITY_MIRROR $SUITE-security main non-free-firmware"

# The boot partition's content comes out of the root file system (where the raspi-firmware and
# kernel hooks put it); the root keeps /boot/firmware as an empty mount point.
mkdir -p "$WORK/bootfs"
mv "$WORK/rootfs/boot/firmware/"* "$WORK/bootfs/"
cp "$HERE/boot/README-siem-gateway.txt" "$HERE/boot/network.conf.example" "$WORK/bootfs/"
for f in config.txt cmdline.txt bootcode.bin start4.elf fixup4.dat bcm2711-rpi-4-b.dtb bcm2837-rpi-3-b.dtb; do
  [ -e "$WORK/bootfs/$f" ] || fail "the boot partition has no $f"
done
ls "$WORK/bootfs"/vmlinuz-* "$WORK/bootfs"/initrd.img-* >/dev/null || fail "no kernel or initrd on the boot partition"

# Every file time clamped to SOURCE_DATE_EPOCH (files generated during the build are newer).
find "$WORK/rootfs" "$WORK/bootfs" -newermt "@$SOURCE_DATE_EPOCH" -print0 | xargs -0r touch -h -d "@$SOURCE_DATE_EPOCH"

say "boot file system: FAT32, $BOOT_MIB MiB"
mkfs.vfat --invariant -F 32 -n SIEMBOOT -i "$(hex boot 8)" -C "$WORK/boot.vfat" $((BOOT_MIB * 1024)) >/dev/null
MTOOLS_SKIP_CHECK=1 mcopy -s -p -m -i "$WORK/boot.vfat" "$WORK/bootfs/"* ::/

used_mib=$(du -sm "$WORK/rootfs" | cut -f1)
root_mib=$((used_mib + used_mib / 5 + FREE_MIB))
say "root file system: ext4, $root_mib MiB ($used_mib MiB used)"
E2FSPROGS_FAKE_TIME=$SOURCE_DATE_EPOCH mkfs.ext4 -q -F -L siem-root -U "$(uuid root)" \
  -E "hash_seed=$(uuid hash),root_owner=0:0" -b 4096 -d "$WORK/rootfs" "$WORK/root.ext4" "${root_mib}M"

# The disk: 4 MiB of alignment, the boot partition, the root partition (Pi firmware reads MBR).
IMG="$WORK/$NAME.img"
boot_start=8192
boot_sectors=$((BOOT_MIB * 2048))
root_start=$((boot_start + boot_sectors))
root_sectors=$((root_mib * 2048))
truncate -s $(((root_start + root_sectors) * 512)) "$IMG"
sfdisk --no-reread --no-tell-kernel -q "$IMG" <<EOF
label: dos
label-id: 0x$(hex disk 8)
unit: sectors
start=$boot_start, size=$boot_sectors, type=c, bootable
start=$root_start, size=$root_sectors, type=83
EOF
dd if="$WORK/boot.vfat" of="$IMG" bs=1M seek=$((boot_start / 2048)) conv=notrunc,sparse status=none
dd if="$WORK/root.ext4" of="$IMG" bs=1M seek=$((root_start / 2048)) conv=notrunc,sparse status=none
touch -d "@$SOURCE_DATE_EPOCH" "$IMG"

say "compressing (xz -$XZ_LEVEL)"
rm -f "$OUT/$NAME.img.xz" "$OUT/$NAME.img"
xz "-$XZ_LEVEL" -T2 --stdout "$IMG" >"$OUT/$NAME.img.xz"
(cd "$OUT" && sha256sum "$NAME.img.xz" >"$NAME.img.xz.sha256")
[ "${IMAGE_KEEP_RAW:-0}" = 1 ] && mv "$IMG" "$OUT/$NAME.img"

say "done in $(($(date +%s) - started)) s:"
for f in "$NAME.img.xz" "$NAME.img.xz.sha256" "$NAME.manifest.tsv"; do
  echo "  $OUT/$f ($(du -h --apparent-size "$OUT/$f" | cut -f1))"
done
[ "${IMAGE_KEEP_RAW:-0}" = 1 ] && echo "  $OUT/$NAME.img ($(du -h --apparent-size "$OUT/$NAME.img" | cut -f1), raw)"
echo "  raw image: $(((root_start + root_sectors) / 2048)) MiB; write it with: xzcat $NAME.img.xz | dd of=/dev/sdX bs=4M conv=fsync"
