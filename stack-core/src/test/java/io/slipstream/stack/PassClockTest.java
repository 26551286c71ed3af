package io.slipstream.stack;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.slipstream.time.Clock;
import io.slipstream.time.VirtualClock;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** The stack's pass clock serves a cached reading to the lock holder of one acquisition only. */
class PassClockTest {
    private final VirtualClock source = new VirtualClock(1_000);
    private final StackLock lock = new StackLock();
    private final PassClock clock = new PassClock(source, lock);

    @Test
    void holderReadsThePassTimeUntilTheNextRefresh() {
        lock.lock();
        try {
            assertEquals(1_000, clock.refresh(System.nanoTime()), "a non-system source is read, not the argument");
            source.advance(500);
            assertEquals(1_000, clock.nanoTime(), "within the pass: the reading taken at its start");
            assertEquals(1_500, clock.refresh(System.nanoTime()));
            assertEquals(1_500, clock.nanoTime());
        } finally {
            lock.unlock();
        }
    }

    @Test
    void reentrantHoldsShareTheAcquisitionsReading() {
        lock.lock();
        try {
            clock.refresh(0);
            source.advance(10);
            lock.lock();
            try {
                assertEquals(1_000, clock.nanoTime());
            } finally {
                lock.unlock();
            }
            assertEquals(1_000, clock.nanoTime());
        } finally {
            lock.unlock();
        }
    }

    @Test
    void threadsNotHoldingTheLockReadTheSource() throws Exception {
        lock.lock();
        try {
            clock.refresh(0);
            source.advance(250);
            AtomicLong seen = new AtomicLong();
            Thread other = Thread.ofPlatform().start(() -> seen.set(clock.nanoTime()));
            other.join();
            assertEquals(1_250, seen.get(), "another thread never sees the holder's cached reading");
        } finally {
            lock.unlock();
        }
        assertEquals(1_250, clock.nanoTime(), "after the release the holder reads the source too");
    }

    @Test
    void aLaterAcquisitionThatDidNotRefreshReadsTheSource() {
        lock.lock();
        try {
            clock.refresh(0);
        } finally {
            lock.unlock();
        }
        source.advance(40);
        lock.lock();
        try {
            assertEquals(1_040, clock.nanoTime(), "the previous hold's reading is not served to this one");
        } finally {
            lock.unlock();
        }
    }

    @Test
    void onTheSystemClockARefreshReusesTheCallersReading() {
        PassClock system = new PassClock(Clock.SYSTEM, lock);
        lock.lock();
        try {
            assertEquals(42, system.refresh(42));
            assertEquals(42, system.nanoTime());
        } finally {
            lock.unlock();
        }
    }
}
