package io.slipstream.driver.xdp;

import io.slipstream.linux.Errno;
import io.slipstream.linux.Libc;
import io.slipstream.linux.Mmap;
import io.slipstream.linux.Xsk;
import io.slipstream.nic.NicException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;

/**
 * One AF_XDP socket bound to one receive queue, with its mapped rings: rx, fill and completion
 * always, tx on the socket that sends. The first socket of an interface registers the
 * {@link Umem}; the others share it (XDP_SHARED_UMEM), each with fill and completion rings of
 * its own, as sockets on different queues must have.
 */
final class XskSocket implements AutoCloseable {
    /** How to bind: zero-copy is tried first in AUTO, and copy mode taken when the driver has none. */
    enum BindMode { AUTO, ZEROCOPY, COPY }

    private final Xsk xsk;
    final int fd;
    final int queueId;
    final XskRing rx;
    final XskRing tx;
    final XskRing fill;
    final XskRing completion;
    private final List<MemorySegment> mappings;
    private boolean zeroCopy;
    private boolean closed;

    private XskSocket(Xsk xsk, int fd, int queueId, XskRing rx, XskRing tx, XskRing fill, XskRing completion,
                      List<MemorySegment> mappings) {
        this.xsk = xsk;
        this.fd = fd;
        this.queueId = queueId;
        this.rx = rx;
        this.tx = tx;
        this.fill = fill;
        this.completion = completion;
        this.mappings = mappings;
    }

    /**
     * Opens a socket on queue {@code queueId}: the UMEM's owner when {@code owner} is null (bound
     * as {@code mode} says, with XDP_USE_NEED_WAKEUP), else sharing {@code owner}'s UMEM and mode.
     */
    static XskSocket open(Xsk xsk, String ifname, int ifindex, int queueId, Umem umem, XskSocket owner,
                          int ringSize, boolean withTx, BindMode mode) {
        if (owner == null && mode == BindMode.AUTO) {
            try {
                return open(xsk, ifname, ifindex, queueId, umem, null, ringSize, withTx, BindMode.ZEROCOPY);
            } catch (NicException zeroCopyRefused) {
                return open(xsk, ifname, ifindex, queueId, umem, null, ringSize, withTx, BindMode.COPY);
            }
        }
        Libc libc = xsk.libc();
        String where = "xdp " + ifname + " queue " + queueId + ": ";
        int fd = xsk.socket();
        if (fd < 0) {
            int errno = libc.errno();
            NicException.Kind kind = switch (errno) {
                case Errno.EPERM, Errno.EACCES -> NicException.Kind.NOT_PERMITTED;
                case Errno.EAFNOSUPPORT -> NicException.Kind.NOT_FOUND;
                default -> NicException.Kind.FAILED;
            };
            throw new NicException(kind, where + libc.failure("socket(AF_XDP)")
                    + (errno == Errno.EAFNOSUPPORT ? " (this kernel has no AF_XDP)" : "")
                    + (kind == NicException.Kind.NOT_PERMITTED ? " (AF_XDP needs root, or CAP_NET_RAW and CAP_BPF)" : ""));
        }
        List<MemorySegment> mappings = new ArrayList<>();
        try {
            if (owner == null && xsk.registerUmem(fd, umem.region(), umem.chunkSizeBytes()) < 0) {
                throw new NicException(where + libc.failure("XDP_UMEM_REG"));
            }
            setRing(xsk, fd, Xsk.XDP_UMEM_FILL_RING, ringSize, where);
            setRing(xsk, fd, Xsk.XDP_UMEM_COMPLETION_RING, ringSize, where);
            setRing(xsk, fd, Xsk.XDP_RX_RING, ringSize, where);
            if (withTx) {
                setRing(xsk, fd, Xsk.XDP_TX_RING, ringSize, where);
            }
            XskRing rx;
            XskRing tx = null;
            XskRing fill;
            XskRing completion;
            try (Arena temp = Arena.ofConfined()) {
                MemorySegment offsets = temp.allocate(Xsk.MMAP_OFFSETS_SIZE, 8);
                if (xsk.get(fd, Xsk.XDP_MMAP_OFFSETS, offsets) < 0) {
                    throw new NicException(where + libc.failure("XDP_MMAP_OFFSETS"));
                }
                rx = map(xsk, fd, offsets, Xsk.RING_RX, Xsk.XDP_PGOFF_RX_RING, ringSize, Xsk.DESC_SIZE, mappings, where);
                if (withTx) {
                    tx = map(xsk, fd, offsets, Xsk.RING_TX, Xsk.XDP_PGOFF_TX_RING, ringSize, Xsk.DESC_SIZE, mappings,
                            where);
                }
                fill = map(xsk, fd, offsets, Xsk.RING_FILL, Xsk.XDP_UMEM_PGOFF_FILL_RING, ringSize, Long.BYTES,
                        mappings, where);
                completion = map(xsk, fd, offsets, Xsk.RING_COMPLETION, Xsk.XDP_UMEM_PGOFF_COMPLETION_RING, ringSize,
                        Long.BYTES, mappings, where);
            }
            short flags = owner != null ? Xsk.XDP_SHARED_UMEM
                    : (short) (Xsk.XDP_USE_NEED_WAKEUP | (mode == BindMode.ZEROCOPY ? Xsk.XDP_ZEROCOPY : Xsk.XDP_COPY));
            if (xsk.bind(fd, ifindex, queueId, flags, owner == null ? 0 : owner.fd) < 0) {
                int errno = libc.errno();
                throw new NicException(errno == Errno.EBUSY ? NicException.Kind.BUSY : NicException.Kind.FAILED,
                        where + "bind in " + (owner != null ? "shared-UMEM" : mode.name().toLowerCase())
                        + " mode: " + Errno.describe(errno)
                        + (errno == Errno.EBUSY ? " (another AF_XDP socket is bound to this queue)" : ""));
            }
            XskSocket s = new XskSocket(xsk, fd, queueId, rx, tx, fill, completion, mappings);
            s.zeroCopy = s.readZeroCopy();
            return s;
        } catch (RuntimeException | Error e) {
            for (MemorySegment m : mappings) {
                Mmap.unmap(libc, m);
            }
            libc.close(fd);
            throw e;
        }
    }

    private static void setRing(Xsk xsk, int fd, int option, int size, String where) {
        if (xsk.setInt(fd, option, size) < 0) {
            throw new NicException(where + xsk.libc().failure("setsockopt ring " + option + " of " + size));
        }
    }

    private static XskRing map(Xsk xsk, int fd, MemorySegment offsets, int ring, long pageOffset, int size,
                               int descSize, List<MemorySegment> mappings, String where) {
        long length = XskRing.mappingSize(Xsk.ringOffset(offsets, ring, 2), size, descSize);
        MemorySegment m = Mmap.shared(xsk.libc(), fd, length, pageOffset);
        if (m == null) {
            throw new NicException(where + xsk.libc().failure("mmap of ring " + ring));
        }
        mappings.add(m);
        return new XskRing(m, offsets, ring, size, descSize);
    }

    private boolean readZeroCopy() {
        try (Arena temp = Arena.ofConfined()) {
            MemorySegment options = temp.allocate(ValueLayout.JAVA_INT);
            return xsk.get(fd, Xsk.XDP_OPTIONS, options) >= 0
                    && (options.get(ValueLayout.JAVA_INT, 0) & Xsk.XDP_OPTIONS_ZEROCOPY) != 0;
        }
    }

    /** Whether the kernel bound this socket in zero-copy mode (XDP_OPTIONS). */
    boolean zeroCopy() {
        return zeroCopy;
    }

    /**
     * The kernel's XDP_STATISTICS into {@code out} (six u64: rx_dropped, rx_invalid_descs,
     * tx_invalid_descs, rx_ring_full, rx_fill_ring_empty_descs, tx_ring_empty_descs); false if
     * the call failed.
     */
    boolean statistics(Xsk caller, MemorySegment out) {
        return caller.get(fd, Xsk.XDP_STATISTICS, out) >= 0;
    }

    /** Unmaps the rings and closes the socket (which leaves the XSKMAP by itself). Idempotent. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        for (MemorySegment m : mappings) {
            Mmap.unmap(xsk.libc(), m);
        }
        xsk.libc().close(fd);
    }
}
