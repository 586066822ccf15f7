#!/usr/bin/env bash
# Run first by `npm test`: makes sure the programs the tests run as real peers are installed, then fetches the
# test broker's Kafka jars. Missing programs are installed from their Debian packages when running as root with
# apt-get (a fresh CI machine); otherwise, or with EASTWATCH_NO_INSTALL=1, the script names what is missing and
# the command that installs it, and fails. Silent when everything is there.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

# program:Debian package. java, mvn: the Kafka broker and its jars; tshark: the reference decoder; softflowd: an
# IPFIX / NetFlow v9 exporter; squid: the egress proxy; openssl: the Hubble Relay test's TLS certificates;
# promtool, prometheus, prometheus-alertmanager (Debian's name for alertmanager), chromium: alert rule and
# dashboard tests.
peers=(
  java:openjdk-17-jre-headless mvn:maven tshark:tshark softflowd:softflowd squid:squid openssl:openssl
  promtool:prometheus prometheus:prometheus prometheus-alertmanager:prometheus-alertmanager chromium:chromium
)

# softflowd and squid go to /usr/sbin, which is not on a Debian user's PATH, and the tests find programs on PATH.
# Lists are space-separated words (no names have spaces), which also keeps macOS's bash 3.2 happy under set -u.
check() {
  missing='' off_path='' packages=''
  for peer in "${peers[@]}"; do
    prog="${peer%%:*}" package="${peer#*:}"
    if command -v "$prog" >/dev/null 2>&1; then continue; fi
    if [ -x "/usr/sbin/$prog" ]; then off_path="$off_path $prog"; continue; fi
    missing="$missing $peer"
    case "$packages " in *" $package "*) ;; *) packages="$packages $package" ;; esac
  done
}

check
if [ -n "$missing" ] && [ "$EUID" = 0 ] && [ -z "${EASTWATCH_NO_INSTALL:-}" ] && command -v apt-get >/dev/null 2>&1; then
  echo "test-prerequisites.sh: installing$packages" >&2
  apt-get update -q
  # shellcheck disable=SC2086 # one word a package
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q $packages
  check
fi
if [ -n "$missing$off_path" ]; then
  {
    echo "test-prerequisites.sh: the tests need programs that are missing:"
    for peer in $missing; do printf '  %-24s (Debian package %s)\n' "${peer%%:*}" "${peer#*:}"; done
    for prog in $off_path; do printf '  %-24s (in /usr/sbin, not on PATH)\n' "$prog"; done
    if [ -n "$missing" ]; then echo "install them with: $([ "$EUID" = 0 ] || echo 'sudo ')apt-get install -y$packages"; fi
    if [ -n "$off_path" ]; then echo "put /usr/sbin on PATH: export PATH=\"\$PATH:/usr/sbin\""; fi
  } >&2
  exit 1
fi

# The jars into the test broker's home (test/setup/broker.ts); ~/.m2 caches them between clones.
EASTWATCH_HOME="$PWD/.eastwatch-test" bash scripts/kafka.sh fetch
