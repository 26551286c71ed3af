package io.slipstream.driver.tap;

import io.slipstream.buffer.PacketBuffer;
import io.slipstream.driver.copy.CopyingInterface;
import io.slipstream.linux.Errno;
import io.slipstream.linux.EventFd;
import io.slipstream.linux.Libc;
import io.slipstream.nic.EventHandler;
import io.slipstream.nic.NicConfig;
import io.slipstream.nic.NicCounter;
import io.slipstream.nic.NicException;
import io.slipstream.time.Clock;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * A virtual interface on a Linux TAP device: the kernel is the peer on the other side of the
 * link. The "NIC" is emulated in the stack's own thread ({@link CopyingInterface}): the
 * doorbell writes each posted frame to the device, and polling the event queue reads frames
 * into posted buffers, so the stack side costs one system call per frame and nothing else.
 */
final class TapInterface extends CopyingInterface {
    /** Where frames go that arrive while no rx buffer is posted: read, counted, dropped. */
    private final MemorySegment scratch;
    private final MemorySegment readyCheck;

    private TapInterface(NicConfig config, Clock clock, Arena arena, Libc libc, int fd, EventFd eventFd) {
        super("tap", config, clock, arena, libc, fd, eventFd);
        this.scratch = arena.allocate(config.frameSize());
        this.readyCheck = Libc.pollFds(arena, 1);
        Libc.setPollFd(readyCheck, 0, fd, Libc.POLLIN);
        start();
    }

    /** Attaches to (or creates) the TAP device {@code config.interfaceName()}. */
    static TapInterface open(NicConfig config, Clock clock) {
        String name = config.interfaceName();
        String os = System.getProperty("os.name", "");
        if (!os.startsWith("Linux")) {
            throw new NicException(NicException.Kind.NOT_FOUND, "tap " + name + ": the TAP driver needs Linux, this is " + os);
        }
        TapDevice.validName(name);
        Arena arena = Arena.ofShared();
        Libc libc = new Libc(arena);
        int fd = -1;
        EventFd eventFd = null;
        try {
            fd = TapDevice.open(libc, name);
            try {
                eventFd = EventFd.open(libc, arena);
            } catch (IOException e) {
                throw new NicException("tap " + name + ": " + e.getMessage(), e);
            }
            return new TapInterface(config, clock, arena, libc, fd, eventFd);
        } catch (RuntimeException | Error e) {
            if (eventFd != null) {
                eventFd.close(libc);
            }
            if (fd >= 0) {
                libc.close(fd);
            }
            arena.close();
            throw e;
        }
    }

    /**
     * Stops the interrupt thread's use of the device, closes it (the kernel removes the TAP),
     * returns every buffer the rings hold and frees the pool. Called by the stack side.
     */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        stopRings();
        libc.close(fd);
        freeBuffers();
    }

    /** Reads one frame: {@link #DELIVERED}, {@link #DROPPED}, or {@link #DRAINED} (none, or failed). */
    @Override
    protected int receiveOne(EventHandler handler) {
        PacketBuffer b = rxPosted.peek();
        MemorySegment target = b == null ? scratch : b.segment();
        long n;
        do {
            n = libc.readNonBlocking(fd, target.address(), target.byteSize());
        } while (n < 0 && libc.errno() == Errno.EINTR);
        if (n <= 0) {
            return DRAINED; // EAGAIN; any other error ends this round as well
        }
        if (b == null) {
            stats.increment(NicCounter.RX_NO_BUFFER);
            return DROPPED;
        }
        if (n > target.byteSize() || n > maxFrame) {
            stats.increment(NicCounter.RX_OVERSIZE); // read(2) cut a larger frame short: drop it
            return DROPPED;
        }
        rxPosted.poll();
        b.setRange(0, (int) n);
        b.transfer(rxOwner, stackOwner());
        stats.increment(NicCounter.RX_FRAMES);
        stats.add(NicCounter.RX_BYTES, n);
        handler.onRx(b);
        return DELIVERED;
    }

    @Override
    protected boolean rxWaiting() {
        return libc.pollNow(readyCheck, 1) != 0; // readable, or an error: look
    }
}
