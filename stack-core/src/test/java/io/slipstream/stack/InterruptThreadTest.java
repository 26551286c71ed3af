package io.slipstream.stack;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.slipstream.time.Timer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** The interrupt thread running for real on the memory driver: timers, stall rescue, virtual threads. */
class InterruptThreadTest {

    @Test
    void anEarlierNicTimerDeadlineArmedWhileTheInterruptThreadWaitsWakesIt() throws Exception {
        // Watchdog periods of 30 s: only the timer wake can make the timer fire in time.
        try (RuntimeFixture f = new RuntimeFixture(Map.of("slipstream.interrupt.thread", "true",
                "slipstream.stall.usec", "60000000", "slipstream.interrupt.overflow.usec", "60000000"))) {
            AtomicInteger result = new AtomicInteger(99);
            Thread waiter = Thread.ofVirtual().start(() -> result.set(f.stack.await(f.queue, f.readable, -1)));
            RuntimeFixture.eventually(() -> f.count(RuntimeCounter.PARKS) == 1 && f.stack.interruptsEnabled(),
                    "the waiter parks with the interrupt enabled");
            AtomicLong firedAt = new AtomicLong();
            Timer timer = new Timer((t, now) -> firedAt.set(now));
            f.stack.enter();
            try {
                f.stack.timers().scheduleIn(timer, 2_000_000L);
            } finally {
                f.stack.exit(); // arms the NIC timer, which wakes the interrupt thread's wait
            }
            assertTimeoutPreemptively(Duration.ofSeconds(20),
                    () -> RuntimeFixture.eventually(() -> firedAt.get() != 0, "the timer fires"));
            assertTrue(f.count(RuntimeCounter.INTERRUPT_WAKEUPS) >= 1, f.stack.counterSnapshot().toString());
            // Processed by the interrupt thread, or handed to the lock holder if the test thread
            // was still leaving the stack when the (already due) timer fired.
            assertTrue(f.count(RuntimeCounter.INTERRUPT_POLLS) + f.count(RuntimeCounter.INTERRUPT_HANDOFFS) >= 1);
            assertEquals(1, f.stack.counters().get(StackCounter.TIMER_EVENTS));
            f.sendToSelf();
            waiter.join();
            assertEquals(Stack.READY, result.get());
        }
    }

    @Test
    void eventsLeftUnpolledAreRescuedByTheInterruptThread() {
        try (RuntimeFixture f = new RuntimeFixture(Map.of("slipstream.interrupt.thread", "true"))) {
            long appPolls = f.count(RuntimeCounter.APP_POLLS);
            f.deliver(RuntimeFixture.FOREIGN_FRAME);
            assertTimeoutPreemptively(Duration.ofSeconds(20), () -> RuntimeFixture.eventually(
                    () -> f.stack.counters().get(StackCounter.RX_NOT_FOR_US) == 1, "the frame is processed"));
            assertTrue(f.count(RuntimeCounter.STALL_RESCUES) >= 1);
            assertTrue(f.count(RuntimeCounter.INTERRUPT_POLLS) >= 1);
            assertEquals(appPolls, f.count(RuntimeCounter.APP_POLLS), "no application thread polled");
            assertFalse(f.stack.interruptsEnabled(), "nobody waits: the interrupt stays off");
        }
    }

    @Test
    void thousandsOfBlockedVirtualThreadsAreAllWokenWithoutPinningTheCarriers() throws Exception {
        try (RuntimeFixture f = new RuntimeFixture(Map.of("slipstream.interrupt.thread", "true"))) {
            int n = 5000;
            AtomicInteger ready = new AtomicInteger();
            List<Thread> threads = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                threads.add(Thread.ofVirtual().start(() -> {
                    if (f.stack.await(f.queue, f.readable, -1) == Stack.READY) {
                        ready.incrementAndGet();
                    }
                }));
            }
            // All of them parked at once: far more than there are carrier threads.
            assertTimeoutPreemptively(Duration.ofSeconds(60), () -> RuntimeFixture.eventually(
                    () -> f.stack.blockedThreads() == n && f.queue.size() == n, "every thread blocks"));
            f.sendToSelf();
            assertTimeoutPreemptively(Duration.ofSeconds(60), () -> {
                for (Thread t : threads) {
                    t.join();
                }
            });
            assertEquals(n, ready.get());
            assertEquals(0, f.stack.blockedThreads());
        }
    }

    @Test
    void closingTheStackEndsBlockedWaits() throws Exception {
        RuntimeFixture f = new RuntimeFixture(Map.of("slipstream.interrupt.thread", "true"));
        AtomicInteger result = new AtomicInteger(99);
        Thread waiter = Thread.ofVirtual().start(() -> result.set(f.stack.await(f.queue, f.readable, -1)));
        RuntimeFixture.eventually(() -> f.count(RuntimeCounter.PARKS) == 1, "the waiter parks");
        f.close();
        assertTimeoutPreemptively(Duration.ofSeconds(20), () -> waiter.join());
        assertEquals(Stack.CLOSED, result.get());
    }

    @Test
    void theOverflowIntervalCapsALongStallInterval() {
        try (RuntimeFixture f = new RuntimeFixture(Map.of("slipstream.interrupt.thread", "true",
                "slipstream.stall.usec", "60000000", "slipstream.interrupt.overflow.usec", "1000"))) {
            assertEquals(1_000_000L, f.stack.runtimeConfig().rescueNanos());
            long appPolls = f.count(RuntimeCounter.APP_POLLS);
            f.deliver(RuntimeFixture.FOREIGN_FRAME);
            assertTimeoutPreemptively(Duration.ofSeconds(20), () -> RuntimeFixture.eventually(
                    () -> f.stack.counters().get(StackCounter.RX_NOT_FOR_US) == 1,
                    "rescued well before the 60 s stall interval"));
            assertTrue(f.count(RuntimeCounter.STALL_RESCUES) >= 1);
            assertEquals(appPolls, f.count(RuntimeCounter.APP_POLLS), "no application thread polled");
        }
    }

    @Test
    void whileApplicationThreadsAreActiveTheInterruptThreadRunsAtMostOncePerLatencyInterval() throws Exception {
        // A 30 s latency interval: after its first pass the interrupt thread must hold back.
        try (RuntimeFixture f = new RuntimeFixture(Map.of("slipstream.interrupt.thread", "true",
                "slipstream.interrupt.latency.usec", "30000000"))) {
            AtomicInteger result = new AtomicInteger(99);
            Thread waiter = Thread.ofVirtual().start(() -> result.set(f.stack.await(f.queue, f.readable, -1)));
            RuntimeFixture.eventually(() -> f.count(RuntimeCounter.PARKS) == 1 && f.stack.interruptsEnabled(),
                    "the waiter parks with the interrupt enabled");
            java.util.concurrent.atomic.AtomicBoolean stop = new java.util.concurrent.atomic.AtomicBoolean();
            Thread active = Thread.ofPlatform().start(() -> {
                while (!stop.get()) {
                    f.stack.poll(); // an application thread busy with the stack
                    Thread.onSpinWait();
                }
            });
            try {
                f.deliver(RuntimeFixture.FOREIGN_FRAME);
                RuntimeFixture.eventually(() -> f.stack.counters().get(StackCounter.RX_NOT_FOR_US) == 1, "first frame");
                for (int i = 0; i < 20; i++) {
                    f.deliver(RuntimeFixture.FOREIGN_FRAME);
                    Thread.sleep(10);
                }
                RuntimeFixture.eventually(() -> f.stack.counters().get(StackCounter.RX_NOT_FOR_US) == 21, "all frames");
                // 21 frames, each firing the interrupt the waiter keeps enabled: the interrupt
                // thread ran at most once (its first pass); the active thread processed the rest.
                assertTrue(f.count(RuntimeCounter.INTERRUPT_WAKEUPS) <= 1, f.stack.runtimeCounters().toString());
            } finally {
                stop.set(true);
                active.join();
            }
            f.sendToSelf();
            waiter.join();
            assertEquals(Stack.READY, result.get());
        }
    }

    @Test
    void aHighPacketRateSwitchesToPollingModeAndAQuietWindowSwitchesBack() throws Exception {
        try (RuntimeFixture f = new RuntimeFixture(Map.of("slipstream.poll.rate", "1"))) {
            for (int i = 0; i < 2; i++) { // close the start-up window, then one without traffic
                Thread.sleep(20);
                f.stack.poll();
            }
            assertFalse(f.stack.pollingMode());
            for (int i = 0; i < 5; i++) {
                f.deliver(RuntimeFixture.FOREIGN_FRAME);
            }
            Thread.sleep(2); // past the 1 ms window: 5 packets in it are far above 1 per second
            f.stack.poll();
            assertTrue(f.stack.pollingMode());
            assertTrue(f.count(RuntimeCounter.POLLING_MODE_ENTERED) >= 1);
            Thread.sleep(20);
            f.stack.poll(); // no events in the next window: the rings are empty, back to interrupts
            assertFalse(f.stack.pollingMode());
        }
    }
}
