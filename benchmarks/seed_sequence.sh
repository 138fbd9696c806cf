#!/usr/bin/env bash
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# The seed's manual command sequence (/work/shared/seeds/coturn-on-incus.md,
# "Deploy on Incus" and "Smoke test"), scripted as an operator would type it:
# the reference benchmarks/deploy.py times playbooks/site.yml against. Not
# part of the collection.
#
#   1. incus launch (the collection's local image, static address on the
#      bridge) with proxy devices for the listener and the relay range; the
#      seed's user-space proxy on 0.0.0.0 breaks relaying (docs: exposure
#      modes), so its nat equivalent: nat=true on a host address;
#   2. apt-get update, apt-get install -y coturn;
#   3. turnserver.conf rendered with envsubst, pushed;
#   4. a TLS cert+key pushed (self-signed here, made once with openssl);
#   5. systemctl enable + start (a restart when step 3 changed the file:
#      the package starts coturn with its default file);
#   6. the smoke test: turnutils_uclient from a client namespace to a
#      turnutils_peer (SMOKE_NETNS and SMOKE_PEER_NETNS; skipped when empty).
#
# Rerunnable as an operator reruns it: an existing container is not launched
# again and existing devices are not added again; every other step runs.
#
# Everything comes from the environment (defaults below); the TURN password
# too, never the command line:
#   SEED_CONTAINER SEED_IMAGE SEED_BRIDGE SEED_POOL SEED_PRIVATE_IP
#   SEED_PUBLIC_IP SEED_REALM SEED_RELAY_MIN SEED_RELAY_MAX SEED_TLS_DIR
#   WEBRTC_TURN_USERNAME WEBRTC_TURN_CREDENTIAL
#   SMOKE_NETNS SMOKE_PEER_NETNS SMOKE_PEER_IP
set -euo pipefail

C=${SEED_CONTAINER:-bench-seed}
IMAGE=${SEED_IMAGE:-debian-12-coturn}
BRIDGE=${SEED_BRIDGE:-vzbr0}
POOL=${SEED_POOL:-default}
PRIVATE_IP=${SEED_PRIVATE_IP:-10.210.30.52}
PUBLIC_IP=${SEED_PUBLIC_IP:-198.51.100.194}
RELAY_MIN=${SEED_RELAY_MIN:-49160}
RELAY_MAX=${SEED_RELAY_MAX:-49359}
TLS_DIR=${SEED_TLS_DIR:-/tmp/veza-bench-seed-tls}
export WEBRTC_TURN_PUBLIC_IP=$PUBLIC_IP
export WEBRTC_TURN_PRIVATE_IP=$PRIVATE_IP
export WEBRTC_TURN_REALM=${SEED_REALM:-turn.bench.test}
export WEBRTC_TURN_USERNAME=${WEBRTC_TURN_USERNAME:-veza}
export WEBRTC_TURN_CREDENTIAL=${WEBRTC_TURN_CREDENTIAL:?set WEBRTC_TURN_CREDENTIAL}
export WEBRTC_TURN_RELAY_MIN=$RELAY_MIN
export WEBRTC_TURN_RELAY_MAX=$RELAY_MAX

step() { printf '[seed %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

# 1. The container and its exposure.
if incus info "$C" >/dev/null 2>&1; then
    step "1. $C exists: not launched again"
else
    step "1. launch $C from $IMAGE at $PRIVATE_IP"
    # incus launch, split in two: nat proxy devices need the static address
    # on the NIC before the container starts.
    incus init "$IMAGE" "$C" --storage "$POOL" --network "$BRIDGE" >/dev/null
    incus config device set "$C" eth0 ipv4.address="$PRIVATE_IP"
    incus start "$C"
fi
add_proxy() { # name listen connect
    if incus config device get "$C" "$1" type >/dev/null 2>&1; then
        step "1. device $1 exists"
    else
        incus config device add "$C" "$1" proxy nat=true listen="$2" connect="$3" >/dev/null
    fi
}
add_proxy turn-udp "udp:$PUBLIC_IP:3478" "udp:$PRIVATE_IP:3478"
add_proxy turn-tcp "tcp:$PUBLIC_IP:3478" "tcp:$PRIVATE_IP:3478"
add_proxy turn-tls "tcp:$PUBLIC_IP:5349" "tcp:$PRIVATE_IP:5349"
add_proxy turn-relay "udp:$PUBLIC_IP:$RELAY_MIN-$RELAY_MAX" "udp:$PRIVATE_IP:$RELAY_MIN-$RELAY_MAX"

# The container's network must be up before apt (bounded: 60 s).
for _try in $(seq 1 120); do
    if incus exec "$C" -- ip -4 route show default 2>/dev/null | grep -q default; then
        break
    fi
    if [ "$_try" -eq 120 ]; then
        step "1. $C has no default route after 60 s"
        exit 1
    fi
    sleep 0.5
done

# 2. coturn.
step "2. apt-get update; apt-get install -y coturn"
incus exec "$C" -- apt-get update -qq
incus exec "$C" --env DEBIAN_FRONTEND=noninteractive -- apt-get install -y -qq coturn >/dev/null 2>&1

# 3. turnserver.conf, rendered with envsubst and pushed.
step "3. render turnserver.conf with envsubst, push it"
template=$(
    cat <<'CONF'
# turnserver.conf for ${WEBRTC_TURN_REALM} (benchmarks/seed_sequence.sh)
listening-port=3478
tls-listening-port=5349
listening-ip=${WEBRTC_TURN_PRIVATE_IP}
relay-ip=${WEBRTC_TURN_PRIVATE_IP}
external-ip=${WEBRTC_TURN_PUBLIC_IP}/${WEBRTC_TURN_PRIVATE_IP}
min-port=${WEBRTC_TURN_RELAY_MIN}
max-port=${WEBRTC_TURN_RELAY_MAX}
realm=${WEBRTC_TURN_REALM}
fingerprint
lt-cred-mech
user=${WEBRTC_TURN_USERNAME}:${WEBRTC_TURN_CREDENTIAL}
cert=/etc/coturn/cert.pem
pkey=/etc/coturn/key.pem
no-dtls
no-cli
no-multicast-peers
denied-peer-ip=10.0.0.0-10.255.255.255
denied-peer-ip=172.16.0.0-172.31.255.255
denied-peer-ip=192.168.0.0-192.168.255.255
syslog
simple-log
CONF
)
before=$(incus exec "$C" -- sha256sum /etc/turnserver.conf 2>/dev/null | cut -d' ' -f1 || true)
envsubst <<<"$template" | incus file push -q --mode 0640 - "$C/etc/turnserver.conf"
incus exec "$C" -- chgrp turnserver /etc/turnserver.conf
after=$(incus exec "$C" -- sha256sum /etc/turnserver.conf | cut -d' ' -f1)

# 4. TLS cert and key (self-signed, made once).
step "4. push the TLS cert and key"
if [ ! -s "$TLS_DIR/key.pem" ]; then
    (umask 077 && mkdir -p "$TLS_DIR")
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 \
        -subj "/CN=$WEBRTC_TURN_REALM" -keyout "$TLS_DIR/key.pem" -out "$TLS_DIR/cert.pem" 2>/dev/null
fi
incus exec "$C" -- mkdir -p /etc/coturn
incus file push -q --mode 0644 "$TLS_DIR/cert.pem" "$C/etc/coturn/cert.pem"
incus file push -q --mode 0640 "$TLS_DIR/key.pem" "$C/etc/coturn/key.pem"
incus exec "$C" -- chgrp turnserver /etc/coturn/key.pem

# 5. Enable and start.
step "5. systemctl enable coturn; systemctl start coturn"
incus exec "$C" -- systemctl enable -q coturn
if [ "$before" != "$after" ]; then
    incus exec "$C" -- systemctl restart coturn
else
    incus exec "$C" -- systemctl start coturn
fi

# 6. Smoke test from outside the Incus host network.
if [ -n "${SMOKE_NETNS:-}" ] && [ -n "${SMOKE_PEER_NETNS:-}" ]; then
    step "6. smoke test: turnutils_uclient from $SMOKE_NETNS to turnutils_peer in $SMOKE_PEER_NETNS"
    peer_ip=${SMOKE_PEER_IP:?set SMOKE_PEER_IP}
    ip netns exec "$SMOKE_PEER_NETNS" timeout 30 turnutils_peer -L "$peer_ip" -p 3480 >/dev/null 2>&1 &
    peer=$!
    sleep 0.3
    trap 'kill "$peer" 2>/dev/null || true' EXIT
    ok=
    tries=0
    for _try in 1 2 3 4 5; do
        tries=$_try
        out=$(ip netns exec "$SMOKE_NETNS" timeout 20 turnutils_uclient -u "$WEBRTC_TURN_USERNAME" \
            -w "$WEBRTC_TURN_CREDENTIAL" -e "$peer_ip" -r 3480 -n 5 -m 1 -p 3478 "$PUBLIC_IP" 2>&1 || true)
        if grep -q 'Total lost packets 0 (0.000000%)' <<<"$out"; then
            ok=1
            break
        fi
        sleep 1 # coturn may still be starting
    done
    kill "$peer" 2>/dev/null || true
    if [ -z "$ok" ]; then
        step "6. smoke test failed: $(tail -n 3 <<<"$out" | tr '\n' ' ')"
        exit 1
    fi
    step "6. smoke test: 0 packets lost (attempt $tries)"
fi
step "done"
