#!/usr/bin/env bash
# `npm run test:setup` (and the first half of `npm run test:all`, which CI runs through .ci/run):
# everything the full test suite needs beyond `npm install`, on Debian or Ubuntu. Installs the
# Debian packages of the real peers the tests drive when they are missing (apt-get needs root:
# run as root, or sudo is used), makes sure PostgreSQL (127.0.0.1:5432, trust auth for the
# postgres user) and Mosquitto (127.0.0.1:1883) are up, lets dumpcap capture on lo, and fetches
# the third-party test data (`npm run test:data`) when no ../shared/data or SIEM_SHARED_DATA
# provides it. Safe to run again: it only does what is missing.
set -euo pipefail
cd "$(dirname "$0")/../.."
export DEBIAN_FRONTEND=noninteractive

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  SUDO="sudo"
fi
as_root() {
  if [ -n "$SUDO" ] && ! command -v sudo >/dev/null; then
    echo "» this step needs root: run as root or install sudo: $*" >&2
    exit 1
  fi
  $SUDO "$@"
}

# The one list of Debian packages of the real third-party peers the tests drive.
PACKAGES=(
  bsdutils          # logger (util-linux): real syslog client over UDP and TCP
  util-linux        # taskset: the benchmark smoke test pins processes to cores
  mosquitto-clients # mosquitto_pub/sub
  libcoap3-bin      # coap-client-notls / coap-server-notls (libcoap): real CoAP client and observable device
  postgresql        # the database central's storage tests run against (127.0.0.1:5432); its initdb, pg_basebackup
                    # and pg_ctl make the failover test's own primary + streaming replica (tests/support/pg-cluster.ts)
  postgresql-client # pg_isready, psql
  mbpoll            # Modbus master (TCP and RTU): drives the Modbus proxy and reads the PLC directly
  python3-pymodbus  # pymodbus: a real Modbus/TCP server (the PLC behind the proxy) and RTU server (poller tests)
  python3-serial-asyncio # pyserial and its asyncio layer, which pymodbus's server imports (only Recommended)
  socat             # pseudo-terminal pairs: a serial line between the RTU poller and pymodbus
  tshark            # dumpcap (wireshark-common): the live capture source's packet capture; derives test CSVs
  libcap2-bin       # setcap, to let dumpcap capture on lo without root
  rsyslog           # rsyslogd: a real syslog relay forwarding to the gateway's TLS listener; central's CEF sink receiver
  rsyslog-gnutls    # rsyslog's gtls stream driver (RFC 5425 over GnuTLS)
  rsyslog-relp      # omrelp/imrelp (librelp): a real RELP sender for the gateway's RELP source, and the RELP bench's peer
  openssl           # openssl s_client: a real TLS client for the syslog TLS listener (and its test certificates)
  mosquitto         # the real broker: the MQTT collector's plant broker (and the broker benchmark's peer)
  systemd           # systemd-analyze verify for the gateway's unit
  chromium          # the real browser the dashboard end-to-end tests drive (playwright-core, never a downloaded one)
  fonts-dejavu-core # a font for Chromium's screenshots
  git               # the test that runs part of the suite in a fresh clone
  logrotate         # rotates a log (rename and copytruncate) under the file source while a writer appends
  syslog-ng-core    # syslog-ng: a real shipper for the HTTP ingest endpoint (its http() destination)
  syslog-ng-mod-http # syslog-ng's http() destination module
  python3-evtx      # evtx_dump.py: derives the Windows test XML from the .evtx samples the replay reader is checked against
)
if ! command -v dpkg-query >/dev/null || ! command -v apt-get >/dev/null; then
  echo "» this set-up is for Debian or Ubuntu (apt-get). Elsewhere, install the equivalents of:" >&2
  echo "  ${PACKAGES[*]}" >&2
  echo "  then run npm test: whatever is still missing is skipped and named at the end." >&2
  exit 1
fi
installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }
# rsyslog conflicts with another system log daemon (syslog-ng-core, which other tests drive):
# installing one removes the other. When syslog-ng is there, rsyslog's packages are unpacked
# into /opt/edge-siem-peers/rsyslog instead, one place for every clone on the machine
# (tests/support/rsyslog.ts finds rsyslogd and its modules there).
PEERS_DIR=/opt/edge-siem-peers
SYSLOG_NG_PRESENT=0
if installed syslog-ng-core || [[ " ${PACKAGES[*]} " == *" syslog-ng-core "* ]]; then SYSLOG_NG_PRESENT=1; fi
missing=()
unpack=()
for pkg in "${PACKAGES[@]}"; do
  installed "$pkg" && continue
  if [ "$SYSLOG_NG_PRESENT" = 1 ] && [[ "$pkg" == rsyslog* ]]; then unpack+=("$pkg"); else missing+=("$pkg"); fi
done
fresh_postgres=0
if [ ${#missing[@]} -gt 0 ]; then
  echo "» installing Debian packages: ${missing[*]}"
  for pkg in "${missing[@]}"; do [ "$pkg" = postgresql ] && fresh_postgres=1; done
  # tshark asks whether non-root users may capture; the answer is given below with setcap.
  echo "wireshark-common wireshark-common/install-setuid boolean false" | as_root debconf-set-selections
  as_root apt-get update
  as_root apt-get install -y --no-install-recommends "${missing[@]}"
fi
if [ ${#unpack[@]} -gt 0 ] && [ ! -x "$PEERS_DIR/rsyslog/usr/sbin/rsyslogd" ]; then
  echo "» unpacking ${unpack[*]} into $PEERS_DIR/rsyslog (syslog-ng is installed, and conflicts)"
  # Their shared libraries are ordinary packages that do not conflict.
  as_root apt-get install -y --no-install-recommends libestr0 libfastjson4 liblognorm5 librelp0 libgnutls30
  tmp="$(mktemp -d)"
  (cd "$tmp" && chmod 777 . && apt-get download "${unpack[@]}")
  as_root mkdir -p "$PEERS_DIR/rsyslog"
  for deb in "$tmp"/*.deb; do as_root dpkg -x "$deb" "$PEERS_DIR/rsyslog"; done
  rm -rf "$tmp"
fi
# The tests that run `rsyslogd` from PATH get the unpacked one, with its own module directory
# (the wrapper is rewritten each time, so it never points at a copy that has gone).
wrapper=/usr/local/sbin/rsyslogd
if [ -x "$PEERS_DIR/rsyslog/usr/sbin/rsyslogd" ] && { ! command -v rsyslogd >/dev/null || grep -qs 'install-peers.sh' "$wrapper"; }; then
  peers="$PEERS_DIR/rsyslog"
  moddir="$(dirname "$(ls "$peers"/usr/lib/*/rsyslog/lmnet.so | head -n1)")"
  echo "» /usr/local/sbin/rsyslogd: runs $peers/usr/sbin/rsyslogd -M $moddir"
  printf '#!/bin/sh\n# rsyslogd unpacked by tests/setup/install-peers.sh beside syslog-ng (the packages conflict)\nexec "%s" -M "%s" "$@"\n' \
    "$peers/usr/sbin/rsyslogd" "$moddir" | as_root tee "$wrapper" >/dev/null
  as_root chmod 755 "$wrapper"
fi

# PostgreSQL on 127.0.0.1:5432. Containers have no systemd: start the cluster directly.
if ! pg_isready -q -h 127.0.0.1 -p 5432; then
  version="$(ls /etc/postgresql 2>/dev/null | sort -V | tail -n1)"
  if [ -z "$version" ]; then
    version="$(ls /usr/lib/postgresql | sort -V | tail -n1)"
    echo "» creating PostgreSQL $version cluster main"
    as_root pg_createcluster "$version" main
  fi
  echo "» starting PostgreSQL $version"
  as_root pg_ctlcluster --skip-systemctl-redirect "$version" main start
  for _ in $(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done
fi
pg_isready -h 127.0.0.1 -p 5432
# The tests connect as postgres without a password (trust auth on 127.0.0.1). Configured only on
# a PostgreSQL this script installed; an existing server's authentication is left alone.
if ! psql -h 127.0.0.1 -U postgres -w -Atc 'select 1' >/dev/null 2>&1; then
  version="$(ls /etc/postgresql | sort -V | tail -n1)"
  hba="/etc/postgresql/$version/main/pg_hba.conf"
  if [ "$fresh_postgres" = 1 ]; then
    echo "» PostgreSQL: trust auth for user postgres from 127.0.0.1 ($hba)"
    as_root sed -i '0,/^host/s//host    all             postgres        127.0.0.1\/32            trust\nhost/' "$hba"
    as_root pg_ctlcluster --skip-systemctl-redirect "$version" main reload
  else
    echo "» PostgreSQL on 127.0.0.1:5432 refuses user postgres without a password. The tests need" >&2
    echo "  'host all postgres 127.0.0.1/32 trust' in $hba (then reload), or point" >&2
    echo "  SIEM_TEST_PG_ADMIN_URL at a server and user that can create databases." >&2
    exit 1
  fi
fi

# Mosquitto on 127.0.0.1:1883 (the Debian package's service when systemd runs it; else our own).
if ! (exec 3<>/dev/tcp/127.0.0.1/1883) 2>/dev/null; then
  echo "» starting Mosquitto on 127.0.0.1:1883"
  mkdir -p .data/mosquitto
  printf 'listener 1883 127.0.0.1\nallow_anonymous true\npersistence false\n' >.data/mosquitto/test.conf
  mosquitto -d -c .data/mosquitto/test.conf
  for _ in $(seq 1 30); do (exec 3<>/dev/tcp/127.0.0.1/1883) 2>/dev/null && break; sleep 1; done
fi

# Live capture tests open lo with dumpcap: root can; another user needs CAP_NET_RAW on dumpcap.
if [ "$(id -u)" -ne 0 ] && ! dumpcap -i lo -L >/dev/null 2>&1; then
  echo "» letting dumpcap capture without root (setcap cap_net_raw,cap_net_admin=eip)"
  as_root setcap cap_net_raw,cap_net_admin=eip "$(command -v dumpcap)"
fi

[ -x node_modules/.bin/tsx ] || npm ci --no-audit --no-fund

# Third-party test data: SIEM_SHARED_DATA, else ../shared/data, else fetched into .data/test-data.
if [ -n "${SIEM_SHARED_DATA:-}" ]; then
  echo "» test data: SIEM_SHARED_DATA=$SIEM_SHARED_DATA"
elif [ -d ../shared/data ]; then
  echo "» test data: ../shared/data"
elif ! npm run --silent test:data; then
  # A file that cannot be fetched or verified (offline, or another tshark version deriving a
  # CSV differently) is not accepted: the tests that read it skip and name it; CI fails them.
  echo "» some test data is missing (above): the tests that read it will be skipped" >&2
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "» note: one fault test mounts a small tmpfs and needs root; as another user it is skipped"
fi
echo "» ready for the full suite"
