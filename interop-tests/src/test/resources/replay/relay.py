#!/usr/bin/env python3
"""An Ethernet relay between two interfaces (AF_PACKET), run by record-conversations.sh in a
namespace between the client's and the server's: it forwards every frame unchanged except the
one its rule names, to record loss and reordering without netem (which this kernel lacks).

Usage: relay.py IF_CLIENT IF_SERVER RULE, RULE one of
  drop-data=N        drop the Nth client-to-server TCP segment with payload (once)
  hold-data=N        hold the Nth client-to-server segment with payload back until the next one passed
  drop-fin-ack=1     drop the client's first pure ACK of the server's FIN
  hold-fin=1         hold the client's FIN back until the server's FIN passed (a simultaneous close)
It stops after 30 s or when killed.
"""
import select, socket, struct, sys, time

ETH_P_ALL = 3
PACKET_OUTGOING = 4


def tcp_fields(frame):
    """(flags, seq, ack, payload length) of a TCP/IPv4 frame, or None."""
    if len(frame) < 34 or frame[12:14] != b"\x08\x00" or frame[23] != 6:
        return None
    ihl = (frame[14] & 0x0F) * 4
    total = struct.unpack("!H", frame[16:18])[0]
    t = 14 + ihl
    seq, ack = struct.unpack("!II", frame[t + 4:t + 12])
    doff = (frame[t + 12] >> 4) * 4
    return frame[t + 13], seq, ack, total - ihl - doff


def main():
    client_if, server_if, rule = sys.argv[1], sys.argv[2], sys.argv[3]
    kind, _, n = rule.partition("=")
    n = int(n)
    socks = {}
    for name in (client_if, server_if):
        s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
        s.bind((name, 0))
        socks[name] = s
    other = {client_if: socks[server_if], server_if: socks[client_if]}
    data_seen, held, server_fin, done = 0, None, None, False
    deadline = time.time() + 30
    while time.time() < deadline:
        ready, _, _ = select.select(list(socks.values()), [], [], 0.5)
        for s in ready:
            try:
                frame, addr = s.recvfrom(65535)
            except OSError:
                continue  # ENETDOWN left over from the link coming up
            if addr[2] == PACKET_OUTGOING:
                continue
            inbound = addr[0]
            f = tcp_fields(frame)
            if inbound == server_if and f and f[0] & 0x01:
                server_fin = f[1] + f[3] + 1
            if inbound == client_if and f and not done:
                flags, seq, ack, length = f
                if length > 0:
                    data_seen += 1
                    if data_seen == n and kind == "drop-data":
                        done = True
                        continue
                    if data_seen == n and kind == "hold-data":
                        held = frame
                        continue
                elif kind == "hold-fin" and flags & 0x01:
                    held = frame
                    continue
                elif kind == "drop-fin-ack" and server_fin is not None and ack == server_fin and not flags & 0x01:
                    done = True
                    continue
            other[inbound].send(frame)
            if held is not None and kind == "hold-fin" and inbound == server_if and f and f[0] & 0x01:
                other[client_if].send(held)
                held, done = None, True
            if held is not None and kind == "hold-data" and inbound == client_if and frame is not held:
                other[inbound].send(held)
                held, done = None, True


main()
