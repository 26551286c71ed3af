package io.slipstream.stack;

import io.slipstream.nic.NicCounter;
import io.slipstream.testing.RawEnd;
import io.slipstream.testing.StackPair;
import io.slipstream.time.Clock;
import io.slipstream.udp.UdpSocket;
import io.slipstream.wire.Ipv4Address;
import java.net.BindException;
import java.nio.ByteBuffer;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/**
 * A stack on one end of a memory link, the other end held by the test ({@link #deliver}), with
 * a UDP socket whose readiness wakes {@link #queue}: datagrams the stack sends to itself
 * (loopback) make it readable at the next poll pass.
 */
final class RuntimeFixture implements AutoCloseable {
    static final int ADDRESS = Ipv4Address.parse("198.18.7.1");
    static final int PORT = 7000;
    /** A frame for another MAC: a NIC event that the stack counts and drops. */
    static final byte[] FOREIGN_FRAME = new byte[60];
    private static final long PEER_MAC = 0x02_00_00_00_07_02L;

    static {
        FOREIGN_FRAME[0] = 0x02;
        FOREIGN_FRAME[5] = 0x77;
        FOREIGN_FRAME[12] = 0x08; // IPv4 EtherType; never parsed, the MAC is not ours
    }

    final Stack stack;
    /** The stack's runtime, for the tests that play the interrupt thread or ask for a decision. */
    final StackRuntime runtime;
    /** The link's other end: a frame sent there arrives at once in one of the stack's rx buffers. */
    private final RawEnd peer;
    final WaitQueue queue;
    final UdpSocket receiver;
    final UdpSocket sender;
    final WaitCondition readable;

    RuntimeFixture(Map<String, String> extra) {
        String link = StackPair.newLink("runtime");
        Map<String, String> m = new HashMap<>();
        m.put("slipstream.mac", "02:00:00:00:07:01");
        m.put("slipstream.poll.usec", "0");
        m.putAll(extra); // the interrupt thread stays off unless extra turns it on
        stack = Stack.open(StackPair.config(link, "198.18.7.1/24", m), Clock.SYSTEM);
        runtime = stack.runtime();
        peer = new RawEnd(link, PEER_MAC, Clock.SYSTEM);
        queue = stack.newWaitQueue();
        stack.enter();
        try {
            receiver = stack.udp().open();
            receiver.bind(PORT);
            receiver.setReadinessListener(s -> queue.wakeAll());
            sender = stack.udp().open();
            sender.bind(0);
        } catch (BindException e) {
            throw new AssertionError(e);
        } finally {
            stack.exit();
        }
        UdpSocket r = receiver;
        readable = r::isReadable;
    }

    RuntimeFixture() {
        this(Map.of());
    }

    /** Sends one datagram to the receiver through loopback; it arrives at the next poll pass. */
    /** Runs {@code body} as a socket operation does: between the stack's enter() and exit(). */
    void entered(Runnable body) {
        stack.enter();
        try {
            body.run();
        } finally {
            stack.exit();
        }
    }

    void sendToSelf() {
        stack.enter();
        try {
            sender.send(ByteBuffer.wrap(new byte[] {1, 2, 3}), ADDRESS, PORT);
        } catch (BindException e) {
            throw new AssertionError(e);
        } finally {
            stack.exit();
        }
    }

    /**
     * Sends {@code frame} from the link's other end: it lands in a buffer the stack posted, as
     * an RX event, and fires the stack's interrupt if enabled. From the test's thread only.
     */
    void deliver(byte[] frame) {
        peer.send(frame);
    }

    /** How many times the stack's NIC interrupt fired. */
    long interruptsFired() {
        return stack.nic().stats().get(NicCounter.INTERRUPTS);
    }

    long count(RuntimeCounter c) {
        return stack.runtimeCounters().get(c);
    }

    /** Runs {@code body} in another thread that holds the stack lock until {@link Holder#release()}. */
    Holder holdLockInAnotherThread() throws InterruptedException {
        Holder h = new Holder(stack.lock());
        h.start();
        h.held.await();
        return h;
    }

    static final class Holder extends Thread {
        private final StackLock lock;
        final java.util.concurrent.CountDownLatch held = new java.util.concurrent.CountDownLatch(1);
        private final java.util.concurrent.CountDownLatch go = new java.util.concurrent.CountDownLatch(1);

        Holder(StackLock lock) {
            this.lock = lock;
            setDaemon(true);
        }

        @Override
        public void run() {
            lock.lock();
            held.countDown();
            try {
                go.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } finally {
                lock.unlock(); // runs deferred work, in this thread
            }
        }

        /** Releases the lock and waits until the release (with its deferred work) is done. */
        void release() throws InterruptedException {
            go.countDown();
            join();
        }
    }

    @Override
    public void close() {
        stack.close();
        peer.close();
    }

    /** Waits (bounded) until {@code done}; for liveness only, never as a timing assertion. */
    static void eventually(BooleanSupplier done, String what) {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (!done.getAsBoolean()) {
            if (System.nanoTime() - end > 0) {
                throw new AssertionError("not reached within 20 s: " + what);
            }
            Thread.onSpinWait();
            Thread.yield();
        }
    }
}
