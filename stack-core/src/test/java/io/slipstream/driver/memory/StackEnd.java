package io.slipstream.driver.memory;

import io.slipstream.buffer.BufferPool;
import io.slipstream.buffer.PacketBuffer;
import io.slipstream.nic.EventHandler;
import io.slipstream.nic.NicConfig;
import io.slipstream.nic.NicCounter;
import io.slipstream.nic.VirtualInterface;
import io.slipstream.time.Clock;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The tests' stand-in for a stack on one end of a memory link: it posts rx buffers, sends
 * frames, polls events and keeps what arrived, releasing every buffer it gets back.
 */
final class StackEnd implements EventHandler, AutoCloseable {
    static final int HEADER = 14;
    private static final AtomicInteger LINK_NUMBER = new AtomicInteger();

    final VirtualInterface vi;
    final List<byte[]> received = new ArrayList<>();
    /** received.size(), readable from other threads. */
    final AtomicInteger receivedCount = new AtomicInteger();
    int completions;
    int timers;
    int wakeups;
    /** Whether received buffers are posted again at once and {@link #poll()} tops the ring up. */
    boolean refillRx = true;
    /** Whether {@link #received} keeps a copy of each frame (false: only count, allocating nothing). */
    boolean keepFrames = true;

    StackEnd(VirtualInterface vi) {
        this.vi = vi;
    }

    /** A fresh link name, so tests never share a link. */
    static String linkName(String prefix) {
        return prefix + "-" + LINK_NUMBER.incrementAndGet();
    }

    /** Small rings and pool so a test sees the edges quickly. */
    static NicConfig config(String link, Map<String, String> options) {
        return config(link, NicConfig.DEFAULT_MTU, 64, 64, 256, options);
    }

    static NicConfig config(String link, int mtu, int rxRing, int txRing, int bufferCount, Map<String, String> options) {
        return new NicConfig(link, 0x02_00_00_00_00_01L, mtu, rxRing, txRing, bufferCount, BufferPool.DEFAULT_FRAME_SIZE,
                options);
    }

    static StackEnd open(NicConfig config, Clock clock) {
        return new StackEnd(new MemoryDriver().open(config, clock));
    }

    /** The other end of this end's link, opened with the default test configuration. */
    StackEnd peer(Clock clock) {
        return open(config(vi.name(), Map.of()), clock);
    }

    /** A frame recognisable by its sequence number: a header, the number, then bytes derived from it. */
    static byte[] frame(int seq, int length) {
        byte[] f = new byte[length];
        long x = seq * 0x9E3779B97F4A7C15L + 1;
        for (int i = 0; i < length; i++) {
            x ^= x << 13;
            x ^= x >>> 7;
            x ^= x << 17;
            f[i] = (byte) x;
        }
        ByteBuffer.wrap(f).putInt(HEADER, seq);
        return f;
    }

    static int seqOf(byte[] frame) {
        return ByteBuffer.wrap(frame).getInt(HEADER);
    }

    /** Posts empty buffers until the rx ring or the pool is full; returns how many. */
    int fillRx() {
        int n = 0;
        while (fillRxOne()) {
            n++;
        }
        return n;
    }

    /** Posts one empty buffer; false if the ring is full or the pool empty. */
    boolean fillRxOne() {
        if (vi.rx().posted() >= vi.rx().capacity()) {
            return false;
        }
        PacketBuffer b = vi.buffers().acquire(vi.stackOwner());
        if (b == null) {
            return false;
        }
        if (!vi.rx().post(b)) {
            b.release(vi.stackOwner());
            return false;
        }
        return true;
    }

    /** Queues one frame on the tx ring (no doorbell); false if no buffer or ring space. */
    boolean post(byte[] bytes) {
        PacketBuffer b = vi.buffers().acquire(vi.stackOwner());
        if (b == null) {
            return false;
        }
        MemorySegment.copy(bytes, 0, b.segment(), ValueLayout.JAVA_BYTE, 0, bytes.length);
        b.setRange(0, bytes.length);
        if (!vi.tx().post(b)) {
            b.release(vi.stackOwner());
            return false;
        }
        return true;
    }

    /** Posts and rings the doorbell; fails the test if the frame could not be queued. */
    void send(byte[] bytes) {
        if (!post(bytes)) {
            throw new AssertionError("could not queue a frame: tx posted=" + vi.tx().posted() + " pool available="
                    + vi.buffers().available());
        }
        vi.tx().doorbell();
    }

    /** Polls until no event is left; returns how many were handled. */
    int poll() {
        int total = 0;
        int n;
        while ((n = vi.events().poll(this, 64)) > 0) {
            total += n;
        }
        if (refillRx) {
            fillRx();
        }
        return total;
    }

    long count(NicCounter c) {
        return vi.stats().get(c);
    }

    static void assertContains(String actual, String... parts) {
        for (String p : parts) {
            if (actual == null || !actual.contains(p)) {
                throw new AssertionError("expected '" + actual + "' to contain '" + p + "'");
            }
        }
    }

    @Override
    public void onRx(PacketBuffer frame) {
        if (keepFrames) {
            byte[] copy = new byte[frame.length()];
            MemorySegment.copy(frame.segment(), ValueLayout.JAVA_BYTE, frame.offset(), copy, 0, frame.length());
            received.add(copy);
        }
        receivedCount.incrementAndGet();
        if (!refillRx || !vi.rx().post(frame)) {
            frame.release(vi.stackOwner());
        }
    }

    @Override
    public void onTxComplete(PacketBuffer frame) {
        completions++;
        frame.release(vi.stackOwner());
    }

    @Override
    public void onTimer() {
        timers++;
    }

    @Override
    public void onWakeup() {
        wakeups++;
    }

    @Override
    public void close() {
        vi.close();
    }
}
