#!/usr/bin/env bash
# Records the kernel captures in this folder: two network namespaces joined by a veth pair
# (198.18.0.1 and 198.18.0.2), traffic between Linux's own stacks, captured with tcpdump on
# the server's side. Needs root, iproute2, tcpdump, ethtool, curl and python3. Nothing leaves
# the two namespaces, which are removed at the end. Usage: record-kernel-captures.sh [DIR]
set -euo pipefail
out=$(cd "${1:-$(dirname "${BASH_SOURCE[0]}")}" && pwd)
tag=$$
a=ssrec-a-$tag b=ssrec-b-$tag
work=$(mktemp -d)

cleanup() {
    ip netns pids "$a" 2>/dev/null | xargs -r kill 2>/dev/null || true
    ip netns pids "$b" 2>/dev/null | xargs -r kill 2>/dev/null || true
    ip netns delete "$a" 2>/dev/null || true
    ip netns delete "$b" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

ip netns add "$a"
ip netns add "$b"
ip link add veth-a netns "$a" type veth peer name veth-b netns "$b"
for ns in "$a" "$b"; do
    # No IPv6: its neighbour discovery would add frames that vary from run to run.
    ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
    ip netns exec "$ns" ip link set lo up
done
ip netns exec "$a" ip addr add 198.18.0.1/24 dev veth-a
ip netns exec "$b" ip addr add 198.18.0.2/24 dev veth-b
# Checksums computed in software, so the captures hold the checksums that went on the wire.
ip netns exec "$a" ethtool -K veth-a tx off rx off >/dev/null
ip netns exec "$b" ethtool -K veth-b tx off rx off >/dev/null
ip netns exec "$a" ip link set veth-a up
ip netns exec "$b" ip link set veth-b up
sleep 1

# capture NAME: starts tcpdump on the server's side; stop_capture ends it.
capture() {
    ip netns exec "$b" tcpdump -i veth-b -s 0 -U -w "$out/$1" >/dev/null 2>"$work/tcpdump.err" &
    capture_pid=$!
    for _ in $(seq 50); do
        grep -q listening "$work/tcpdump.err" 2>/dev/null && return
        sleep 0.1
    done
    echo "tcpdump did not start: $(cat "$work/tcpdump.err")" >&2
    exit 1
}
stop_capture() {
    sleep 1
    kill -INT "$capture_pid"
    wait "$capture_pid" || true
}

# 1. HTTP/1.1 GET of a 20,000-byte file: handshake with MSS, SACK, timestamps and window
#    scaling, data both ways, FIN from each side.
mkdir -p "$work/www"
head -c 20000 /dev/zero | tr '\0' 'x' > "$work/www/file.txt"
ip netns exec "$b" python3 -m http.server 8080 --bind 198.18.0.2 --directory "$work/www" >/dev/null 2>&1 &
# The server is up and ARP resolved before the capture starts.
for _ in $(seq 50); do
    ip netns exec "$a" curl -s -o /dev/null http://198.18.0.2:8080/file.txt && break
    sleep 0.2
done
capture kernel-http-get.pcap
ip netns exec "$a" curl -s -o /dev/null http://198.18.0.2:8080/file.txt
stop_capture

# 2. UDP and ICMP: an echoed small datagram and a 4,000-byte one (fragmented both ways), a
#    datagram to a closed port (ICMP port unreachable), an ICMP echo and a fragmented one.
cat > "$work/udp_echo.py" <<'PY'
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("198.18.0.2", 9000))
for _ in range(2):
    data, peer = s.recvfrom(65535)
    s.sendto(data, peer)
PY
cat > "$work/udp_client.py" <<'PY'
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(2)
for size in (100, 4000):
    s.sendto(bytes(i % 251 for i in range(size)), ("198.18.0.2", 9000))
    assert len(s.recvfrom(65535)[0]) == size
s.sendto(b"nobody here", ("198.18.0.2", 9001))
PY
ip netns exec "$b" python3 "$work/udp_echo.py" &
sleep 1
capture kernel-udp-icmp.pcap
ip netns exec "$a" python3 "$work/udp_client.py"
ip netns exec "$a" ping -c 1 -W 1 198.18.0.2 >/dev/null
ip netns exec "$a" ping -c 1 -W 1 -s 3000 198.18.0.2 >/dev/null
stop_capture
echo "recorded kernel-http-get.pcap and kernel-udp-icmp.pcap in $out"
