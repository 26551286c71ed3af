package io.slipstream.driver.memory;

import static io.slipstream.driver.memory.StackEnd.config;
import static io.slipstream.driver.memory.StackEnd.frame;
import static io.slipstream.driver.memory.StackEnd.linkName;
import static io.slipstream.driver.memory.StackEnd.seqOf;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.slipstream.nic.NicCounter;
import io.slipstream.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

/**
 * Both ends driven by their own threads at once, with an interrupt thread awaiting on one of
 * them: every frame arrives exactly once, intact and in order, and every buffer comes home.
 */
class MemoryConcurrencyTest {
    private static final int FRAMES = 20_000;
    private static final int WINDOW = 32;

    @Test
    void bothDirectionsAtOnceLoseAndDuplicateNothing() {
        runBothWays(Map.of());
    }

    @Test
    void bothDirectionsAtOnceWithDelayReleasedByWhicheverThreadLooks() {
        runBothWays(Map.of(Impairments.DELAY_USEC.name(), "20"));
    }

    private static void runBothWays(Map<String, String> options) {
        assertTimeoutPreemptively(Duration.ofSeconds(120), () -> {
            String link = linkName("concurrent");
            StackEnd a = StackEnd.open(config(link, options), Clock.SYSTEM);
            StackEnd b = StackEnd.open(config(link, Map.of()), Clock.SYSTEM);
            a.fillRx(); // before either side sends, or the first frames find no buffer
            b.fillRx();
            AtomicBoolean done = new AtomicBoolean();
            CompletableFuture<Integer> irqThread = new CompletableFuture<>();
            Thread.ofPlatform().daemon().start(() -> {
                int fired = 0;
                try {
                    while (!done.get()) {
                        if (b.vi.interrupt().await(TimeUnit.MILLISECONDS.toNanos(1))) {
                            fired++;
                        }
                    }
                    irqThread.complete(fired);
                } catch (Throwable e) {
                    irqThread.completeExceptionally(e);
                }
            });
            CompletableFuture<Void> sideA = CompletableFuture.runAsync(() -> drive(a, b, 0, false), Thread::startVirtualThread);
            CompletableFuture<Void> sideB = CompletableFuture.runAsync(() -> drive(b, a, 1_000_000, true),
                    r -> Thread.ofPlatform().start(r));
            sideA.get();
            sideB.get();
            done.set(true);
            b.vi.interrupt().wake();
            long awaited = irqThread.get();
            b.poll();
            assertEquals(b.count(NicCounter.INTERRUPTS), b.wakeups, "every firing queues exactly one WAKEUP");
            assertTrue(awaited <= b.wakeups, "the waiter saw " + awaited + " of " + b.wakeups + " firings");

            assertEquals(0, a.count(NicCounter.RX_NO_BUFFER));
            assertEquals(0, b.count(NicCounter.RX_NO_BUFFER));
            check(a.received, 1_000_000);
            check(b.received, 0);
            var poolA = a.vi.buffers();
            var poolB = b.vi.buffers();
            a.close();
            b.close();
            assertEquals(0, poolA.outstanding());
            assertEquals(0, poolB.outstanding());
        });
    }

    /**
     * Sends FRAMES frames numbered from {@code firstSeq} and receives FRAMES, polling as it goes.
     * Like a transport's window, at most WINDOW frames are unreceived at a time, so the peer's rx
     * ring (which it refills as it receives) never runs dry.
     */
    private static void drive(StackEnd end, StackEnd peer, int firstSeq, boolean enablesInterrupt) {
        long giveUp = System.nanoTime() + TimeUnit.SECONDS.toNanos(100);
        int sent = 0;
        while (sent < FRAMES || end.received.size() < FRAMES || end.completions < FRAMES) {
            if (System.nanoTime() - giveUp > 0) {
                throw new AssertionError("stuck: sent " + sent + ", received " + end.received.size() + ", completed "
                        + end.completions + ", " + end.vi + ", peer " + peer.vi);
            }
            int burst = 0;
            while (sent < FRAMES && burst < 16 && sent - peer.receivedCount.get() < WINDOW
                    && end.post(frame(firstSeq + sent, 60 + sent % 200))) {
                sent++;
                burst++;
            }
            if (burst > 0) {
                end.vi.tx().doorbell();
            }
            if (enablesInterrupt && sent % 64 == 0) {
                end.vi.interrupt().enable();
            }
            end.poll();
            Thread.onSpinWait();
        }
    }

    private static void check(List<byte[]> received, int firstSeq) {
        assertEquals(FRAMES, received.size());
        for (int i = 0; i < FRAMES; i++) {
            byte[] f = received.get(i);
            assertEquals(firstSeq + i, seqOf(f), "in order, exactly once");
            assertArrayEquals(frame(firstSeq + i, 60 + i % 200), f);
        }
    }
}
