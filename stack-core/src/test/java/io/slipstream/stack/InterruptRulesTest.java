package io.slipstream.stack;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.slipstream.stack.StackRuntime.InterruptDecision;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * onload's interrupt-enable rules, the interrupt service routine's trylock hand-off and the
 * poll hook, each driven through a fixed interleaving: the interrupt thread is off, the test
 * plays it by calling the service routine, and a second thread holds the lock where a rule
 * needs one.
 */
class InterruptRulesTest {

    @Test
    void nobodyElseWillPollSoTheInterruptIsEnabled() {
        try (RuntimeFixture f = new RuntimeFixture()) {
            f.entered(() -> assertEquals(InterruptDecision.ENABLED, f.runtime.decideInterrupt()));
            assertTrue(f.stack.interruptsEnabled());
            assertTrue(f.stack.nic().interrupt().isEnabled());
            assertEquals(1, f.count(RuntimeCounter.INTERRUPTS_ENABLED));
        }
    }

    @Test
    void rule2AlreadyEnabledIsNotEnabledAgain() {
        try (RuntimeFixture f = new RuntimeFixture()) {
            f.entered(() -> {
                assertEquals(InterruptDecision.ENABLED, f.runtime.decideInterrupt());
                assertEquals(InterruptDecision.SUPPRESSED_ALREADY_ENABLED, f.runtime.decideInterrupt());
            });
            assertEquals(1, f.count(RuntimeCounter.INTERRUPTS_ENABLED));
            assertEquals(1, f.count(RuntimeCounter.INTERRUPT_SUPPRESSED_ALREADY_ENABLED));
        }
    }

    @Test
    void rule1ContendedLockIsNotEnabledBecauseTheContenderWillPoll() throws Exception {
        try (RuntimeFixture f = new RuntimeFixture()) {
            f.stack.enter();
            Thread contender = Thread.ofPlatform().start(() -> {
                f.stack.enter();
                f.stack.exit();
            });
            try {
                RuntimeFixture.eventually(f.stack.lock()::isContended, "the second thread waits for the lock");
                assertEquals(InterruptDecision.SUPPRESSED_LOCK_BUSY, f.runtime.decideInterrupt());
                assertFalse(f.stack.interruptsEnabled());
            } finally {
                f.stack.exit();
            }
            contender.join();
            assertEquals(1, f.count(RuntimeCounter.INTERRUPT_SUPPRESSED_LOCK_BUSY));
            assertEquals(0, f.count(RuntimeCounter.INTERRUPTS_ENABLED));
            // The contender asked for a poll (it found the lock busy) and we ran it before releasing.
            assertEquals(1, f.count(RuntimeCounter.DEFERRED_POLLS));
        }
    }

    @Test
    void rule1HeldLockLeavesPollAndDecisionToTheHolder() throws Exception {
        try (RuntimeFixture f = new RuntimeFixture()) {
            RuntimeFixture.Holder holder = f.holdLockInAnotherThread();
            AtomicInteger result = new AtomicInteger(99);
            Thread waiter = Thread.ofPlatform().start(() -> result.set(f.stack.await(f.queue, f.readable, -1)));
            RuntimeFixture.eventually(() -> f.count(RuntimeCounter.PARKS) == 1, "the waiter parks");
            assertEquals(1, f.count(RuntimeCounter.INTERRUPT_SUPPRESSED_LOCK_BUSY));
            assertEquals(StackLock.POLL_NEEDED | StackLock.WAKE_NEEDED, f.stack.lock().deferredBits());
            assertFalse(f.stack.interruptsEnabled(), "a blocked thread found the lock held: it does not enable");

            holder.release();
            // The holder's release polled for the waiter and, with the waiter still blocked,
            // decided for it: nobody else will poll, so it enabled the interrupt.
            assertEquals(1, f.count(RuntimeCounter.DEFERRED_POLLS));
            assertEquals(1, f.count(RuntimeCounter.DEFERRED_WORK_RUNS));
            assertEquals(1, f.count(RuntimeCounter.INTERRUPTS_ENABLED));
            assertTrue(f.stack.interruptsEnabled());
            assertTrue(f.stack.nic().interrupt().isEnabled());

            f.sendToSelf();
            waiter.join();
            assertEquals(Stack.READY, result.get());
        }
    }

    @Test
    void rule3LastPollWokeBlockedThreadsSoTheyWillPoll() throws Exception {
        try (RuntimeFixture f = new RuntimeFixture()) {
            // A waiter on the socket's queue (this thread's own, so the interleaving is fixed).
            Waiter w = new Waiter();
            w.arm();
            f.queue.add(w);
            f.stack.enter();
            try {
                f.sender.send(java.nio.ByteBuffer.wrap(new byte[] {9}), RuntimeFixture.ADDRESS, RuntimeFixture.PORT);
                f.stack.poll(); // delivers the datagram: the socket turns readable and wakes the waiter
                assertTrue(w.woken());
                assertEquals(1, f.count(RuntimeCounter.THREADS_WOKEN));
                assertEquals(InterruptDecision.SUPPRESSED_THREADS_WOKEN, f.runtime.decideInterrupt());
                assertFalse(f.stack.interruptsEnabled());
                f.stack.poll(); // wakes nobody
                assertEquals(InterruptDecision.ENABLED, f.runtime.decideInterrupt());
            } finally {
                f.stack.exit();
                f.queue.remove(w);
            }
            assertEquals(1, f.count(RuntimeCounter.INTERRUPT_SUPPRESSED_THREADS_WOKEN));
            assertEquals(1, f.count(RuntimeCounter.INTERRUPTS_ENABLED));
        }
    }

    @Test
    void interruptServiceThatFindsTheLockHeldHandsTheWorkToTheHolder() throws Exception {
        try (RuntimeFixture f = new RuntimeFixture()) {
            f.entered(() -> f.runtime.decideInterrupt());
            RuntimeFixture.Holder holder = f.holdLockInAnotherThread();
            long eventsBefore = f.stack.counters().get(StackCounter.EVENTS);
            f.deliver(RuntimeFixture.FOREIGN_FRAME);
            assertEquals(1, f.interruptsFired());

            assertFalse(f.runtime.serviceInterrupt(), "the lock is held: trylock fails");
            assertEquals(1, f.count(RuntimeCounter.INTERRUPT_HANDOFFS));
            assertEquals(0, f.count(RuntimeCounter.INTERRUPT_POLLS));
            assertEquals(StackLock.POLL_NEEDED | StackLock.WAKE_NEEDED, f.stack.lock().deferredBits());
            assertFalse(f.stack.interruptsEnabled(), "the flag is cleared before the hand-off");
            assertEquals(eventsBefore, f.stack.counters().get(StackCounter.EVENTS));

            holder.release();
            assertEquals(1, f.count(RuntimeCounter.DEFERRED_POLLS));
            // The wakeup event and the frame were processed by the holder.
            assertEquals(eventsBefore + 2, f.stack.counters().get(StackCounter.EVENTS));
            assertEquals(1, f.stack.counters().get(StackCounter.RX_NOT_FOR_US));
            // Nobody waits: the holder's WAKE_NEEDED work had nothing to enable the interrupt for.
            assertFalse(f.stack.interruptsEnabled());
            assertEquals(1, f.count(RuntimeCounter.INTERRUPTS_ENABLED));
        }
    }

    @Test
    void interruptServiceProcessesAndReenablesOnlyWhileSomebodyWaits() throws Exception {
        try (RuntimeFixture f = new RuntimeFixture()) {
            AtomicInteger result = new AtomicInteger(99);
            Thread waiter = Thread.ofPlatform().start(() -> result.set(f.stack.await(f.queue, f.readable, -1)));
            RuntimeFixture.eventually(() -> f.count(RuntimeCounter.PARKS) == 1, "the waiter parks");
            assertTrue(f.stack.interruptsEnabled());

            f.deliver(RuntimeFixture.FOREIGN_FRAME);
            assertTrue(f.runtime.serviceInterrupt());
            assertEquals(1, f.count(RuntimeCounter.INTERRUPT_POLLS));
            assertEquals(1, f.count(RuntimeCounter.INTERRUPTS_REENABLED), "the waiter still waits");
            assertTrue(f.stack.interruptsEnabled());
            assertTrue(f.stack.nic().interrupt().isEnabled());

            f.sendToSelf();
            waiter.join();
            assertEquals(Stack.READY, result.get());
            assertEquals(0, f.stack.blockedThreads());

            f.deliver(RuntimeFixture.FOREIGN_FRAME);
            assertTrue(f.runtime.serviceInterrupt());
            assertEquals(1, f.count(RuntimeCounter.INTERRUPTS_REENABLED), "nobody waits any more");
            assertFalse(f.stack.interruptsEnabled());
        }
    }

    @Test
    void pollHookSkipsTheUpdateWhileInterruptsAreEnabled() {
        try (RuntimeFixture f = new RuntimeFixture()) {
            assertTrue(f.stack.pollHook(), "interrupts off: the hook polls");
            long appPolls = f.count(RuntimeCounter.APP_POLLS);
            f.entered(() -> f.runtime.decideInterrupt());
            appPolls = f.count(RuntimeCounter.APP_POLLS);
            assertFalse(f.stack.pollHook(), "interrupts on: the stack is up to date");
            assertFalse(f.stack.pollHook());
            assertEquals(2, f.count(RuntimeCounter.POLL_HOOK_SKIPS));
            assertEquals(appPolls, f.count(RuntimeCounter.APP_POLLS), "no poll pass ran");

            f.deliver(RuntimeFixture.FOREIGN_FRAME);
            f.runtime.serviceInterrupt(); // nobody waits: the flag is cleared
            assertTrue(f.stack.pollHook());
            assertEquals(appPolls + 1, f.count(RuntimeCounter.APP_POLLS));
        }
    }

    @Test
    void pollHookThatFindsTheLockHeldAsksTheHolderToPoll() throws Exception {
        try (RuntimeFixture f = new RuntimeFixture()) {
            RuntimeFixture.Holder holder = f.holdLockInAnotherThread();
            assertFalse(f.stack.pollHook());
            assertEquals(StackLock.POLL_NEEDED, f.stack.lock().deferredBits());
            holder.release();
            assertEquals(1, f.count(RuntimeCounter.DEFERRED_POLLS));
        }
    }

    @Test
    void aFlushRequestedWhileTheLockIsHeldIsRunByTheHolder() throws Exception {
        try (RuntimeFixture f = new RuntimeFixture()) {
            RuntimeFixture.Holder holder = f.holdLockInAnotherThread();
            f.stack.requestFlush();
            assertEquals(StackLock.TX_PENDING, f.stack.lock().deferredBits());
            holder.release();
            assertEquals(0, f.stack.lock().deferredBits());
            assertEquals(1, f.count(RuntimeCounter.DEFERRED_WORK_RUNS));
            assertEquals(0, f.count(RuntimeCounter.DEFERRED_POLLS), "a flush is not a poll");
        }
    }

    @Test
    void blockedWaitEndsOnThreadInterruptWithTheStatusKept() throws Exception {
        try (RuntimeFixture f = new RuntimeFixture()) {
            AtomicInteger result = new AtomicInteger(99);
            CountDownLatch statusKept = new CountDownLatch(1);
            Thread waiter = Thread.ofVirtual().start(() -> {
                result.set(f.stack.await(f.queue, f.readable, -1));
                if (Thread.currentThread().isInterrupted()) {
                    statusKept.countDown();
                }
            });
            RuntimeFixture.eventually(() -> f.count(RuntimeCounter.PARKS) == 1, "the waiter parks");
            waiter.interrupt();
            waiter.join();
            assertEquals(Stack.INTERRUPTED, result.get());
            assertEquals(0, statusKept.getCount());
            assertEquals(0, f.stack.blockedThreads());
            assertTrue(f.queue.isEmpty());
        }
    }

    @Test
    void timedWaitTimesOutAndZeroTimeoutChecksOnce() {
        try (RuntimeFixture f = new RuntimeFixture()) {
            assertEquals(Stack.TIMED_OUT, f.stack.await(f.queue, f.readable, 0));
            assertEquals(Stack.TIMED_OUT, f.stack.await(f.queue, f.readable, 2_000_000));
            f.sendToSelf();
            assertEquals(Stack.READY, f.stack.await(f.queue, f.readable, 0));
            assertTrue(f.queue.isEmpty());
        }
    }
}
