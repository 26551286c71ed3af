package io.slipstream.stack;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class StackLockTest {
    private final StackLock lock = new StackLock();
    private final List<Integer> ran = new ArrayList<>();

    StackLockTest() {
        lock.deferredWork(ran::add);
    }

    @Test
    void busyLockRecordsDeferredWorkThatTheHolderRunsBeforeReleasing() throws Exception {
        assertTrue(lock.tryLock());
        Thread other = Thread.ofPlatform().start(() -> {
            assertFalse(lock.tryLockOrDefer(StackLock.POLL_NEEDED));
            assertFalse(lock.tryLockOrDefer(StackLock.TX_PENDING));
        });
        other.join();
        assertEquals(StackLock.POLL_NEEDED | StackLock.TX_PENDING, lock.deferredBits());
        assertTrue(ran.isEmpty(), "nothing runs before the release");
        lock.unlock();
        assertEquals(List.of(StackLock.POLL_NEEDED | StackLock.TX_PENDING), ran);
        assertEquals(0, lock.deferredBits());
        assertFalse(lock.isLocked());
    }

    @Test
    void workDeferredWhileDeferredWorkRunsIsRunBeforeTheRelease() throws Exception {
        lock.deferredWork(bits -> {
            ran.add(bits);
            if (ran.size() == 1) {
                Thread t = Thread.ofPlatform().start(() -> assertFalse(lock.tryLockOrDefer(StackLock.WAKE_NEEDED)));
                try {
                    t.join();
                } catch (InterruptedException e) {
                    throw new AssertionError(e);
                }
            }
        });
        assertTrue(lock.tryLock());
        Thread.ofPlatform().start(() -> lock.tryLockOrDefer(StackLock.POLL_NEEDED)).join();
        lock.unlock();
        assertEquals(List.of(StackLock.POLL_NEEDED, StackLock.WAKE_NEEDED), ran);
        assertFalse(lock.isLocked());
    }

    @Test
    void reentrantHoldsRunDeferredWorkOnlyAtTheOutermostRelease() throws Exception {
        lock.lock();
        assertTrue(lock.tryLock());
        lock.lock();
        Thread.ofPlatform().start(() -> lock.tryLockOrDefer(StackLock.POLL_NEEDED)).join();
        lock.unlock();
        lock.unlock();
        assertTrue(ran.isEmpty());
        assertTrue(lock.isHeldByCurrentThread());
        lock.unlock();
        assertEquals(List.of(StackLock.POLL_NEEDED), ran);
        assertFalse(lock.isLocked());
    }

    @Test
    void unlockByANonOwnerIsRefused() {
        assertThrows(IllegalMonitorStateException.class, lock::unlock);
    }

    @Test
    void aBlockedLockerMarksTheLockContendedAndIsWokenByTheRelease() throws Exception {
        lock.lock();
        CountDownLatch acquired = new CountDownLatch(1);
        Thread waiter = Thread.ofPlatform().start(() -> {
            lock.lock();
            acquired.countDown();
            lock.unlock();
        });
        RuntimeFixture.eventually(lock::isContended, "the waiter marks the lock contended");
        assertEquals(1, acquired.getCount());
        lock.unlock();
        assertTimeoutPreemptively(Duration.ofSeconds(20), () -> {
            acquired.await();
            waiter.join();
        });
        assertFalse(lock.isLocked());
        assertFalse(lock.isContended());
    }

    @Test
    void manyVirtualThreadsContendingExcludeEachOther() {
        int threads = 2000;
        int rounds = 200;
        int[] shared = {0};
        AtomicInteger done = new AtomicInteger();
        assertTimeoutPreemptively(Duration.ofSeconds(60), () -> {
            List<Thread> all = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                all.add(Thread.ofVirtual().start(() -> {
                    for (int i = 0; i < rounds; i++) {
                        lock.lock();
                        try {
                            int v = shared[0];
                            if ((i & 7) == 0) {
                                Thread.yield(); // let others in while we hold it
                            }
                            shared[0] = v + 1;
                        } finally {
                            lock.unlock();
                        }
                    }
                    done.incrementAndGet();
                }));
            }
            for (Thread t : all) {
                t.join();
            }
        });
        assertEquals(threads, done.get());
        assertEquals(threads * rounds, shared[0]);
        assertFalse(lock.isLocked());
    }
}
