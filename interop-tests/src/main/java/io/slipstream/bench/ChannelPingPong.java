package io.slipstream.bench;

import static io.slipstream.bench.ChannelIo.readFully;
import static io.slipstream.bench.ChannelIo.writeFully;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.util.Arrays;

/**
 * The 64-byte ping-pong over a connected {@link SocketChannel}, whatever made it (the kernel,
 * Slipstream's provider) and whether it blocks or not (on a non-blocking one, {@link ChannelIo}
 * spins). The pinging side stamps each message with its round number and times every round
 * trip; both sides count the heap their own thread allocates over the measured rounds (the JDK
 * counts it per thread), which on the data path must be nothing.
 */
public final class ChannelPingPong {
    public static final int MESSAGE = 64;
    private static final com.sun.management.ThreadMXBean THREADS =
            (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();

    private ChannelPingPong() {}

    /** What the pinging side measured after the warm-up: the round trips, sorted, and its heap per round trip. */
    public record Pings(long[] sortedRttNs, double allocatedBytesPerRound) {}

    /** Sends {@code warmup + rounds} messages, each after the previous one came back. */
    public static Pings ping(SocketChannel c, int rounds, int warmup) throws IOException {
        ByteBuffer out = ByteBuffer.allocateDirect(MESSAGE);
        ByteBuffer in = ByteBuffer.allocateDirect(MESSAGE);
        long[] rttNs = new long[rounds];
        long allocatedBytes = 0;
        for (int i = 0; i < warmup + rounds; i++) {
            if (i == warmup) {
                allocatedBytes = -THREADS.getCurrentThreadAllocatedBytes();
            }
            out.clear().putLong(0, i);
            in.clear();
            long start = System.nanoTime();
            writeFully(c, out);
            readFully(c, in);
            long t = System.nanoTime() - start;
            if (in.getLong(0) != i) {
                throw new IllegalStateException("round " + i + " came back altered");
            }
            if (i >= warmup) {
                rttNs[i - warmup] = t;
            }
        }
        allocatedBytes += THREADS.getCurrentThreadAllocatedBytes();
        Arrays.sort(rttNs);
        return new Pings(rttNs, allocatedBytes / (double) rounds);
    }

    /** Sends back {@code warmup + rounds} messages; returns the heap this thread allocated per measured round trip. */
    public static double echo(SocketChannel c, int rounds, int warmup) throws IOException {
        ByteBuffer buf = ByteBuffer.allocateDirect(MESSAGE);
        long allocatedBytes = 0;
        for (int i = 0; i < warmup + rounds; i++) {
            if (i == warmup) {
                allocatedBytes = -THREADS.getCurrentThreadAllocatedBytes();
            }
            buf.clear();
            readFully(c, buf);
            buf.flip();
            writeFully(c, buf);
        }
        allocatedBytes += THREADS.getCurrentThreadAllocatedBytes();
        return allocatedBytes / (double) rounds;
    }
}
