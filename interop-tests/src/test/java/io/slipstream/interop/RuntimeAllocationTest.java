package io.slipstream.interop;

import static io.slipstream.testing.StackCalls.inside;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.slipstream.bench.BlockingConnection;
import io.slipstream.bench.TcpPair;
import io.slipstream.buffer.BufferPool;
import io.slipstream.stack.Stack;
import io.slipstream.tcp.TcpConnectOptions;
import io.slipstream.tcp.TcpConnection;
import io.slipstream.udp.UdpSocket;
import java.lang.management.ManagementFactory;
import java.net.BindException;
import java.nio.ByteBuffer;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The whole data path of the runtime allocates nothing on the heap once compiled: socket
 * operations between {@link Stack#enter()} and {@link Stack#exit()} (a poll pass each), the
 * pass clock, TCP and UDP with application ByteBuffers (direct and heap), IP, ARP, the stack's
 * event loop and the in-memory NIC, two stacks driven by this thread in turn. Measured with the
 * JVM's per-thread allocation counter over windows of exchanges: the JIT may still be compiling
 * (and interpreting meanwhile) in the first windows, so steady state means some window, once
 * compiled, allocates zero bytes.
 */
class RuntimeAllocationTest {
    private static final int WINDOW = 20_000;
    private static final int MAX_WINDOWS = 15;
    /** Delivery over the in-memory NIC is immediate: a reply is there within a few passes. */
    private static final int MAX_POLLS = 1_000;
    private static final com.sun.management.ThreadMXBean THREADS =
            (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();

    @Test
    void tcpExchangeThroughTheRuntimeAllocatesNothingOnceWarm() throws Exception {
        try (TcpPair p = untrackedPair()) {
            BlockingConnection[] ends = p.connect(7003, TcpConnectOptions.DEFAULT.withNoDelay(true));
            TcpConnection client = ends[0].connection();
            TcpConnection server = ends[1].connection();
            ByteBuffer out = ByteBuffer.allocateDirect(64);
            ByteBuffer echo = ByteBuffer.allocate(64); // a heap buffer on one side, direct on the other
            ByteBuffer in = ByteBuffer.allocateDirect(64);
            long[] round = {0};
            long fewest = fewestBytesInAWindow(() -> {
                out.clear().putLong(0, round[0]);
                echo.clear();
                in.clear();
                send(p.a, client, out);
                awaitBytes(p.b, server, echo);
                echo.flip();
                send(p.b, server, echo);
                awaitBytes(p.a, client, in);
                assertEquals(round[0]++, in.getLong(0));
            });
            assertEquals(0, fewest, "bytes allocated in the best window of " + WINDOW + " TCP round trips");
        }
    }

    @Test
    void udpExchangeThroughTheRuntimeAllocatesNothingOnceWarm() throws Exception {
        try (TcpPair p = untrackedPair()) {
            UdpSocket a = inside(p.a, () -> p.a.udp().open());
            UdpSocket b = inside(p.b, () -> p.b.udp().open());
            p.a.enter();
            try {
                a.bind(6001);
            } finally {
                p.a.exit();
            }
            p.b.enter();
            try {
                b.bind(6002);
            } finally {
                p.b.exit();
            }
            ByteBuffer out = ByteBuffer.allocate(64);
            ByteBuffer echo = ByteBuffer.allocateDirect(64);
            ByteBuffer in = ByteBuffer.allocate(64);
            long[] round = {0};
            long fewest = fewestBytesInAWindow(() -> {
                out.clear().putLong(0, round[0]);
                echo.clear();
                in.clear();
                sendTo(p.a, a, out, TcpPair.B_ADDRESS, 6002);
                awaitDatagram(p.b, p.a, b, echo);
                echo.flip();
                sendTo(p.b, b, echo, TcpPair.A_ADDRESS, 6001);
                awaitDatagram(p.a, p.b, a, in);
                assertEquals(round[0]++, in.getLong(0));
            });
            assertEquals(0, fewest, "bytes allocated in the best window of " + WINDOW + " UDP round trips");
        }
    }

    /**
     * Two stacks without leak tracking (it records a stack trace per acquire, by design) and
     * without interrupt threads: the connect's waits spin, and only this thread polls.
     */
    private static TcpPair untrackedPair() {
        String tracking = System.clearProperty(BufferPool.TRACK_LEAKS_PROPERTY);
        try {
            return new TcpPair(Map.of("slipstream.interrupt.thread", "false", "slipstream.poll.usec", "-1"));
        } finally {
            if (tracking != null) {
                System.setProperty(BufferPool.TRACK_LEAKS_PROPERTY, tracking);
            }
        }
    }

    private static long fewestBytesInAWindow(Runnable exchange) {
        long fewest = Long.MAX_VALUE;
        for (int window = -1; window < MAX_WINDOWS && fewest != 0; window++) {
            long before = THREADS.getCurrentThreadAllocatedBytes();
            for (int i = 0; i < WINDOW; i++) {
                exchange.run();
            }
            long allocated = THREADS.getCurrentThreadAllocatedBytes() - before;
            if (window >= 0) { // window -1 warms up
                fewest = Math.min(fewest, allocated);
            }
        }
        assertTrue(fewest != Long.MAX_VALUE);
        return fewest;
    }

    // The exchanges call these, not lambdas: a capturing lambda per call would be the test's
    // own allocation (escape analysis may or may not remove it), not the stack's.

    private static void send(Stack stack, TcpConnection c, ByteBuffer src) {
        stack.enter();
        try {
            assertEquals(64, c.send(src));
        } finally {
            stack.exit();
        }
    }

    /** Enters, receives and exits until {@code dst} is full; bounded, as nothing here is lost. */
    private static void awaitBytes(Stack stack, TcpConnection c, ByteBuffer dst) {
        for (int i = 0; dst.hasRemaining(); i++) {
            if (i == MAX_POLLS) {
                throw new AssertionError("TCP exchange stalled: " + c);
            }
            stack.enter();
            try {
                c.receive(dst);
            } finally {
                stack.exit();
            }
        }
    }

    /**
     * Enters, receives and exits until a datagram is in {@code dst}, polling the sender's stack
     * too (the first datagram waits there for ARP).
     */
    private static void awaitDatagram(Stack stack, Stack sender, UdpSocket s, ByteBuffer dst) {
        for (int i = 0; ; i++) {
            if (i == MAX_POLLS) {
                throw new AssertionError("UDP exchange stalled: " + stack.counterSnapshot());
            }
            if (receive(stack, s, dst) >= 0) {
                return;
            }
            sender.poll();
        }
    }

    /** One receive on {@code s} between enter and exit: the datagram's length, or -1 when none waits. */
    private static int receive(Stack stack, UdpSocket s, ByteBuffer dst) {
        stack.enter();
        try {
            return s.receive(dst);
        } finally {
            stack.exit();
        }
    }

    private static void sendTo(Stack stack, UdpSocket socket, ByteBuffer src, int address, int port) {
        stack.enter();
        try {
            assertEquals(64, socket.send(src, address, port));
        } catch (BindException e) {
            throw new AssertionError(e);
        } finally {
            stack.exit();
        }
    }
}
