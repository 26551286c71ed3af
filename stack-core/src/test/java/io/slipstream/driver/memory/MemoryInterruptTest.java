package io.slipstream.driver.memory;

import static io.slipstream.driver.memory.StackEnd.config;
import static io.slipstream.driver.memory.StackEnd.frame;
import static io.slipstream.driver.memory.StackEnd.linkName;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.slipstream.nic.Interrupt;
import io.slipstream.nic.NicCounter;
import io.slipstream.nic.NicTimer;
import io.slipstream.time.VirtualClock;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class MemoryInterruptTest {
    private static final Duration LIVENESS = Duration.ofSeconds(30);
    private static final long FOREVER = TimeUnit.SECONDS.toNanos(60);

    private final VirtualClock clock = new VirtualClock();

    /** Runs {@code interrupt.await(FOREVER)} on a platform thread and waits until it blocks. */
    private static CompletableFuture<Boolean> awaitOnPlatformThread(Interrupt interrupt) throws InterruptedException {
        CompletableFuture<Boolean> result = new CompletableFuture<>();
        Thread t = Thread.ofPlatform().daemon().start(() -> {
            try {
                result.complete(interrupt.await(FOREVER));
            } catch (Throwable e) {
                result.completeExceptionally(e);
            }
        });
        while (t.getState() != Thread.State.TIMED_WAITING && !result.isDone()) {
            Thread.sleep(1);
        }
        return result;
    }

    @Test
    void timerDeliversOneEventOnceTheDeadlinePasses() {
        String link = linkName("timer");
        try (StackEnd a = StackEnd.open(config(link, Map.of()), clock)) {
            NicTimer timer = a.vi.timer();
            timer.arm(clock.nanoTime() + 1_000_000);
            a.poll();
            assertEquals(0, a.timers);
            assertFalse(a.vi.events().hasEvents());
            clock.advance(1_000_000);
            assertTrue(a.vi.events().hasEvents());
            a.poll();
            assertEquals(1, a.timers);
            assertEquals(NicTimer.DISARMED, timer.deadline());
            clock.advance(5_000_000);
            a.poll();
            assertEquals(1, a.timers, "one event per arming");
            assertEquals(1, a.count(NicCounter.TIMER_EVENTS));
        }
    }

    @Test
    void interruptFiresFromAnotherThreadsDeliveryWhileAPlatformThreadAwaits() {
        assertTimeoutPreemptively(LIVENESS, () -> {
            try (StackEnd a = StackEnd.open(config(linkName("irq"), Map.of()), clock);
                    StackEnd b = a.peer(clock)) {
                b.fillRx();
                Interrupt irq = b.vi.interrupt();
                irq.enable();
                assertTrue(irq.isEnabled());
                CompletableFuture<Boolean> fired = awaitOnPlatformThread(irq);
                assertFalse(fired.isDone());

                a.send(frame(1, 100)); // this thread delivers into B

                assertTrue(fired.get());
                assertFalse(irq.isEnabled(), "firing disarms");
                b.poll();
                assertEquals(1, b.wakeups);
                assertEquals(1, b.received.size());
                assertEquals(1, b.count(NicCounter.INTERRUPTS));

                a.send(frame(2, 100));
                assertFalse(irq.await(0), "disarmed: a later event does not fire it");
                b.poll();
                assertEquals(1, b.wakeups);
                a.poll();
            }
        });
    }

    @Test
    void enablingWithAnEventWaitingFiresAtOnce() throws InterruptedException {
        try (StackEnd a = StackEnd.open(config(linkName("pending"), Map.of()), clock);
                StackEnd b = a.peer(clock)) {
            b.fillRx();
            a.send(frame(1, 100));
            Interrupt irq = b.vi.interrupt();
            irq.enable();
            assertFalse(irq.isEnabled());
            assertTrue(irq.await(0));
            b.poll();
            assertEquals(1, b.wakeups);
            assertEquals(1, b.received.size());
            irq.enable();
            assertTrue(irq.isEnabled(), "nothing waiting: stays armed");
            assertFalse(irq.await(0));
            a.poll();
        }
    }

    @Test
    void wakeUnblocksTheWaiterWithoutFiring() {
        assertTimeoutPreemptively(LIVENESS, () -> {
            String link = linkName("wake");
            try (StackEnd a = StackEnd.open(config(link, Map.of()), clock)) {
                Interrupt irq = a.vi.interrupt();
                irq.enable();
                CompletableFuture<Boolean> result = awaitOnPlatformThread(irq);
                irq.wake();
                assertFalse(result.get());
                assertTrue(irq.isEnabled());
                a.poll();
                assertEquals(0, a.wakeups);
                assertEquals(0, a.count(NicCounter.INTERRUPTS));
            }
        });
    }

    @Test
    void anExpiringTimerFiresTheInterruptOfAWaiter() {
        assertTimeoutPreemptively(LIVENESS, () -> {
            String link = linkName("timerirq");
            try (StackEnd a = StackEnd.open(config(link, Map.of()), clock)) {
                a.vi.timer().arm(clock.nanoTime() + 2_000_000);
                Interrupt irq = a.vi.interrupt();
                irq.enable();
                CompletableFuture<Boolean> result = awaitOnPlatformThread(irq);
                // The waiter sleeps no longer than the timer's remaining time, then looks again.
                clock.advance(2_000_000);
                assertTrue(result.get());
                a.poll();
                assertEquals(1, a.wakeups);
                assertEquals(1, a.timers);
            }
        });
    }

    @Test
    void aDelayedFrameFiresTheInterruptOfAWaiterWhenItsTimeComes() {
        assertTimeoutPreemptively(LIVENESS, () -> {
            try (StackEnd a = StackEnd.open(config(linkName("delayirq"), Map.of(Impairments.DELAY_USEC.name(), "2000")), clock);
                    StackEnd b = a.peer(clock)) {
                b.fillRx();
                a.send(frame(1, 100));
                Interrupt irq = b.vi.interrupt();
                irq.enable();
                assertTrue(irq.isEnabled(), "the frame is still on the wire");
                CompletableFuture<Boolean> result = awaitOnPlatformThread(irq);
                // Neither stack polls: the waiter itself releases the frame once it is due.
                clock.advance(2_000_000);
                assertTrue(result.get());
                b.poll();
                assertEquals(1, b.received.size());
                a.poll();
                assertEquals(1, a.completions);
            }
        });
    }

    @Test
    void awaitTimesOutWithoutFiring() throws InterruptedException {
        String link = linkName("timeout");
        try (StackEnd a = StackEnd.open(config(link, Map.of()), clock)) {
            a.vi.interrupt().enable();
            assertFalse(a.vi.interrupt().await(TimeUnit.MILLISECONDS.toNanos(5)));
            assertTrue(a.vi.interrupt().isEnabled());
        }
    }

    @Test
    void closeWakesAWaiter() {
        assertTimeoutPreemptively(LIVENESS, () -> {
            String link = linkName("closewake");
            StackEnd a = StackEnd.open(config(link, Map.of()), clock);
            a.vi.interrupt().enable();
            CompletableFuture<Boolean> result = awaitOnPlatformThread(a.vi.interrupt());
            a.close();
            assertFalse(result.get());
        });
    }
}
