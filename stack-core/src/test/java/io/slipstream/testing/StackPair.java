package io.slipstream.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import io.slipstream.config.Settings;
import io.slipstream.config.StackConfig;
import io.slipstream.stack.Stack;
import io.slipstream.stack.StackCounter;
import io.slipstream.time.VirtualClock;
import io.slipstream.wire.Ipv4Address;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;

/**
 * Two stacks joined back to back by the in-memory NIC, on a virtual clock. The test drives
 * both by polling; when neither has work, virtual time moves on, so retransmissions and
 * timeouts happen without a single sleep.
 */
public final class StackPair implements AutoCloseable {
    public static final int A_ADDRESS = Ipv4Address.parse("198.18.0.1");
    public static final int B_ADDRESS = Ipv4Address.parse("198.18.0.2");
    private static final AtomicInteger LINKS = new AtomicInteger();

    public final VirtualClock clock = new VirtualClock();
    public final Stack a;
    public final Stack b;
    /** Whether this thread entered both stacks at construction (see {@link #entered}). */
    private boolean entered;

    /** @param linkOptions {@code slipstream.memory.*} impairments for the link */
    public StackPair(Map<String, String> linkOptions) {
        String link = newLink("pair");
        a = Stack.open(config(link, "198.18.0.1/24", linkOptions), clock);
        b = Stack.open(config(link, "198.18.0.2/24", linkOptions), clock);
    }

    public StackPair() {
        this(Map.of());
    }

    /**
     * A pair whose stacks this thread has entered ({@link Stack#enter()}) until {@link #close}:
     * the test thread is their one application thread, so it may call their sockets directly,
     * as the entry points require (their asserts check the stack lock), and its polls run
     * under the same lock, taken again.
     */
    public static StackPair entered(Map<String, String> linkOptions) {
        StackPair p = new StackPair(linkOptions);
        p.a.enter();
        p.b.enter();
        p.entered = true;
        return p;
    }

    public static StackPair entered() {
        return entered(Map.of());
    }

    /** A link name no other test in this JVM uses: {@code prefix} and a number. */
    public static String newLink(String prefix) {
        return prefix + LINKS.incrementAndGet();
    }

    /** A stack's settings on the memory link {@code link}, without an interrupt thread unless {@code extra} asks. */
    public static StackConfig config(String link, String cidr, Map<String, String> extra) {
        Map<String, String> m = new HashMap<>(extra);
        m.put("slipstream.driver", "memory");
        m.put("slipstream.interface", link);
        m.put("slipstream.address", cidr);
        // The test thread drives both stacks on virtual time: no interrupt thread polling behind its back.
        m.putIfAbsent("slipstream.interrupt.thread", "false");
        return StackConfig.from(Settings.of(m));
    }

    /** Polls both stacks once; returns the work done. */
    public int poll() {
        return a.poll() + b.poll();
    }

    /**
     * Polls until {@code done}, moving virtual time on by {@code idleStepNanos} whenever both
     * stacks are idle, for at most {@code maxVirtualNanos} of virtual time.
     */
    public void runUntil(BooleanSupplier done, long maxVirtualNanos, long idleStepNanos) {
        long deadline = clock.nanoTime() + maxVirtualNanos;
        int busyPasses = 0;
        while (!done.getAsBoolean()) {
            if (poll() == 0 || ++busyPasses > 100_000) {
                busyPasses = 0;
                if (clock.nanoTime() - deadline >= 0) {
                    fail("condition not reached within " + maxVirtualNanos / 1_000_000 + " ms of virtual time; A="
                            + a.counterSnapshot() + " B=" + b.counterSnapshot());
                }
                clock.advance(idleStepNanos);
            }
        }
    }

    public void runUntil(BooleanSupplier done) {
        runUntil(done, 10_000_000_000L, 1_000_000L);
    }

    /** Polls until neither stack has anything left to do right now. */
    public void settle() {
        for (int i = 0; i < 1_000_000 && poll() > 0; i++) {
            // keep going
        }
    }

    /** Neither stack may have caught an internal error. */
    public void assertHealthy() {
        assertEquals(0, a.counters().get(StackCounter.INTERNAL_ERRORS), () -> "A: " + a.firstInternalError());
        assertEquals(0, b.counters().get(StackCounter.INTERNAL_ERRORS), () -> "B: " + b.firstInternalError());
    }

    @Override
    public void close() {
        if (entered) {
            entered = false;
            a.exit();
            b.exit();
        }
        a.close();
        b.close();
    }
}
