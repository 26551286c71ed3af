#!/usr/bin/env python3
"""Prints the facts about a capture that the tests check, read independently of the Java
code: record count, byte total, first and last record headers, IPv4 / UDP / ICMP packets
(unfragmented ones only for UDP and ICMP: a fragment is not decoded
further, by our codecs or by Pcap4J) and how many of their checksums do not verify."""
import struct
import sys


def checksum(data):
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return total


def describe(path):
    raw = open(path, "rb").read()
    magic = struct.unpack("<I", raw[:4])[0]
    order = "<" if magic in (0xA1B2C3D4, 0xA1B23C4D) else ">"
    _, _, _, _, _, snap, link = struct.unpack(order + "IHHiIII", raw[:24])
    pos, frames, total = 24, [], 0
    while pos < len(raw):
        sec, frac, caplen, origlen = struct.unpack(order + "IIII", raw[pos:pos + 16])
        frames.append((sec, frac, caplen, origlen, raw[pos + 16:pos + 16 + caplen]))
        total += caplen
        pos += 16 + caplen
    ipv4 = udp = icmp = bad_ip = bad_udp = bad_icmp = fragments = 0
    for _, _, _, _, data in frames:
        if struct.unpack("!H", data[12:14])[0] != 0x0800:
            continue
        ip = data[14:]
        ihl = (ip[0] & 0x0F) * 4
        length = struct.unpack("!H", ip[2:4])[0]
        ipv4 += 1
        bad_ip += checksum(ip[:ihl]) != 0xFFFF
        flags_offset = struct.unpack("!H", ip[6:8])[0]
        if flags_offset & 0x3FFF:
            fragments += 1
        if flags_offset & 0x3FFF:
            continue  # a fragment
        payload = ip[ihl:length]
        if ip[9] == 17:
            udp += 1
            pseudo = ip[12:20] + struct.pack("!BBH", 0, 17, len(payload))
            stored = struct.unpack("!H", payload[6:8])[0]
            bad_udp += stored != 0 and checksum(pseudo + payload) != 0xFFFF
        elif ip[9] == 1:
            icmp += 1
            bad_icmp += checksum(payload) != 0xFFFF
    first, last = frames[0], frames[-1]
    print(path)
    print("  snap %d link %d frames %d bytes %d" % (snap, link, len(frames), total))
    print("  first %d.%06d len %d, last %d.%06d len %d" % (first[0], first[1], first[2], last[0], last[1], last[2]))
    print("  ipv4 %d udp %d icmp %d bad-ip %d bad-udp %d bad-icmp %d fragments %d"
          % (ipv4, udp, icmp, bad_ip, bad_udp, bad_icmp, fragments))


if __name__ == "__main__":
    for p in sys.argv[1:]:
        describe(p)
