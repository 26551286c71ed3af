#!/usr/bin/env python3
"""Writes the seed corpus of the Jazzer fuzz targets from the captures in this folder.

Run from this folder: python3 make-fuzz-seeds.py. Each target gets a few inputs cut the way the
target reads them (a whole frame, an IP datagram, a transport segment, an option area; for the
receive path, a fix-up byte then a frame) under ../io/slipstream/<package>/<TestClass>Inputs/<method>/,
the directory Jazzer replays in its regression mode. ARP, a VLAN tag and IPv4 options do not occur in the captures; those seeds are
built here from the captured frames' addresses."""
import os
import struct

from describe import checksum  # the folded one's complement sum, not yet complemented

HERE = os.path.dirname(os.path.abspath(__file__))
WIRE = os.path.join(HERE, "..", "io", "slipstream", "wire", "WireFuzzTestInputs")
RECEIVE = os.path.join(HERE, "..", "io", "slipstream", "stack", "StackReceiveFuzzTestInputs", "receive")
# StackReceiveFuzzTest's fix-up bits: Ethernet destination, IP addresses, IP header, the live
# connection's ports and sequence numbers (or the UDP socket's port), transport checksum.
FIX_ALL = 0x1F
FIX_NO_CONNECTION = 0x17


def frames(name):
    raw = open(os.path.join(HERE, name), "rb").read()
    order = "<" if struct.unpack("<I", raw[:4])[0] in (0xA1B2C3D4, 0xA1B23C4D) else ">"
    pos, out = 24, []
    while pos < len(raw):
        caplen = struct.unpack(order + "IIII", raw[pos:pos + 16])[2]
        out.append(raw[pos + 16:pos + 16 + caplen])
        pos += 16 + caplen
    return out


def ip_of(frame):
    ip = frame[14:]
    return ip[:struct.unpack("!H", ip[2:4])[0]]


def transport_of(frame):
    ip = ip_of(frame)
    return ip[(ip[0] & 0x0F) * 4:]


def write(directory, name, data):
    os.makedirs(directory, exist_ok=True)
    with open(os.path.join(directory, name), "wb") as f:
        f.write(data)


def with_ip_options(frame, options):
    """The frame's IPv4 header grown by an option area, lengths and header checksum made right."""
    ip = bytearray(ip_of(frame))
    ihl = (ip[0] & 0x0F) * 4
    header = bytearray(ip[:ihl] + options)
    header[0] = 0x40 | (len(header) // 4)
    header[2:4] = struct.pack("!H", len(header) + len(ip) - ihl)
    header[10:12] = b"\0\0"
    header[10:12] = struct.pack("!H", ~checksum(bytes(header)) & 0xFFFF)
    return bytes(header) + bytes(ip[ihl:])


def main():
    http = frames("kernel-http-get.pcap")
    udp = frames("kernel-udp-icmp.pcap")
    syn, syn_ack, request, fin = http[0], http[1], http[3], http[35]
    udp_small, frag_first, frag_last, closed_port = udp[0], udp[2], udp[4], udp[8]
    unreachable, echo = udp[9], udp[10]
    src_mac, dst_mac = syn[6:12], syn[0:6]
    arp_request = struct.pack("!HHBBH", 1, 0x0800, 6, 4, 1) + src_mac + bytes([198, 18, 0, 1]) \
        + b"\0" * 6 + bytes([198, 18, 0, 2])
    tagged = syn[:12] + struct.pack("!HH", 0x8100, 7) + syn[12:]

    seeds = {
        "ethernet": {"tcp-syn": syn, "udp-fragment": frag_last, "icmp-echo": echo, "vlan-tagged": tagged,
                     "arp": dst_mac + src_mac + b"\x08\x06" + arp_request},
        "arp": {"request": arp_request, "reply": arp_request[:7] + b"\x02" + arp_request[8:]},
        "ipv4": {"tcp-syn": ip_of(syn), "tcp-data": ip_of(request), "udp": ip_of(udp_small),
                 "udp-first-fragment": ip_of(frag_first), "udp-last-fragment": ip_of(frag_last),
                 "icmp-unreachable": ip_of(unreachable),
                 "udp-with-options": with_ip_options(udp_small, b"\x01\x01\x01\x00")},
        "icmp": {"echo": transport_of(echo), "port-unreachable": transport_of(unreachable)},
        # The udp target checks against a zero pseudo-header, so the seeds carry "no checksum".
        "udp": {name: transport_of(f)[:6] + b"\0\0" + transport_of(f)[8:]
                for name, f in (("request", udp_small), ("to-closed-port", closed_port))},
        "tcp": {"syn": transport_of(syn), "syn-ack": transport_of(syn_ack), "data": transport_of(request),
                "fin": transport_of(fin)},
        "tcpOptions": {name: transport_of(f)[20:(transport_of(f)[12] >> 4) * 4]
                       for name, f in (("syn", syn), ("syn-ack", syn_ack), ("timestamps", request))},
    }
    rst = bytearray(fin)
    rst[14 + 20 + 13] = 0x14  # RST|ACK: with the live connection's numbers, a reset at RCV.NXT
    receive = {
        "syn-in-window": (FIX_ALL, syn), "data": (FIX_ALL, request), "fin": (FIX_ALL, fin),
        "rst": (FIX_ALL, bytes(rst)), "syn-to-closed-port": (FIX_NO_CONNECTION, syn),
        "udp": (FIX_ALL, udp_small), "fragment": (FIX_NO_CONNECTION, frag_last),
        "icmp-echo": (FIX_ALL, echo), "icmp-port-unreachable": (FIX_ALL, unreachable),
        "arp": (FIX_ALL, dst_mac + src_mac + b"\x08\x06" + arp_request), "not-for-us": (0, syn),
    }
    for name, (mask, frame) in receive.items():
        write(RECEIVE, name, bytes([mask]) + frame)
    for method, inputs in seeds.items():
        for name, data in inputs.items():
            write(os.path.join(WIRE, method), name, data)


if __name__ == "__main__":
    main()
