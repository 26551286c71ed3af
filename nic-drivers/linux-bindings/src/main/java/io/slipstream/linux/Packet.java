package io.slipstream.linux;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

import java.lang.foreign.MemorySegment;
import java.lang.invoke.VarHandle;

/**
 * AF_PACKET sockets with PACKET_MMAP rings ({@code include/uapi/linux/if_packet.h}) and the
 * classic BPF socket filters they carry ({@code include/uapi/linux/filter.h}): the constants
 * and struct layouts of the UAPI, read from the headers, and writers for the structs the setup
 * calls take. The calls themselves are {@link Sockets}' (socket, bind, setsockopt,
 * getsockopt) and {@link Mmap}'s.
 */
public final class Packet {
    public static final int AF_PACKET = 17;
    public static final int SOCK_RAW = 3;
    /** Every protocol (linux/if_ether.h); in network byte order where the kernel takes a __be16. */
    public static final int ETH_P_ALL = 0x0003;
    public static final int SOL_PACKET = 263;

    // Socket options (level SOL_PACKET).
    public static final int PACKET_ADD_MEMBERSHIP = 1;
    public static final int PACKET_DROP_MEMBERSHIP = 2;
    public static final int PACKET_RX_RING = 5;
    public static final int PACKET_STATISTICS = 6;
    public static final int PACKET_VERSION = 10;
    public static final int PACKET_QDISC_BYPASS = 20;
    public static final int PACKET_IGNORE_OUTGOING = 23;

    /** enum tpacket_versions. */
    public static final int TPACKET_V3 = 2;

    /** packet_mreq.mr_type: add a unicast address to the device's filter (dev_uc_add). */
    public static final short PACKET_MR_UNICAST = 3;
    /** sockaddr_ll.sll_pkttype and SKF_AD_PKTTYPE of a frame the host itself sends. */
    public static final int PACKET_OUTGOING = 4;

    // tp_status bits of a received block or frame.
    public static final int TP_STATUS_KERNEL = 0;
    public static final int TP_STATUS_USER = 1;
    /** Frames were dropped (ring full) since the statistics were last read. */
    public static final int TP_STATUS_LOSING = 1 << 2;

    /** SO_ATTACH_FILTER (asm-generic/socket.h), level SOL_SOCKET: struct sock_fprog. */
    public static final int SO_ATTACH_FILTER = 26;

    // Classic BPF (linux/bpf_common.h): instruction classes, sizes, modes, jumps.
    public static final int BPF_LD = 0x00;
    public static final int BPF_JMP = 0x05;
    public static final int BPF_RET = 0x06;
    public static final int BPF_W = 0x00;
    public static final int BPF_H = 0x08;
    public static final int BPF_ABS = 0x20;
    public static final int BPF_JEQ = 0x10;
    public static final int BPF_K = 0x00;
    /** Ancillary data loads: SKF_AD_OFF + SKF_AD_PKTTYPE reads the frame's packet type. */
    public static final int SKF_AD_OFF = -0x1000;
    public static final int SKF_AD_PKTTYPE = 4;

    /** struct sockaddr_ll: u16 family; be16 protocol; s32 ifindex; u16 hatype; u8 pkttype; u8 halen; u8 addr[8]. */
    public static final int SOCKADDR_LL_SIZE = 20;
    /** struct tpacket_req3: seven u32 (block size, block count, frame size, frame count, retire timeout, priv size, features). */
    public static final int REQ3_SIZE = 28;
    /** struct packet_mreq: s32 ifindex; u16 type; u16 alen; u8 address[8]. */
    public static final int MREQ_SIZE = 16;
    /** struct tpacket_stats_v3: u32 packets; u32 drops; u32 freeze_q_cnt. */
    public static final int STATS_V3_SIZE = 12;
    /** struct sock_filter: u16 code; u8 jt; u8 jf; u32 k. */
    public static final int SOCK_FILTER_SIZE = 8;
    /** struct sock_fprog: u16 len; (padding); struct sock_filter *filter. */
    public static final int SOCK_FPROG_SIZE = 16;

    // struct tpacket_block_desc: u32 version; u32 offset_to_priv; struct tpacket_hdr_v1 bh1 at 8.
    public static final long BLOCK_STATUS = 8;
    public static final long BLOCK_NUM_PKTS = 12;
    public static final long BLOCK_OFFSET_TO_FIRST_PKT = 16;
    /** Bytes of struct tpacket_block_desc the kernel keeps in front of a block's first frame, at least. */
    public static final int BLOCK_DESC_SIZE = 48;

    // struct tpacket3_hdr.
    public static final long HDR3_NEXT_OFFSET = 0;
    public static final long HDR3_SNAPLEN = 12;
    public static final long HDR3_LEN = 16;
    public static final long HDR3_STATUS = 20;
    public static final long HDR3_MAC = 24;
    /** TPACKET_ALIGN(sizeof(struct tpacket3_hdr)) + sizeof(struct sockaddr_ll): the least room a V3 frame takes. */
    public static final int TPACKET3_HDRLEN = 48 + SOCKADDR_LL_SIZE;
    public static final int TPACKET_ALIGNMENT = 16;

    private Packet() {}

    /** {@code value} as a __be16 the kernel takes in an int argument (socket(2)'s protocol). */
    public static int htons(int value) {
        return Short.toUnsignedInt(Short.reverseBytes((short) value));
    }

    /** Writes a sockaddr_ll naming {@code ifindex} for every protocol, as bind(2) takes it. */
    public static void sockaddrLl(MemorySegment out, int ifindex) {
        out.asSlice(0, SOCKADDR_LL_SIZE).fill((byte) 0);
        out.set(JAVA_SHORT, 0, (short) AF_PACKET);
        out.set(JAVA_SHORT, 2, (short) htons(ETH_P_ALL));
        out.set(JAVA_INT, 4, ifindex);
    }

    /** Writes a tpacket_req3 for a TPACKET_V3 receive ring. */
    public static void req3(MemorySegment out, int blockBytes, int blocks, int frameBytes, int retireTimeoutMillis) {
        out.set(JAVA_INT, 0, blockBytes);
        out.set(JAVA_INT, 4, blocks);
        out.set(JAVA_INT, 8, frameBytes);
        out.set(JAVA_INT, 12, blockBytes / frameBytes * blocks);
        out.set(JAVA_INT, 16, retireTimeoutMillis);
        out.set(JAVA_INT, 20, 0);
        out.set(JAVA_INT, 24, 0);
    }

    /** Writes a packet_mreq adding the 48-bit unicast {@code mac} to {@code ifindex}'s filter. */
    public static void unicastMembership(MemorySegment out, int ifindex, long mac) {
        out.asSlice(0, MREQ_SIZE).fill((byte) 0);
        out.set(JAVA_INT, 0, ifindex);
        out.set(JAVA_SHORT, 4, PACKET_MR_UNICAST);
        out.set(JAVA_SHORT, 6, (short) 6);
        for (int i = 0; i < 6; i++) {
            out.set(JAVA_BYTE, 8 + i, (byte) (mac >>> (40 - 8 * i)));
        }
    }

    /** Writes instruction {@code index} of a classic BPF program. */
    public static void filterInstruction(MemorySegment program, int index, int code, int jt, int jf, int k) {
        long at = (long) index * SOCK_FILTER_SIZE;
        program.set(JAVA_SHORT, at, (short) code);
        program.set(JAVA_BYTE, at + 2, (byte) jt);
        program.set(JAVA_BYTE, at + 3, (byte) jf);
        program.set(JAVA_INT, at + 4, k);
    }

    /** Writes a sock_fprog for the {@code instructions} of {@code program}. */
    public static void fprog(MemorySegment out, MemorySegment program, int instructions) {
        out.asSlice(0, SOCK_FPROG_SIZE).fill((byte) 0);
        out.set(JAVA_SHORT, 0, (short) instructions);
        out.set(ADDRESS, 8, program);
    }

    /** A block's status, read with acquire semantics: the kernel's writes to the block are visible after it. */
    public static int blockStatus(MemorySegment ring, long block) {
        int status = ring.get(JAVA_INT, block + BLOCK_STATUS);
        VarHandle.acquireFence();
        return status;
    }

    /** Hands a block back to the kernel, with release semantics: our reads of it are done before. */
    public static void releaseBlock(MemorySegment ring, long block) {
        VarHandle.releaseFence();
        ring.set(JAVA_INT, block + BLOCK_STATUS, TP_STATUS_KERNEL);
    }
}
