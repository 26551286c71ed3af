package io.slipstream.driver.packet;

import static io.slipstream.linux.Packet.BPF_ABS;
import static io.slipstream.linux.Packet.BPF_H;
import static io.slipstream.linux.Packet.BPF_JEQ;
import static io.slipstream.linux.Packet.BPF_JMP;
import static io.slipstream.linux.Packet.BPF_K;
import static io.slipstream.linux.Packet.BPF_LD;
import static io.slipstream.linux.Packet.BPF_RET;
import static io.slipstream.linux.Packet.BPF_W;

import io.slipstream.linux.Packet;
import io.slipstream.wire.Ethernet;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * The classic BPF socket filter (SO_ATTACH_FILTER) that decides in the kernel which frames the
 * packet socket copies up, so that the rest of the interface's traffic costs the stack nothing:
 * ARP whose target is the stack's address (requests are broadcast, replies unicast), and IPv4
 * to the stack's address sent to the stack's MAC. Frames the host itself sends on the
 * interface (PACKET_OUTGOING) are never the stack's: the kernel's own ARP for the stack's
 * address goes out on the wire, and is answered from there.
 */
final class PacketFilter {
    /** Offsets in an untagged Ethernet frame: the type, the IPv4 destination, the ARP target address. */
    private static final int ETHER_TYPE_AT = 12;
    private static final int IPV4_DESTINATION_AT = Ethernet.HEADER_LENGTH + 16;
    private static final int ARP_TARGET_IP_AT = Ethernet.HEADER_LENGTH + 24;
    /** What an accepted frame keeps: all of it (the kernel caps it at the ring's largest frame). */
    private static final int ACCEPT_BYTES = 0x40000;
    static final int INSTRUCTIONS = 15;

    private PacketFilter() {}

    /** The program for {@code address} and {@code mac}, in {@code arena}, as a sock_fprog. */
    static MemorySegment program(Arena arena, int address, long mac) {
        MemorySegment code = arena.allocate((long) INSTRUCTIONS * Packet.SOCK_FILTER_SIZE, 8);
        int ld = BPF_LD | BPF_W | BPF_ABS;
        int ldh = BPF_LD | BPF_H | BPF_ABS;
        int jeq = BPF_JMP | BPF_JEQ | BPF_K;
        int ret = BPF_RET | BPF_K;
        // Jump offsets count from the next instruction: 13 is accept, 14 is drop.
        Packet.filterInstruction(code, 0, ld, 0, 0, Packet.SKF_AD_OFF + Packet.SKF_AD_PKTTYPE);
        Packet.filterInstruction(code, 1, jeq, 12, 0, Packet.PACKET_OUTGOING);
        Packet.filterInstruction(code, 2, ldh, 0, 0, ETHER_TYPE_AT);
        Packet.filterInstruction(code, 3, jeq, 7, 0, Ethernet.TYPE_ARP);
        Packet.filterInstruction(code, 4, jeq, 0, 9, Ethernet.TYPE_IPV4);
        Packet.filterInstruction(code, 5, ld, 0, 0, IPV4_DESTINATION_AT);
        Packet.filterInstruction(code, 6, jeq, 0, 7, address);
        Packet.filterInstruction(code, 7, ld, 0, 0, 0); // destination MAC, first four bytes
        Packet.filterInstruction(code, 8, jeq, 0, 5, (int) (mac >>> 16));
        Packet.filterInstruction(code, 9, ldh, 0, 0, 4); // and the last two
        Packet.filterInstruction(code, 10, jeq, 2, 3, (int) (mac & 0xffff));
        Packet.filterInstruction(code, 11, ld, 0, 0, ARP_TARGET_IP_AT);
        Packet.filterInstruction(code, 12, jeq, 0, 1, address);
        Packet.filterInstruction(code, 13, ret, 0, 0, ACCEPT_BYTES);
        Packet.filterInstruction(code, 14, ret, 0, 0, 0);
        MemorySegment fprog = arena.allocate(Packet.SOCK_FPROG_SIZE, 8);
        Packet.fprog(fprog, code, INSTRUCTIONS);
        return fprog;
    }
}
