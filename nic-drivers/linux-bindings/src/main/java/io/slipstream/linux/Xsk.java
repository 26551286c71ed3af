package io.slipstream.linux;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;

/**
 * AF_XDP sockets ({@code include/uapi/linux/if_xdp.h}): the socket calls and the constants and
 * struct layouts of the UAPI, read from the header, not from any library.
 *
 * <p>An instance carries its {@link Libc} (errno capture) and small scratch structs, so it
 * belongs to one thread at a time. {@link #kickTx} and {@link #kickRx} allocate nothing.
 */
public final class Xsk {
    public static final int AF_XDP = 44;
    public static final int SOCK_RAW = 3;
    public static final int SOCK_CLOEXEC = 0x80000;
    public static final int SOL_XDP = 283;
    public static final int MSG_DONTWAIT = 0x40;

    // Socket options (level SOL_XDP).
    public static final int XDP_MMAP_OFFSETS = 1;
    public static final int XDP_RX_RING = 2;
    public static final int XDP_TX_RING = 3;
    public static final int XDP_UMEM_REG = 4;
    public static final int XDP_UMEM_FILL_RING = 5;
    public static final int XDP_UMEM_COMPLETION_RING = 6;
    public static final int XDP_STATISTICS = 7;
    public static final int XDP_OPTIONS = 8;

    // sockaddr_xdp.sxdp_flags.
    public static final short XDP_SHARED_UMEM = 1;
    public static final short XDP_COPY = 1 << 1;
    public static final short XDP_ZEROCOPY = 1 << 2;
    public static final short XDP_USE_NEED_WAKEUP = 1 << 3;

    /** xdp_options.flags: the socket is bound in zero-copy mode. */
    public static final int XDP_OPTIONS_ZEROCOPY = 1;
    /** xdp_ring_offset.flags word: the kernel asks to be woken. */
    public static final int XDP_RING_NEED_WAKEUP = 1;

    // mmap(2) page offsets of the rings.
    public static final long XDP_PGOFF_RX_RING = 0;
    public static final long XDP_PGOFF_TX_RING = 0x80000000L;
    public static final long XDP_UMEM_PGOFF_FILL_RING = 0x100000000L;
    public static final long XDP_UMEM_PGOFF_COMPLETION_RING = 0x180000000L;

    /** Headroom the kernel keeps in front of a received frame in a chunk (XDP_PACKET_HEADROOM). */
    public static final int XDP_PACKET_HEADROOM = 256;

    /** struct xdp_desc: u64 addr; u32 len; u32 options. */
    public static final int DESC_SIZE = 16;
    /** struct xdp_umem_reg: u64 addr; u64 len; u32 chunk_size; u32 headroom; u32 flags; u32 tx_metadata_len. */
    public static final int UMEM_REG_SIZE = 32;
    /** struct xdp_mmap_offsets: four xdp_ring_offset {u64 producer, consumer, desc, flags} for rx, tx, fr, cr. */
    public static final int MMAP_OFFSETS_SIZE = 128;
    /** struct xdp_statistics: six u64 counters. */
    public static final int STATISTICS_SIZE = 48;
    /** struct sockaddr_xdp: u16 family; u16 flags; u32 ifindex; u32 queue_id; u32 shared_umem_fd. */
    public static final int SOCKADDR_SIZE = 16;

    /** Index of each ring's offsets in struct xdp_mmap_offsets. */
    public static final int RING_RX = 0;
    public static final int RING_TX = 1;
    public static final int RING_FILL = 2;
    public static final int RING_COMPLETION = 3;

    private static final Linker.Option ERRNO = Linker.Option.captureCallState("errno");
    private static final Linker.Option CRITICAL = Linker.Option.critical(false);
    private static final MethodHandle SOCKET = Libc.bind("socket",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT), ERRNO);
    private static final MethodHandle SETSOCKOPT = Libc.bind("setsockopt",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT), ERRNO);
    private static final MethodHandle GETSOCKOPT = Libc.bind("getsockopt",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS, ADDRESS), ERRNO);
    private static final MethodHandle BIND = Libc.bind("bind",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT), ERRNO);
    private static final FunctionDescriptor SENDTO_SIGNATURE =
            FunctionDescriptor.of(JAVA_LONG, JAVA_INT, JAVA_LONG, JAVA_LONG, JAVA_INT, JAVA_LONG, JAVA_INT);
    /** sendto(fd, NULL, 0, MSG_DONTWAIT, NULL, 0): returns at once, so critical. */
    private static final MethodHandle SENDTO = Libc.bind("sendto", SENDTO_SIGNATURE, ERRNO, CRITICAL);
    /** The same without errno: the kick made per doorbell must not allocate (see {@link Libc}). */
    private static final MethodHandle SENDTO_UNCAPTURED = Libc.bind("sendto", SENDTO_SIGNATURE, CRITICAL);
    /** recvfrom(fd, NULL, 0, MSG_DONTWAIT, NULL, NULL): its outcome is not used, so no errno. */
    private static final MethodHandle RECVFROM = Libc.bind("recvfrom",
            FunctionDescriptor.of(JAVA_LONG, JAVA_INT, JAVA_LONG, JAVA_LONG, JAVA_INT, JAVA_LONG, JAVA_LONG),
            CRITICAL);

    private final Libc libc;
    private final MemorySegment scratch;
    private final MemorySegment optlen;

    public Xsk(Libc libc, Arena arena) {
        this.libc = libc;
        this.scratch = arena.allocate(MMAP_OFFSETS_SIZE, 8);
        this.optlen = arena.allocate(JAVA_INT);
    }

    public Libc libc() {
        return libc;
    }

    /** A new AF_XDP socket, or -1. */
    public int socket() {
        try {
            return (int) SOCKET.invokeExact(libc.callState(), AF_XDP, SOCK_RAW | SOCK_CLOEXEC, 0);
        } catch (Throwable t) {
            throw Libc.linkageFailure("socket", t);
        }
    }

    /** setsockopt(SOL_XDP, {@code option}) with an int value (ring sizes): 0 or -1. */
    public int setInt(int fd, int option, int value) {
        scratch.set(JAVA_INT, 0, value);
        return setsockopt(fd, option, scratch, Integer.BYTES);
    }

    /** XDP_UMEM_REG over {@code region} in {@code chunkSizeBytes} chunks, no headroom: 0 or -1. */
    public int registerUmem(int fd, MemorySegment region, int chunkSizeBytes) {
        scratch.asSlice(0, UMEM_REG_SIZE).fill((byte) 0);
        scratch.set(JAVA_LONG, 0, region.address());
        scratch.set(JAVA_LONG, 8, region.byteSize());
        scratch.set(JAVA_INT, 16, chunkSizeBytes);
        return setsockopt(fd, XDP_UMEM_REG, scratch, UMEM_REG_SIZE);
    }

    private int setsockopt(int fd, int option, MemorySegment value, int length) {
        try {
            return (int) SETSOCKOPT.invokeExact(libc.callState(), fd, SOL_XDP, option, value, length);
        } catch (Throwable t) {
            throw Libc.linkageFailure("setsockopt", t);
        }
    }

    /**
     * getsockopt(SOL_XDP, {@code option}) into {@code out} (as many bytes as it holds); the
     * length the kernel wrote, or -1.
     */
    public int get(int fd, int option, MemorySegment out) {
        optlen.set(JAVA_INT, 0, (int) out.byteSize());
        try {
            int r = (int) GETSOCKOPT.invokeExact(libc.callState(), fd, SOL_XDP, option, out, optlen);
            return r < 0 ? r : optlen.get(JAVA_INT, 0);
        } catch (Throwable t) {
            throw Libc.linkageFailure("getsockopt", t);
        }
    }

    /** The offsets of ring {@code ring} ({@link #RING_RX}...) in an XDP_MMAP_OFFSETS answer: producer, consumer, desc, flags. */
    public static long ringOffset(MemorySegment offsets, int ring, int field) {
        return offsets.get(JAVA_LONG, ring * 32L + field * 8L);
    }

    /** bind(2) to queue {@code queueId} of {@code ifindex} with {@code flags}; shares the UMEM of {@code sharedUmemFd} when XDP_SHARED_UMEM. */
    public int bind(int fd, int ifindex, int queueId, short flags, int sharedUmemFd) {
        scratch.asSlice(0, SOCKADDR_SIZE).fill((byte) 0);
        scratch.set(JAVA_SHORT, 0, (short) AF_XDP);
        scratch.set(JAVA_SHORT, 2, flags);
        scratch.set(JAVA_INT, 4, ifindex);
        scratch.set(JAVA_INT, 8, queueId);
        scratch.set(JAVA_INT, 12, sharedUmemFd);
        try {
            return (int) BIND.invokeExact(libc.callState(), fd, scratch, SOCKADDR_SIZE);
        } catch (Throwable t) {
            throw Libc.linkageFailure("bind", t);
        }
    }

    /**
     * The tx kick: an empty non-blocking sendto, which makes the kernel process the tx ring.
     * Returns -1 on failure without errno; {@link #kickTxReportingErrno} tells why.
     */
    public long kickTx(int fd) {
        try {
            return (long) SENDTO_UNCAPTURED.invokeExact(fd, 0L, 0L, MSG_DONTWAIT, 0L, 0);
        } catch (Throwable t) {
            throw Libc.linkageFailure("sendto", t);
        }
    }

    /** {@link #kickTx} leaving errno in {@link Libc#errno()} on failure; for the failure path. */
    public long kickTxReportingErrno(int fd) {
        try {
            return (long) SENDTO.invokeExact(libc.callState(), fd, 0L, 0L, MSG_DONTWAIT, 0L, 0);
        } catch (Throwable t) {
            throw Libc.linkageFailure("sendto", t);
        }
    }

    /** The rx kick: an empty non-blocking recvfrom, which makes the driver refill from the fill ring. */
    public long kickRx(int fd) {
        try {
            return (long) RECVFROM.invokeExact(fd, 0L, 0L, MSG_DONTWAIT, 0L, 0L);
        } catch (Throwable t) {
            throw Libc.linkageFailure("recvfrom", t);
        }
    }

    /** if_nametoindex(3): the interface's index, or 0 when there is none (errno set); {@link Sockets#ifIndex}. */
    public int ifIndex(String name) {
        return new Sockets(libc).ifIndex(name);
    }
}
