#!/usr/bin/env bash
# mmdebstrap's customize hook for build-image.sh: runs on the build host with the finished arm64
# root file system in $1 (commands inside it run under qemu-user-static).
#   $1 root file system   $2 the unpacked gateway release   $3 where to write the package manifest
# It installs the release with its own install.sh (as on any Debian box), adds the image's files
# (firmware-shims/image/rootfs: first-boot provisioning, root growing, network and SSH defaults),
# enables the units, and removes what must differ per card (SSH host keys, machine id).
set -euo pipefail
ROOTFS=$1
RELEASE=$2
MANIFEST=$3
HERE=$(cd "$(dirname "$0")" && pwd)
in_root() { chroot "$ROOTFS" "$@"; }

# 1. The gateway, installed the way install.sh installs it: system user siem-gateway (in dialout),
#    /opt/siem-gateway/releases/<version> + current, /etc/siem-gateway, /var/lib/siem-gateway, the
#    hardened unit. Run inside the root so that useradd and its Node.js version check are real.
rm -rf "$ROOTFS/tmp/siem-release"
cp -a "$RELEASE" "$ROOTFS/tmp/siem-release"
in_root /tmp/siem-release/install.sh --no-start
rm -rf "$ROOTFS/tmp/siem-release"
# No config until the installer gives one (siem-provision); the example stays for reference.
mv "$ROOTFS/etc/siem-gateway/gateway.yaml" "$ROOTFS/etc/siem-gateway/gateway.example.yaml"
chmod 0644 "$ROOTFS/etc/siem-gateway/gateway.example.yaml"

# 2. The image's own files.
cp -a "$HERE/rootfs/." "$ROOTFS/"
chown -R 0:0 "$ROOTFS/usr/local/sbin" "$ROOTFS/etc/systemd/system/siem-"* "$ROOTFS/etc/systemd/network" \
  "$ROOTFS/etc/ssh/sshd_config.d"
chmod 0755 "$ROOTFS/usr/local/sbin/siem-provision" "$ROOTFS/usr/local/sbin/siem-growroot"
cat >"$ROOTFS/etc/fstab" <<'EOF'
# edge-siem image. The boot partition holds the installer's files (token, config): root only.
LABEL=siem-root  /              ext4  defaults,noatime                                          0 1
LABEL=SIEMBOOT   /boot/firmware vfat  defaults,nofail,umask=0077,x-systemd.device-timeout=3min   0 2
EOF
echo siem-gateway >"$ROOTFS/etc/hostname"
printf '127.0.0.1\tlocalhost\n127.0.1.1\tsiem-gateway\n::1\t\tlocalhost ip6-localhost ip6-loopback\n' >"$ROOTFS/etc/hosts"
ln -sfn /run/systemd/resolve/stub-resolv.conf "$ROOTFS/etc/resolv.conf"

# 3. Units: the gateway and the image's first-boot units on; networkd, resolved, timesyncd on;
#    SSH off until siem-provision installs a key.
in_root systemctl enable siem-gateway.service siem-provision.service siem-growroot.service \
  systemd-networkd.service systemd-resolved.service systemd-timesyncd.service
in_root systemctl disable ssh.service >/dev/null 2>&1 || true
in_root systemctl disable ssh.socket >/dev/null 2>&1 || true

# 4. The Pi boot files: the raspi-firmware kernel hook copies the kernel, initrd and DTBs next to
#    the firmware and writes config.txt; cmdline.txt is ours: root by label, no CMA reservation
#    (headless; the Pi 4 may not boot with one), serial console and screen.
in_root env DEB_MAINT_PARAMS=configure /etc/kernel/postinst.d/z50-raspi-firmware
echo "console=ttyS1,115200 console=tty0 root=LABEL=siem-root rw fsck.repair=yes net.ifnames=0 rootwait" \
  >"$ROOTFS/boot/firmware/cmdline.txt"

# 5. What must differ per card, or is build noise.
rm -f "$ROOTFS"/etc/ssh/ssh_host_*
: >"$ROOTFS/etc/machine-id"
rm -f "$ROOTFS/var/lib/dbus/machine-id"
rm -rf "$ROOTFS"/var/cache/apt/*.bin "$ROOTFS"/var/lib/apt/lists/* "$ROOTFS"/tmp/* "$ROOTFS"/var/tmp/*
rm -f "$ROOTFS"/var/log/*.log "$ROOTFS"/var/log/apt/* "$ROOTFS/var/cache/ldconfig/aux-cache"

# 6. The manifest: every package and version, and the gateway release.
{
  printf 'package\tversion\tarchitecture\n'
  in_root dpkg-query -W -f '${Package}\t${Version}\t${Architecture}\n' | sort
  printf 'siem-gateway\t%s\trelease tarball\n' "$(cat "$ROOTFS/opt/siem-gateway/current/VERSION")"
} >"$MANIFEST"
