#!/usr/bin/env bash
# Records the replay corpus in this folder: conversations between two Linux kernel stacks in
# network namespaces (client 198.19.40.1, server 198.19.40.2, port 8000), driven by actor.py
# and captured with tcpdump. Most conversations run over one veth pair and are captured at the
# server (the same frames the client sees); the loss, reordering, simultaneous-close and
# TIME-WAIT ones pass a relay namespace (relay.py forwards frames and drops or holds back the one
# its rule names) and are captured at both ends, NAME.client.pcap and NAME.server.pcap, each one
# valid for replaying that side.
# Needs root, iproute2, tcpdump, ethtool, python3 (and curl for http-get). Nothing leaves the
# namespaces, which are removed at the end. Usage: record-conversations.sh [DIR] [NAME...]
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
out=$(cd "${1:-$here}" && pwd)
shift || true
only=" $* "
tag=$$
a=ssrep-a-$tag b=ssrep-b-$tag r=ssrep-r-$tag
work=$(mktemp -d)
client=198.19.40.1 server=198.19.40.2 port=8000
export ACTOR_READY=$work/ready

cleanup() {
    for ns in "$a" "$b" "$r"; do
        ip netns pids "$ns" 2>/dev/null | xargs -r kill 2>/dev/null || true
        ip netns delete "$ns" 2>/dev/null || true
    done
    rm -rf "$work"
}
trap cleanup EXIT

# One interface's settings: no IPv6 (its neighbour discovery varies run to run), checksums in
# software (the captures hold what went on the wire) and no segmentation or receive offloads
# (the captures show segments as the wire carries them, not 64 KB super-packets).
quiet_link() {
    ip netns exec "$1" ethtool -K "$2" tx off rx off tso off gso off gro off >/dev/null 2>&1 || true
    ip netns exec "$1" ip link set "$2" up
}

ip netns add "$a"
ip netns add "$b"
ip netns add "$r"
for ns in "$a" "$b" "$r"; do
    ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
    ip netns exec "$ns" ip link set lo up
done

# direct: a <-> b over one veth pair. relayed: a <-> r <-> b over two, r forwarding frames.
wire() {
    ip netns exec "$a" ip link del veth-a 2>/dev/null || true
    ip netns exec "$b" ip link del veth-b 2>/dev/null || true
    if [ "$1" = direct ]; then
        ip link add veth-a netns "$a" type veth peer name veth-b netns "$b"
    else
        ip link add veth-a netns "$a" type veth peer name veth-ra netns "$r"
        ip link add veth-b netns "$b" type veth peer name veth-rb netns "$r"
        quiet_link "$r" veth-ra
        quiet_link "$r" veth-rb
    fi
    ip netns exec "$a" ip addr add $client/24 dev veth-a
    ip netns exec "$b" ip addr add $server/24 dev veth-b
    quiet_link "$a" veth-a
    quiet_link "$b" veth-b
}

start_tcpdump() { # NS IF FILE
    ip netns exec "$1" tcpdump -i "$2" -s 0 -U -w "$3" >/dev/null 2>"$3.err" &
    local pid=$!
    for _ in $(seq 50); do
        grep -q listening "$3.err" 2>/dev/null && break
        sleep 0.1
    done
    rm -f "$3.err"
    echo $pid
}

# tcpdump runs in a subshell's background: not our child to wait for, so watch it end.
stop_tcpdump() {
    kill -INT "$1"
    for _ in $(seq 100); do kill -0 "$1" 2>/dev/null || return 0; sleep 0.05; done
}

# conv NAME SERVER_STEPS CLIENT_STEPS [RELAY_RULE] [CLIENT_SYSCTL...]
# KIND defaults to tcp; set KIND=udp before the call for a UDP conversation.
conv() {
    local name=$1 server_steps=$2 client_steps=$3 rule=${4:-} kind=${KIND:-tcp}
    shift 4 || shift $#
    if [ "$only" != "  " ] && [[ "$only" != *" $name "* ]]; then return; fi
    if [ -n "$rule" ]; then wire relayed; else wire direct; fi
    for s in "$@"; do ip netns exec "$a" sysctl -qw "$s"; done
    local relay=
    if [ -n "$rule" ]; then
        ip netns exec "$r" python3 "$here/relay.py" veth-ra veth-rb "$rule" &
        relay=$!
        sleep 0.5
    fi
    # ARP resolved before the capture starts.
    for _ in $(seq 10); do ip netns exec "$a" ping -c 1 -W 1 $server >/dev/null && break; done
    local caps=()
    if [ -n "$rule" ]; then
        caps+=("$(start_tcpdump "$a" veth-a "$out/$name.client.pcap")")
        caps+=("$(start_tcpdump "$b" veth-b "$out/$name.server.pcap")")
    else
        caps+=("$(start_tcpdump "$b" veth-b "$out/$name.pcap")")
    fi
    rm -f "$ACTOR_READY" "$work/sync"
    local srv=
    if [ "$server_steps" != none ]; then
        ip netns exec "$b" python3 "$here/actor.py" "$kind-server" $server $port $server_steps &
        srv=$!
        for _ in $(seq 100); do [ -e "$ACTOR_READY" ] && break; sleep 0.05; done
    fi
    timeout 30 ip netns exec "$a" python3 "$here/actor.py" "$kind-client" $server $port $client_steps
    [ -n "$srv" ] && wait "$srv"
    sleep 1
    for p in "${caps[@]}"; do stop_tcpdump "$p"; done
    [ -n "$relay" ] && { kill "$relay"; wait "$relay" || true; }
    for s in "$@"; do ip netns exec "$a" sysctl -qw "${s%%=*}=$(ip netns exec "$b" sysctl -n "${s%%=*}")"; done
    echo "recorded $name"
}

S=$work/sync
# --- request/response and bulk

if [ "$only" = "  " ] || [[ "$only" == *" http-get "* ]]; then
    wire direct
    mkdir -p "$work/www"
    head -c 20000 /dev/zero | tr '\0' 'x' > "$work/www/file.txt"
    ip netns exec "$b" python3 -m http.server $port --bind $server --directory "$work/www" >/dev/null 2>&1 &
    web=$!
    for _ in $(seq 50); do ip netns exec "$a" curl -s -o /dev/null http://$server:$port/file.txt && break; sleep 0.2; done
    cap=$(start_tcpdump "$b" veth-b "$out/http-get.pcap")
    ip netns exec "$a" curl -s -o /dev/null http://$server:$port/file.txt
    sleep 1
    stop_tcpdump "$cap"
    kill "$web"; wait "$web" || true
    echo "recorded http-get"
fi
conv request-response "listen recv=300 send=20000 close" "connect send=300 recveof close" ""
conv interactive-exchanges "nodelay listen recv=100 send=300 recv=100 send=300 recv=100 send=300 recv=100 send=300 recv=100 send=300 recveof close" \
    "nodelay connect send=100 recv=300 send=100 recv=300 send=100 recv=300 send=100 recv=300 send=100 recv=300 close" ""
conv server-speaks-first "listen send=50 recv=20 send=30 close" "connect recv=50 send=20 recveof close" ""
conv delayed-response "listen recv=1000 sleep=0.3 send=1000 close" "connect send=1000 recveof close" ""
conv large-request-response "listen recv=30000 send=30000 close" "connect send=30000 recveof close" ""
conv bulk-upload "listen recveof close" "connect send=131072 close" ""
conv bulk-download "listen send=131072 close" "connect recveof close" ""
conv bulk-both-ways "listen send=65536 recv=65536 close" "connect send=65536 recv=65536 close" ""
conv nagle-small-writes "listen recv=200 send=10 close" "connect send=20 send=20 send=20 send=20 send=20 send=20 send=20 send=20 send=20 send=20 recveof close" ""
conv nodelay-small-writes "listen recv=100 send=10 close" "nodelay connect send=20 sleep=0.01 send=20 sleep=0.01 send=20 sleep=0.01 send=20 sleep=0.01 send=20 recv=10 close" ""
conv small-receive-buffer "listen send=65536 close" "rcvbuf=4096 connect recveof close" ""
# --- opening and closing
conv connect-close "listen recveof close" "connect close" ""
conv half-close-client "listen recveof send=5000 close" "connect send=300 shutwr recveof close" ""
conv half-close-server "listen send=2000 shutwr recveof close" "connect recveof send=3000 close" ""
conv rst-from-client "listen recv=100 recveof close" "connect send=100 sleep=0.2 abort" ""
conv rst-from-server "listen recv=100 abort" "connect send=100 recveof close" ""
conv rst-closed-port none "connect" ""
conv close-unread-data "listen sleep=0.3 close" "connect send=500 sleep=0.6 recveof close" ""
conv simultaneous-close "listen recv=10 sleep=0.3 close" "connect send=10 sleep=0.1 close sleep=1" "hold-fin=1"
conv time-wait-refin "listen recveof sleep=0.05 close" "connect send=100 close sleep=1.5" "drop-fin-ack=1"
# --- windows, timers, options
conv zero-window-probes "listen sleep=1.5 recveof close" "connect send=163840 close" "" net.ipv4.tcp_early_retrans=0
conv keepalive "listen recveof close" "keepalive=1,1,3 connect sleep=3.5 send=10 close" ""
conv mss-536-client "listen recv=4000 send=4000 close" "mss=536 connect send=4000 recveof close" ""
conv mss-1000-server "mss=1000 listen recv=4000 send=4000 close" "connect send=4000 recveof close" ""
conv window-scaling-off "listen recv=300 send=20000 close" "connect send=300 recveof close" "" net.ipv4.tcp_window_scaling=0
conv timestamps-off "listen recv=300 send=20000 close" "connect send=300 recveof close" "" net.ipv4.tcp_timestamps=0
conv sack-off "listen recv=300 send=20000 close" "connect send=300 recveof close" "" net.ipv4.tcp_sack=0
conv options-off "listen recv=300 send=20000 close" "connect send=300 recveof close" "" \
    net.ipv4.tcp_window_scaling=0 net.ipv4.tcp_timestamps=0 net.ipv4.tcp_sack=0
# --- loss and reordering, through the relay
conv loss-sack-recovery "listen recveof close" "connect send=30000 close" "drop-data=3"
conv reordering "listen recveof close" "connect send=30000 close" "hold-data=3"
# --- UDP
KIND=udp conv udp-request-response "listen recv=200 send=1000" "send=200 recv=1000" ""
KIND=udp conv udp-fragmented "listen recv=4000 send=4000" "send=4000 recv=4000" ""
KIND=udp conv udp-several "listen recv=10 recv=20 recv=30 send=40 send=50" "send=10 send=20 send=30 recv=40 recv=50" ""
echo "recorded in $out"
