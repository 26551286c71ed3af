package io.slipstream.driver.tap;

import static io.slipstream.driver.tap.TapSandbox.PEER_IP;
import static io.slipstream.driver.tap.TapSandbox.STEP;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.slipstream.buffer.PacketBuffer;
import io.slipstream.nic.Interrupt;
import io.slipstream.nic.NicCounter;
import io.slipstream.wire.Arp;
import io.slipstream.wire.MacAddress;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * The TAP interrupt as the stack's interrupt thread sees it: a platform thread blocked in
 * {@link Interrupt#await} is released by a frame, by {@link Interrupt#wake()} and by the NIC
 * timer, and only the first and last fire it.
 */
class TapInterruptTest extends SandboxedTapTest {
    @Test
    void arrivingFrameFiresTheInterrupt() throws InterruptedException {
        Interrupt irq = box.vi.interrupt();
        box.pump(); // rx buffers posted, nothing pending
        irq.enable();
        assertTrue(irq.isEnabled());
        Waiter waiter = Waiter.blocked(irq);

        // The kernel's ARP reply is the frame that arrives while the waiter sleeps.
        box.send(box.arpFrame(MacAddress.BROADCAST, Arp.OP_REQUEST, MacAddress.ZERO, PEER_IP));

        assertTrue(waiter.result(), "await returns true: the interrupt fired");
        assertFalse(irq.isEnabled(), "firing disables the interrupt");
        assertEquals(1, box.vi.stats().get(NicCounter.INTERRUPTS));
        PacketBuffer reply = box.awaitFrame("the ARP reply", b -> TapSandbox.isArp(b, Arp.OP_REPLY));
        reply.release(box.vi.stackOwner());
        assertEquals(1, box.events.wakeups, "exactly one WAKEUP event per firing");
    }

    @Test
    void wakeReleasesTheWaiterWithoutFiring() throws InterruptedException {
        Interrupt irq = box.vi.interrupt();
        Waiter waiter = Waiter.blocked(irq);

        irq.wake();

        assertFalse(waiter.result(), "woken, not fired");
        assertFalse(irq.isEnabled());
        assertEquals(0, box.vi.stats().get(NicCounter.INTERRUPTS));
        box.pump();
        assertEquals(0, box.events.wakeups, "no WAKEUP event without a firing");
    }

    @Test
    void enablingWhileAThreadWaitsWatchesTheDeviceFromThenOn() throws InterruptedException {
        Interrupt irq = box.vi.interrupt();
        box.pump();
        Waiter waiter = Waiter.blocked(irq);
        // A frame arrives while the interrupt is off: the waiter does not watch the device...
        box.send(box.arpFrame(MacAddress.BROADCAST, Arp.OP_REQUEST, MacAddress.ZERO, PEER_IP));
        Thread.sleep(100); // lets the reply arrive first, usually; if it comes later it fires all the same
        assertTrue(waiter.thread.isAlive(), "a disabled interrupt does not fire");

        irq.enable(); // ...but a frame already waiting fires it as soon as it is enabled.

        assertTrue(waiter.result());
        assertEquals(1, box.vi.stats().get(NicCounter.INTERRUPTS));
    }

    @Test
    void nicTimerDeadlineEndsTheWaitAndPollDeliversTimer() throws InterruptedException {
        Interrupt irq = box.vi.interrupt();
        box.vi.timer().arm(System.nanoTime() + Duration.ofMillis(30).toNanos());
        irq.enable();
        Waiter waiter = Waiter.start(irq);

        assertTrue(waiter.result(), "the timer fires the interrupt");
        box.vi.events().poll(box.events, 64);
        assertEquals(1, box.events.wakeups);
        assertEquals(1, box.events.timers, "poll delivers the TIMER event");
        assertEquals(1, box.vi.stats().get(NicCounter.TIMER_EVENTS));
        box.vi.events().poll(box.events, 64);
        assertEquals(1, box.events.timers, "one event per arming");
    }

    @Test
    void timerArmedWhileTheWaiterSleepsIsNoticed() throws InterruptedException {
        Interrupt irq = box.vi.interrupt();
        irq.enable();
        Waiter waiter = Waiter.blocked(irq); // no deadline yet: it sleeps until the 10 s timeout

        box.vi.timer().arm(System.nanoTime() + Duration.ofMillis(20).toNanos());

        assertTrue(waiter.result(), "the earlier deadline is taken into account");
        box.vi.events().poll(box.events, 64);
        assertEquals(1, box.events.timers);
    }

    @Test
    void awaitWithoutWaitingReportsWhatIsAlreadyThere() throws InterruptedException {
        Interrupt irq = box.vi.interrupt();
        irq.enable();
        assertFalse(irq.await(0), "nothing waiting: returns at once");
        assertTrue(irq.isEnabled());
        box.vi.timer().arm(System.nanoTime() - 1);
        assertTrue(irq.await(0), "an expired timer fires it");
        assertFalse(irq.isEnabled());
        box.vi.events().poll(box.events, 64);
        assertEquals(1, box.events.timers);
        assertEquals(1, box.events.wakeups);
    }

    /** A platform thread blocked in {@link Interrupt#await}, as the stack's interrupt thread is. */
    private static final class Waiter {
        final Thread thread;
        final AtomicReference<Object> outcome = new AtomicReference<>();

        private Waiter(Interrupt irq) {
            long timeoutNanos = STEP.multipliedBy(2).toNanos();
            thread = Thread.ofPlatform().name("tap-interrupt-test").daemon().unstarted(() -> {
                try {
                    outcome.set(irq.await(timeoutNanos));
                } catch (Throwable t) {
                    outcome.set(t);
                }
            });
        }

        /** Starts a thread in {@code await} with a timeout of twice {@link TapSandbox#STEP}. */
        static Waiter start(Interrupt irq) {
            Waiter w = new Waiter(irq);
            w.thread.start();
            return w;
        }

        /** Starts one and returns once it sleeps in poll(2). */
        static Waiter blocked(Interrupt irq) throws InterruptedException {
            Waiter w = start(irq);
            w.blockedInPoll();
            return w;
        }

        /** Waits (bounded) until the thread sits in poll(2) ({@code Libc.awaitReady}), so what follows happens while it sleeps. */
        void blockedInPoll() throws InterruptedException {
            long deadline = System.nanoTime() + STEP.toNanos();
            while (System.nanoTime() - deadline < 0) {
                for (StackTraceElement e : thread.getStackTrace()) {
                    if (e.getClassName().equals("io.slipstream.linux.Libc") && e.getMethodName().equals("awaitReady")) {
                        return;
                    }
                }
                if (!thread.isAlive()) {
                    fail("the waiter returned early: " + outcome.get());
                }
                Thread.sleep(1);
            }
            fail("the waiter never blocked in poll");
        }

        boolean result() throws InterruptedException {
            thread.join(STEP.toMillis());
            Object o = outcome.get();
            if (thread.isAlive() || o == null) {
                thread.interrupt();
                return fail("await did not return within " + STEP);
            }
            if (o instanceof Throwable t) {
                return fail("await threw", t);
            }
            return (Boolean) o;
        }
    }
}
