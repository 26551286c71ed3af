package io.slipstream.driver.packet;

import io.slipstream.buffer.PacketBuffer;
import io.slipstream.config.Settings;
import io.slipstream.config.StackConfig;
import io.slipstream.driver.copy.CopyingInterface;
import io.slipstream.linux.Errno;
import io.slipstream.linux.EventFd;
import io.slipstream.linux.Libc;
import io.slipstream.linux.Mmap;
import io.slipstream.linux.Packet;
import io.slipstream.linux.Sockets;
import io.slipstream.nic.EventHandler;
import io.slipstream.nic.NicConfig;
import io.slipstream.nic.NicCounter;
import io.slipstream.nic.NicException;
import io.slipstream.nic.NicStats;
import io.slipstream.time.Clock;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * A virtual interface on an AF_PACKET socket bound to an existing Linux interface, with an
 * address of the stack's own that the kernel does not hold: the stack answers ARP for it
 * itself, and its MAC is its own, added to the interface's unicast filter (PACKET_MR_UNICAST)
 * for as long as the socket lives. A classic BPF filter ({@link PacketFilter}) lets the kernel
 * copy up only the stack's frames.
 *
 * <p>Rx: the kernel writes frames into a TPACKET_V3 ring of blocks mapped into this process;
 * a block becomes ours when full or after {@link PacketOptions#RETIRE_MS}, and polling copies
 * each frame into a posted rx buffer, then hands the block back. Tx is {@link
 * CopyingInterface}'s one write(2) per frame, here with PACKET_QDISC_BYPASS: the kernel copies
 * the frame to the device's queue at once. A tx ring would save that copy but not the system
 * call, which the kernel needs as its kick anyway.
 */
final class PacketInterface extends CopyingInterface {
    /** tp_frame_size: V3 packs frames by their length, so this only bounds the frame count the kernel computes. */
    private static final int RING_FRAME_BYTES = 2048;

    private final MemorySegment ring;
    private final int blocks;
    private final int blockBytes;
    /** The block the next frame is read from, and where in it: the next frame's offset (-1: none yet) and how many are left. */
    private int rxBlock;
    private long rxFrameAt = -1;
    private int rxFramesLeft;
    private final KernelCounters kernelCounters;

    private PacketInterface(NicConfig config, PacketOptions options, Clock clock, Arena arena, Libc libc, int fd,
                            MemorySegment ring, EventFd eventFd) {
        super("packet", config, clock, arena, libc, fd, eventFd);
        this.ring = ring;
        this.blocks = options.blocks();
        this.blockBytes = options.blockBytes();
        this.kernelCounters = new KernelCounters(new Sockets(new Libc(arena)), arena);
        start();
    }

    /**
     * Opens a packet socket on {@code config.interfaceName()}: it receives nothing until bound,
     * so the filter and the ring are in place before the first frame is copied.
     */
    static PacketInterface open(NicConfig config, PacketOptions options, Clock clock) {
        String name = config.interfaceName();
        int address = StackConfig.from(Settings.of(config.options())).address();
        int maxFrame = maxFrame(config.mtu());
        int frameRoom = Packet.TPACKET3_HDRLEN + Packet.TPACKET_ALIGNMENT + maxFrame;
        if (options.blockBytes() < Packet.BLOCK_DESC_SIZE + frameRoom) {
            throw new NicException(NicException.Kind.INVALID_CONFIG, "packet " + name + ": "
                    + PacketOptions.BLOCK_BYTES.name() + " " + options.blockBytes() + " cannot hold a frame of MTU "
                    + config.mtu() + " (" + (Packet.BLOCK_DESC_SIZE + frameRoom) + " bytes with the ring's headers)");
        }
        Arena arena = Arena.ofShared();
        Libc libc = new Libc(arena);
        Sockets sockets = new Sockets(libc);
        int fd = -1;
        MemorySegment ring = null;
        EventFd eventFd = null;
        try {
            int ifindex = sockets.ifIndex(name);
            if (ifindex == 0) {
                throw new NicException(NicException.Kind.NOT_FOUND, "packet " + name + ": no such interface ("
                        + libc.failure("if_nametoindex") + ")");
            }
            fd = sockets.socket(Packet.AF_PACKET, Packet.SOCK_RAW | Sockets.SOCK_NONBLOCK | Sockets.SOCK_CLOEXEC, 0);
            if (fd < 0) {
                throw failure(name, libc, "socket(AF_PACKET)");
            }
            setOption(sockets, fd, Sockets.SOL_SOCKET, Packet.SO_ATTACH_FILTER,
                    PacketFilter.program(arena, address, config.mac()), Packet.SOCK_FPROG_SIZE, name, "SO_ATTACH_FILTER");
            MemorySegment scratch = arena.allocate(Packet.REQ3_SIZE, 8);
            scratch.set(ValueLayout.JAVA_INT, 0, Packet.TPACKET_V3);
            setOption(sockets, fd, Packet.SOL_PACKET, Packet.PACKET_VERSION, scratch, 4, name, "PACKET_VERSION");
            Packet.req3(scratch, options.blockBytes(), options.blocks(), RING_FRAME_BYTES, options.retireMillis());
            setOption(sockets, fd, Packet.SOL_PACKET, Packet.PACKET_RX_RING, scratch, Packet.REQ3_SIZE, name,
                    "PACKET_RX_RING");
            ring = Mmap.shared(libc, fd, (long) options.blockBytes() * options.blocks(), 0);
            if (ring == null) {
                throw failure(name, libc, "mmap of the rx ring");
            }
            scratch.set(ValueLayout.JAVA_INT, 0, 1);
            setOption(sockets, fd, Packet.SOL_PACKET, Packet.PACKET_QDISC_BYPASS, scratch, 4, name,
                    "PACKET_QDISC_BYPASS");
            MemorySegment sockaddr = arena.allocate(Packet.SOCKADDR_LL_SIZE, 8);
            Packet.sockaddrLl(sockaddr, ifindex);
            if (sockets.bind(fd, sockaddr, Packet.SOCKADDR_LL_SIZE) < 0) {
                throw failure(name, libc, "bind");
            }
            MemorySegment mreq = arena.allocate(Packet.MREQ_SIZE, 8);
            Packet.unicastMembership(mreq, ifindex, config.mac());
            setOption(sockets, fd, Packet.SOL_PACKET, Packet.PACKET_ADD_MEMBERSHIP, mreq, Packet.MREQ_SIZE, name,
                    "PACKET_ADD_MEMBERSHIP (the stack's MAC)");
            try {
                eventFd = EventFd.open(libc, arena);
            } catch (IOException e) {
                throw new NicException("packet " + name + ": " + e.getMessage(), e);
            }
            return new PacketInterface(config, options, clock, arena, libc, fd, ring, eventFd);
        } catch (RuntimeException | Error e) {
            if (eventFd != null) {
                eventFd.close(libc);
            }
            if (ring != null) {
                Mmap.unmap(libc, ring);
            }
            if (fd >= 0) {
                libc.close(fd); // also drops the membership and the filter
            }
            arena.close();
            throw e;
        }
    }

    private static void setOption(Sockets sockets, int fd, int level, int option, MemorySegment value, int length,
                                  String name, String what) {
        if (sockets.setSockOpt(fd, level, option, value, length) < 0) {
            throw failure(name, sockets.libc(), "setsockopt " + what);
        }
    }

    private static NicException failure(String name, Libc libc, String operation) {
        int errno = libc.errno();
        NicException.Kind kind = errno == Errno.EPERM || errno == Errno.EACCES ? NicException.Kind.NOT_PERMITTED
                : errno == Errno.ENODEV ? NicException.Kind.NOT_FOUND : NicException.Kind.FAILED;
        return new NicException(kind, "packet " + name + ": " + libc.failure(operation)
                + (kind == NicException.Kind.NOT_PERMITTED ? " (AF_PACKET needs CAP_NET_RAW)" : ""));
    }

    /** The driver's counters, with the kernel's PACKET_STATISTICS folded in (read here, not on the data path). */
    @Override
    public NicStats stats() {
        kernelCounters.sync();
        return stats;
    }

    /**
     * Stops the interrupt thread's use of the socket, returns every buffer, unmaps the ring and
     * closes the socket (the kernel drops the filter and the MAC's membership with it).
     */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        kernelCounters.closing();
        stopRings();
        Mmap.unmap(libc, ring);
        libc.close(fd);
        freeBuffers();
    }

    /** Copies the ring's next frame into a posted buffer: 1 delivered, 0 dropped (counted), -1 none waiting. */
    @Override
    protected int receiveOne(EventHandler handler) {
        long block = (long) rxBlock * blockBytes;
        if (rxFrameAt < 0) {
            if ((Packet.blockStatus(ring, block) & Packet.TP_STATUS_USER) == 0) {
                return DRAINED;
            }
            rxFramesLeft = ring.get(ValueLayout.JAVA_INT, block + Packet.BLOCK_NUM_PKTS);
            rxFrameAt = block + Integer.toUnsignedLong(ring.get(ValueLayout.JAVA_INT,
                    block + Packet.BLOCK_OFFSET_TO_FIRST_PKT));
            if (rxFramesLeft <= 0) {
                finishBlock(block); // retired by the timer with nothing in it
                return DROPPED;
            }
        }
        long frame = rxFrameAt;
        int snapBytes = ring.get(ValueLayout.JAVA_INT, frame + Packet.HDR3_SNAPLEN);
        int wireBytes = ring.get(ValueLayout.JAVA_INT, frame + Packet.HDR3_LEN);
        int macAt = Short.toUnsignedInt(ring.get(ValueLayout.JAVA_SHORT, frame + Packet.HDR3_MAC));
        long next = Integer.toUnsignedLong(ring.get(ValueLayout.JAVA_INT, frame + Packet.HDR3_NEXT_OFFSET));
        boolean last = --rxFramesLeft == 0 || next == 0 || frame + next >= block + blockBytes;
        PacketBuffer b = rxPosted.peek();
        NicCounter drop = null;
        if (snapBytes < wireBytes || snapBytes > maxFrame || frame + macAt + snapBytes > block + blockBytes
                || (b != null && snapBytes > b.capacity())) {
            drop = NicCounter.RX_OVERSIZE; // the ring cut it short, or it is larger than the MTU allows
        } else if (b == null) {
            drop = NicCounter.RX_NO_BUFFER;
        } else {
            MemorySegment.copy(ring, frame + macAt, b.segment(), 0, snapBytes);
        }
        if (last) {
            finishBlock(block); // after the copy: the frame's bytes are the kernel's again from here
        } else {
            rxFrameAt = frame + next;
        }
        if (drop != null) {
            stats.incrementLocked(drop);
            return DROPPED;
        }
        rxPosted.poll();
        b.setRange(0, snapBytes);
        b.transfer(rxOwner, stackOwner());
        stats.incrementLocked(NicCounter.RX_FRAMES);
        stats.addLocked(NicCounter.RX_BYTES, snapBytes);
        handler.onRx(b);
        return DELIVERED;
    }

    /** Hands {@code block} back to the kernel and moves the reader to the next one. */
    private void finishBlock(long block) {
        Packet.releaseBlock(ring, block);
        rxFrameAt = -1;
        rxFramesLeft = 0;
        rxBlock = rxBlock + 1 == blocks ? 0 : rxBlock + 1;
    }

    @Override
    protected boolean rxWaiting() {
        return rxFrameAt >= 0 || (Packet.blockStatus(ring, (long) rxBlock * blockBytes) & Packet.TP_STATUS_USER) != 0;
    }

    /**
     * The kernel's PACKET_STATISTICS, which reset as they are read: frames dropped because the
     * ring had no free block (XDP's ring-full counterpart), and times the queue froze for it.
     * Any thread may sync; one at a time.
     */
    private final class KernelCounters {
        private final Sockets caller;
        private final MemorySegment out;
        private final MemorySegment length;

        KernelCounters(Sockets caller, Arena arena) {
            this.caller = caller;
            this.out = arena.allocate(Packet.STATS_V3_SIZE, 8);
            this.length = arena.allocate(ValueLayout.JAVA_INT);
        }

        synchronized void sync() {
            if (closed) {
                return;
            }
            length.set(ValueLayout.JAVA_INT, 0, Packet.STATS_V3_SIZE);
            if (caller.getSockOpt(fd, Packet.SOL_PACKET, Packet.PACKET_STATISTICS, out, length) < 0) {
                return;
            }
            stats.add(NicCounter.PACKET_RX_RING_FULL, Integer.toUnsignedLong(out.get(ValueLayout.JAVA_INT, 4)));
            stats.add(NicCounter.PACKET_RX_FREEZES, Integer.toUnsignedLong(out.get(ValueLayout.JAVA_INT, 8)));
        }

        /** The last sync, after which the socket may close: no sync runs after this returns. */
        synchronized void closing() {
            sync();
            closed = true;
        }
    }
}
