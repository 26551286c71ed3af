package io.slipstream.relay;

import io.slipstream.linux.Errno;
import io.slipstream.linux.Libc;
import io.slipstream.linux.NetNamespace;
import io.slipstream.linux.Packet;
import io.slipstream.linux.Sockets;
import io.slipstream.stats.Counters;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;

/**
 * A layer-2 relay between two interfaces of one network namespace, each direction impaired
 * on its own ({@link ImpairedDirection}): tc netem stands in for a lossy path where the
 * kernel has it, and this where it has not (no sch_netem module). It reads every frame
 * arriving on either interface with an AF_PACKET socket bound there and writes it, impaired,
 * to the other, on one platform thread of its own; frames the relay itself sends are not seen
 * again (PACKET_IGNORE_OUTGOING). The two ends must send complete frames: transmit checksum
 * offload and segmentation offloads off ({@link RelayLab} sets them), since a copied frame
 * loses the kernel's note that its checksum is still to be filled in.
 *
 * <p>"Left" and "right" name the interfaces given; {@link #leftToRight()} and
 * {@link #rightToLeft()} are the directions, each with its own seed, counters and delay line.
 */
public final class ImpairmentRelay implements AutoCloseable {
    /** Slots per direction: 16 MiB of frames, several ms at 10 Gb/s. */
    public static final int SLOTS_PER_DIRECTION = 8192;
    /** Frames read from one side before the other gets its turn. */
    private static final int READ_BATCH = 64;
    /** Longest the thread sleeps in poll(2) with nothing due, so close is seen promptly. */
    private static final int IDLE_POLL_MS = 20;
    /** Larger than any frame, so read(2) returns a frame's whole length and an oversize one is seen as such. */
    private static final int READ_BUFFER_BYTES = 65536;

    private final Arena arena = Arena.ofShared();
    private final Libc libc = new Libc(arena);
    private final int leftFd;
    private final int rightFd;
    private final ImpairedDirection leftToRight;
    private final ImpairedDirection rightToLeft;
    private final MemorySegment readBuffer;
    private final MemorySegment pollFds;
    private final Thread thread;
    private volatile boolean running = true;
    private volatile Throwable failure;

    private ImpairmentRelay(int leftFd, int rightFd, Impairment leftToRight, Impairment rightToLeft, long seed,
                            String leftName, String rightName) {
        this.leftFd = leftFd;
        this.rightFd = rightFd;
        this.leftToRight = new ImpairedDirection(leftName + "->" + rightName, leftToRight, seed,
                SLOTS_PER_DIRECTION, sinkTo(rightFd), arena);
        // A second seed from the first, so the two directions draw independent sequences.
        this.rightToLeft = new ImpairedDirection(rightName + "->" + leftName, rightToLeft, seed * 0x9E3779B97F4A7C15L + 1,
                SLOTS_PER_DIRECTION, sinkTo(leftFd), arena);
        this.readBuffer = arena.allocate(READ_BUFFER_BYTES, 64);
        this.pollFds = Libc.pollFds(arena, 2);
        Libc.setPollFd(pollFds, 0, leftFd, Libc.POLLIN);
        Libc.setPollFd(pollFds, 1, rightFd, Libc.POLLIN);
        this.thread = Thread.ofPlatform().name("impairment-relay " + leftName + "<->" + rightName).daemon().unstarted(this::run);
    }

    /**
     * Starts a relay between {@code left} and {@code right}, two interfaces of the namespace
     * pinned at {@code namespace} (both up). Needs CAP_NET_RAW and CAP_SYS_ADMIN there.
     */
    public static ImpairmentRelay start(Path namespace, String left, String right, Impairment leftToRight,
                                        Impairment rightToLeft, long seed) throws IOException {
        int[] fds = NetNamespace.call(namespace, () -> {
            int a = openBound(left);
            try {
                return new int[] {a, openBound(right)};
            } catch (IOException | RuntimeException e) {
                closeFd(a);
                throw e;
            }
        });
        ImpairmentRelay relay = new ImpairmentRelay(fds[0], fds[1], leftToRight, rightToLeft, seed, left, right);
        relay.thread.start();
        return relay;
    }

    /** An AF_PACKET socket for every protocol, bound to {@code device}, that does not see its own sends. */
    private static int openBound(String device) throws IOException {
        try (Arena temp = Arena.ofConfined()) {
            Sockets sockets = new Sockets(new Libc(temp));
            int ifindex = sockets.ifIndex(device);
            if (ifindex == 0) {
                throw new IOException(sockets.libc().failure("if_nametoindex " + device));
            }
            int fd = sockets.socket(Packet.AF_PACKET, Packet.SOCK_RAW | Sockets.SOCK_NONBLOCK | Sockets.SOCK_CLOEXEC,
                    Packet.htons(Packet.ETH_P_ALL));
            if (fd < 0) {
                throw new IOException(sockets.libc().failure("socket(AF_PACKET) for " + device));
            }
            MemorySegment one = temp.allocateFrom(ValueLayout.JAVA_INT, 1);
            MemorySegment address = temp.allocate(Packet.SOCKADDR_LL_SIZE, 8);
            Packet.sockaddrLl(address, ifindex);
            if (sockets.setSockOpt(fd, Packet.SOL_PACKET, Packet.PACKET_IGNORE_OUTGOING, one, 4) < 0
                    || sockets.bind(fd, address, Packet.SOCKADDR_LL_SIZE) < 0) {
                String why = sockets.libc().failure("AF_PACKET setup on " + device);
                sockets.close(fd);
                throw new IOException(why);
            }
            return fd;
        }
    }

    private static void closeFd(int fd) {
        try (Arena temp = Arena.ofConfined()) {
            new Libc(temp).close(fd);
        }
    }

    private FrameSink sinkTo(int fd) {
        return (address, length) -> {
            long n = libc.writeNonBlocking(fd, address, length);
            if (n >= 0) {
                return FrameSink.SENT;
            }
            int errno = libc.errno();
            return errno == Errno.EAGAIN || errno == Errno.ENOBUFS || errno == Errno.EINTR ? FrameSink.BUSY : FrameSink.FAILED;
        };
    }

    private void run() {
        try {
            while (running) {
                long now = System.nanoTime();
                int read = readSome(leftFd, leftToRight, now) + readSome(rightFd, rightToLeft, now);
                now = System.nanoTime();
                leftToRight.release(now);
                rightToLeft.release(now);
                if (read == 0) {
                    libc.awaitReady(pollFds, 2, timeoutMs(now));
                }
            }
        } catch (Throwable t) {
            failure = t;
        }
    }

    /** Reads up to a batch of frames from {@code fd} into {@code direction}; how many. */
    private int readSome(int fd, ImpairedDirection direction, long nowNs) {
        int frames = 0;
        while (frames < READ_BATCH) {
            long n = libc.readNonBlocking(fd, readBuffer.address(), READ_BUFFER_BYTES);
            if (n < 0) {
                if (libc.errno() == Errno.EINTR) {
                    continue;
                }
                break; // EAGAIN: drained (any other error: the next poll reports it again)
            }
            direction.accept(readBuffer, (int) n, nowNs);
            frames++;
        }
        return frames;
    }

    /** Until the next frame is due (at least 1 ms, as poll(2) counts), and no longer than the idle bound. */
    private int timeoutMs(long nowNs) {
        long next = Math.min(leftToRight.nextDueNs(), rightToLeft.nextDueNs());
        if (next == Long.MAX_VALUE) {
            return IDLE_POLL_MS;
        }
        long ms = (next - nowNs + 999_999) / 1_000_000;
        return (int) Math.max(0, Math.min(IDLE_POLL_MS, ms));
    }

    public Counters<RelayCounter> leftToRight() {
        return leftToRight.counters();
    }

    public Counters<RelayCounter> rightToLeft() {
        return rightToLeft.counters();
    }

    /** What the thread died of, or null while it runs (or ran) cleanly. */
    public Throwable failure() {
        return failure;
    }

    /** One line per direction: its impairment and non-zero counters. */
    public String describe() {
        return leftToRight.name() + " [" + leftToRight.impairment() + "] " + leftToRight.counters() + "; "
                + rightToLeft.name() + " [" + rightToLeft.impairment() + "] " + rightToLeft.counters();
    }

    /** Stops the thread (frames still waiting are dropped) and closes the sockets. */
    @Override
    public void close() {
        if (!running) {
            return;
        }
        running = false;
        try {
            thread.join(5_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (thread.isAlive()) {
            throw new IllegalStateException("the relay thread did not stop within 5 s");
        }
        libc.close(leftFd);
        libc.close(rightFd);
        arena.close();
        if (failure != null) {
            throw new UncheckedIOException(new IOException("the relay thread failed", failure));
        }
    }
}
