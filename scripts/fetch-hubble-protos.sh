#!/usr/bin/env bash
# Vendors Cilium's Hubble API protos into ingest/hubble/proto (see its README).
#
#   scripts/fetch-hubble-protos.sh VERSION [ZIP]
#
# VERSION is a Cilium release tag (v1.20.2). The module zip of github.com/cilium/cilium at that version comes
# from the Go module proxy, or from ZIP when one was already fetched. Only flow, observer and relay protos and
# the LICENSE are taken, unmodified; check `git diff` and run the Hubble tests after an update.
set -euo pipefail

version="${1:?usage: $0 VERSION [ZIP]   e.g. $0 v1.20.2}"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
dest="$here/../ingest/hubble/proto"
module="github.com/cilium/cilium@$version"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

zip="${2:-$tmp/cilium.zip}"
if [[ -z "${2:-}" ]]; then
  curl -fsSL --retry 3 -o "$zip" "https://proxy.golang.org/github.com/cilium/cilium/@v/$version.zip"
fi

files=(api/v1/flow/flow.proto api/v1/observer/observer.proto api/v1/relay/relay.proto LICENSE)
unzip -q -o "$zip" "${files[@]/#/$module/}" -d "$tmp/src"
for f in "${files[@]}"; do
  out="$dest/${f#api/v1/}"
  mkdir -p "$(dirname "$out")"
  cp "$tmp/src/$module/$f" "$out"
done
echo "ingest/hubble/proto: Cilium $version protos and LICENSE"
