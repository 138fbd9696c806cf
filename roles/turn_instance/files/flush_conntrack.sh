#!/bin/sh
# flush_conntrack.sh ADDRESS RANGE...
# Delete the host's UDP conntrack entries whose original destination is
# ADDRESS and whose destination port lies in one of the RANGEs (N or N-M):
# after an exposure change they would keep steering a client's packets down
# the old path (DNAT to the container, or local delivery to a proxy that is
# gone) until they time out, up to 120 s. Prints one line per entry deleted.
set -eu
addr=$1
shift
conntrack -L -p udp --orig-dst "$addr" 2>/dev/null | awk -v ranges="$*" '
  BEGIN { n = split(ranges, r, " ") }
  {
    src = ""; sport = ""; dport = ""
    for (i = 1; i <= NF; i++) {
      if (src == "" && $i ~ /^src=/) src = substr($i, 5)
      else if (sport == "" && $i ~ /^sport=/) sport = substr($i, 7)
      else if (dport == "" && $i ~ /^dport=/) dport = substr($i, 7)
    }
    for (j = 1; j <= n; j++) {
      m = split(r[j], b, "-")
      lo = b[1] + 0; hi = (m > 1 ? b[2] + 0 : lo)
      if (dport + 0 >= lo && dport + 0 <= hi) { print src, sport, dport; break }
    }
  }' | while read -r src sport dport; do
    if conntrack -D -p udp -s "$src" -d "$addr" --sport "$sport" --dport "$dport" >/dev/null 2>&1; then
      echo "$src:$sport -> $addr:$dport"
    fi
  done
