#!/bin/sh
# Installs (or upgrades) the edge-siem gateway on Debian / Raspberry Pi OS from the unpacked
# release tarball this script sits in:
#   /opt/siem-gateway/releases/<version>/   the release; /opt/siem-gateway/current -> it
#   /opt/siem-gateway/previous              the release before, kept for rollback
#   /etc/siem-gateway/gateway.yaml          the config (created from the example, never overwritten)
#   /var/lib/siem-gateway/                  the queue, the credentials (0600), the first-boot token
#   /etc/systemd/system/siem-gateway.service
#
# Usage: sudo ./install.sh [--token-file FILE] [--root DIR] [--no-start]
#   --token-file FILE  a one-time enrollment token; the gateway enrolls with it on first start,
#                      so one image can be flashed many times with a token per device
#   --root DIR         install into DIR instead of / (image building, tests); the service is not
#                      started unless SIEM_RESTART_CMD says how
#   --no-start         do not enable or (re)start the service
# An upgrade is the same command with a newer release: when the service is running, it is
# restarted on the new release and, if it does not answer /healthz within SIEM_HEALTH_TIMEOUT
# seconds (default 60), the previous release is put back and restarted, and the script fails.
# SIEM_RESTART_CMD and SIEM_HEALTH_URL override how the service is restarted and probed.
set -eu

HERE=$(cd "$(dirname "$0")" && pwd)
VERSION=$(cat "$HERE/VERSION")
ROOT=""
TOKEN_FILE=""
START=1
while [ $# -gt 0 ]; do
  case "$1" in
    --root) ROOT=$(cd "$2" && pwd); [ -n "${SIEM_RESTART_CMD:-}" ] || START=0; shift 2 ;;
    --token-file) TOKEN_FILE=$2; shift 2 ;;
    --no-start) START=0; shift ;;
    -h|--help) sed -n '2,22p' "$0"; exit 0 ;;
    *) echo "install.sh: unknown option $1" >&2; exit 2 ;;
  esac
done

say() { echo "install.sh: $*"; }
fail() { echo "install.sh: $*" >&2; exit 1; }

# Node.js 20 or newer runs the bundle (Debian: apt install nodejs).
if [ -z "$ROOT" ]; then
  command -v node >/dev/null 2>&1 || fail "Node.js >= 20 is required (apt install nodejs)"
  major=$(node -p 'process.versions.node.split(".")[0]')
  [ "$major" -ge 20 ] || fail "Node.js >= 20 is required, found $(node --version)"
  [ "$(id -u)" -eq 0 ] || fail "run as root (it creates a system user and a systemd unit)"
fi

OPT="$ROOT/opt/siem-gateway"
ETC="$ROOT/etc/siem-gateway"
VAR="$ROOT/var/lib/siem-gateway"
UNIT="$ROOT/etc/systemd/system/siem-gateway.service"

# 1. The system user, in the serial port group.
if [ -z "$ROOT" ] && ! id siem-gateway >/dev/null 2>&1; then
  useradd --system --home-dir /var/lib/siem-gateway --no-create-home --shell /usr/sbin/nologin \
    --groups dialout siem-gateway
  say "created system user siem-gateway"
fi

# 2. The release, next to the ones before it.
mkdir -p "$OPT/releases" "$ETC" "$VAR" "$(dirname "$UNIT")"
RELEASE="$OPT/releases/$VERSION"
rm -rf "$RELEASE.new"
mkdir -p "$RELEASE.new"
cp -R "$HERE/siem-gateway.mjs" "$HERE/siem-gateway" "$HERE/node_modules" "$HERE/dashboards" "$HERE/VERSION" "$RELEASE.new/"
rm -rf "$RELEASE"
mv "$RELEASE.new" "$RELEASE"
OLD=""
if [ -L "$OPT/current" ]; then OLD=$(readlink "$OPT/current"); fi
if [ -n "$OLD" ] && [ "$OLD" != "releases/$VERSION" ]; then ln -sfn "$OLD" "$OPT/previous"; fi
ln -sfn "releases/$VERSION" "$OPT/current"
say "release $VERSION installed in $RELEASE"

# 3. Config (never overwritten), first-boot token, unit.
if [ ! -f "$ETC/gateway.yaml" ]; then
  cp "$HERE/gateway.example.yaml" "$ETC/gateway.yaml"
  chmod 0640 "$ETC/gateway.yaml"
  say "wrote $ETC/gateway.yaml from the example: set gateway.id and central.endpoint"
fi
if [ -n "$TOKEN_FILE" ]; then
  umask 077
  cp "$TOKEN_FILE" "$VAR/enrollment-token"
  chmod 0600 "$VAR/enrollment-token"
  say "enrollment token stored; the gateway enrolls on its first start"
fi
cp "$HERE/siem-gateway.service" "$UNIT"
if [ -z "$ROOT" ]; then
  chown -R siem-gateway:siem-gateway "$VAR"
  chown root:siem-gateway "$ETC/gateway.yaml"
fi

[ "$START" -eq 1 ] || { say "not starting the service (--no-start)"; exit 0; }

# 4. Start, or restart on the new release with a health check and rollback.
RESTART=${SIEM_RESTART_CMD:-"systemctl restart siem-gateway"}
HEALTH=${SIEM_HEALTH_URL:-"http://127.0.0.1:9100/healthz"}
TIMEOUT=${SIEM_HEALTH_TIMEOUT:-60}
if [ -z "${SIEM_RESTART_CMD:-}" ] && [ -z "$ROOT" ]; then
  systemctl daemon-reload
  systemctl enable siem-gateway >/dev/null
fi
healthy() {
  i=0
  while [ "$i" -lt "$TIMEOUT" ]; do
    if node -e "fetch(process.argv[1]).then(r=>process.exit(r.ok?0:1),()=>process.exit(1))" "$HEALTH"; then return 0; fi
    sleep 1
    i=$((i + 1))
  done
  return 1
}
sh -c "$RESTART"
if healthy; then
  say "siem-gateway $VERSION is running and healthy"
  exit 0
fi
if [ -L "$OPT/previous" ]; then
  ln -sfn "$(readlink "$OPT/previous")" "$OPT/current"
  sh -c "$RESTART"
  say "release $VERSION did not become healthy within ${TIMEOUT}s; rolled back to $(readlink "$OPT/current")" >&2
  exit 1
fi
fail "siem-gateway $VERSION did not become healthy within ${TIMEOUT}s (no previous release to roll back to)"
