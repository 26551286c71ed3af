package io.slipstream.driver.poll;

import io.slipstream.linux.EventFd;
import io.slipstream.linux.Libc;
import io.slipstream.nic.Interrupt;
import io.slipstream.nic.NicCounter;
import io.slipstream.nic.NicException;
import io.slipstream.nic.NicStats;
import io.slipstream.nic.NicTimer;
import io.slipstream.nic.SoftwareNicTimer;
import io.slipstream.time.Clock;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.VarHandle;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The interrupt of a driver whose device is a set of descriptors that poll(2) reports readable
 * when frames wait (a TAP device; the AF_XDP sockets of an interface's queues): the waiting
 * thread sleeps in poll(2) on them and an eventfd, with a timeout that ends at the NIC timer's
 * deadline. A readable device descriptor or an expired timer fires the interrupt while it is
 * enabled; the eventfd is how other threads make the waiter look again (wake, enable, a timer
 * armed earlier than it planned for). Shared by the TAP and XDP drivers.
 *
 * <p>The waiter publishes what it is about to wait for ({@link #waiter}, {@link #wakeAt})
 * before it reads the enable flag and the timer; {@link #enable} and {@link TimerView#arm}
 * write first and read the waiter's state after, with full fences between, so at least one of
 * them sees the other and the waiter never sleeps past an event it should see.
 *
 * <p>A Java interrupt of the waiting thread is noticed when poll(2) returns (at the latest at
 * the timeout); {@link #wake()} is the way to unblock it at once.
 */
public final class PollInterrupt implements Interrupt {
    private static final int IDLE = 0;
    /** Between publishing intent and entering poll: anything that changes must kick. */
    private static final int DECIDING = 1;
    /** In poll on the device, eventfd and timer. */
    private static final int WAITING_ENABLED = 2;
    /** In poll on the eventfd only (the interrupt is off). */
    private static final int WAITING_DISABLED = 3;

    private static final int EVENTFD_SLOT = 0;
    private static final long NANOS_PER_MILLI = 1_000_000L;

    /** Names the device in errors ("tap tap0", "xdp eth0"). */
    private final String device;
    private final int[] deviceFds;
    /** Which pollfd slot each device descriptor had in the last wait (-1: not watched). */
    private final int[] slots;
    private final EventFd eventFd;
    private final Clock clock;
    private final NicStats stats;
    private final SoftwareNicTimer timer = new SoftwareNicTimer();
    private final TimerView timerView = new TimerView();
    /** Used only by the thread holding {@link #awaitLock}. */
    private final Libc waiterLibc;
    private final MemorySegment pollFds;
    /** Guarded by itself: kicks come from any thread, and close must not race them. */
    private final Libc kickLibc;

    private final ReentrantLock awaitLock = new ReentrantLock();
    private final AtomicBoolean enabled = new AtomicBoolean();
    private final AtomicBoolean wakeupPending = new AtomicBoolean();
    private final AtomicBoolean wakeRequested = new AtomicBoolean();
    private volatile int waiter = IDLE;
    /** Clock time the waiter will wake at by itself (valid while WAITING_ENABLED). */
    private volatile long wakeAt = Long.MAX_VALUE;
    /** Written under {@link #kickLibc}'s monitor. */
    private volatile boolean closed;
    /** Per device descriptor: it reported an error without data (device gone), so it is no longer watched. */
    private final boolean[] deviceFailed;

    /**
     * An interrupt over {@code deviceFds} (readable: frames wait) and {@code eventFd} (kicks);
     * its buffers live in {@code arena}. {@code device} names it in errors.
     */
    public PollInterrupt(String device, int[] deviceFds, EventFd eventFd, Clock clock, NicStats stats, Arena arena) {
        this.device = device;
        this.deviceFds = deviceFds.clone();
        this.slots = new int[deviceFds.length];
        this.deviceFailed = new boolean[deviceFds.length];
        this.eventFd = eventFd;
        this.clock = clock;
        this.stats = stats;
        this.waiterLibc = new Libc(arena);
        this.kickLibc = new Libc(arena);
        this.pollFds = Libc.pollFds(arena, 1 + deviceFds.length);
    }

    public NicTimer timer() {
        return timerView;
    }

    /** True once per arming when the NIC timer's deadline has passed (a TIMER event). */
    public boolean expireTimer(long now) {
        return timer.expire(now);
    }

    public boolean timerExpired(long now) {
        return timer.remaining(now) == 0;
    }

    /** Consumes the WAKEUP event that a firing queued, if any. */
    public boolean takeWakeup() {
        return wakeupPending.get() && wakeupPending.getAndSet(false);
    }

    public boolean wakeupPending() {
        return wakeupPending.get();
    }

    @Override
    public void enable() {
        if (!enabled.getAndSet(true)) {
            int w = waiter;
            if (w == DECIDING || w == WAITING_DISABLED) {
                kick(); // it waits without watching the device: make it look again
            }
        }
    }

    @Override
    public boolean isEnabled() {
        return enabled.get();
    }

    @Override
    public void wake() {
        wakeRequested.set(true);
        kick();
    }

    /** The device's descriptors (readable: frames wait); the eventfd is this interrupt's own. */
    @Override
    public int[] descriptors() {
        return deviceFds.clone();
    }

    @Override
    public boolean await(long timeoutNanos) throws InterruptedException {
        awaitLock.lockInterruptibly();
        try {
            return awaitLocked(timeoutNanos);
        } finally {
            waiter = IDLE;
            awaitLock.unlock();
        }
    }

    private boolean awaitLocked(long timeoutNanos) throws InterruptedException {
        // The timeout is a real wait, so it runs on the system clock; the NIC timer's deadline
        // is in the stack's clock, which a test may drive by hand.
        long start = System.nanoTime();
        while (true) {
            if (Thread.interrupted()) {
                throw new InterruptedException();
            }
            if (closed) {
                return false;
            }
            if (wakeRequested.get() && wakeRequested.getAndSet(false)) {
                return false;
            }
            waiter = DECIDING;
            VarHandle.fullFence(); // store-load order: DECIDING is visible before we read flag and timer
            boolean armed = enabled.get();
            long now = clock.nanoTime();
            long timerLeft = armed ? timer.remaining(now) : Long.MAX_VALUE;
            if (timerLeft == 0) {
                return fire();
            }
            long timeoutLeft = timeoutNanos - (System.nanoTime() - start);
            long waitNanos = Math.max(0, Math.min(timeoutLeft, timerLeft));
            wakeAt = waitNanos == Long.MAX_VALUE ? Long.MAX_VALUE : now + waitNanos;
            waiter = armed ? WAITING_ENABLED : WAITING_DISABLED;
            Libc.setPollFd(pollFds, EVENTFD_SLOT, eventFd.fd(), Libc.POLLIN);
            int watched = 1;
            for (int i = 0; i < deviceFds.length; i++) {
                slots[i] = -1;
                if (armed && !deviceFailed[i]) {
                    slots[i] = watched;
                    Libc.setPollFd(pollFds, watched++, deviceFds[i], Libc.POLLIN);
                }
            }
            int ready = waiterLibc.awaitReady(pollFds, watched, pollMillis(waitNanos));
            waiter = IDLE;
            if (ready < 0) {
                throw new NicException(device + " interrupt: " + waiterLibc.failure("poll"));
            }
            if (closed) {
                return false;
            }
            if ((Libc.revents(pollFds, EVENTFD_SLOT) & Libc.POLLIN) != 0) {
                eventFd.drain(waiterLibc);
            }
            boolean readable = false;
            for (int i = 0; i < deviceFds.length; i++) {
                if (slots[i] < 0) {
                    continue;
                }
                short revents = Libc.revents(pollFds, slots[i]);
                if ((revents & Libc.POLLIN) != 0) {
                    readable = true;
                } else if ((revents & (Libc.POLLERR | Libc.POLLHUP | Libc.POLLNVAL)) != 0) {
                    deviceFailed[i] = true; // would report this forever: poll would spin
                }
            }
            if (readable) {
                return fire();
            }
            if (armed && timer.remaining(clock.nanoTime()) == 0) {
                return fire();
            }
            if (timeoutNanos - (System.nanoTime() - start) <= 0) {
                return false;
            }
            // A kick (wake is checked at the top), a re-armed timer or an enable: look again.
        }
    }

    /** poll(2)'s timeout: milliseconds rounded up, so the waiter never wakes before a deadline. */
    public static int pollMillis(long nanos) {
        if (nanos == Long.MAX_VALUE) {
            return -1;
        }
        long millis = nanos / NANOS_PER_MILLI + (nanos % NANOS_PER_MILLI == 0 ? 0 : 1);
        return (int) Math.min(millis, Integer.MAX_VALUE);
    }

    private boolean fire() {
        if (!enabled.compareAndSet(true, false)) {
            return false;
        }
        wakeupPending.set(true);
        stats.increment(NicCounter.INTERRUPTS);
        return true;
    }

    private void kick() {
        synchronized (kickLibc) {
            if (!closed) {
                eventFd.signal(kickLibc);
            }
        }
    }

    /**
     * Stops the interrupt: a waiter returns false, later awaits return at once, and once this
     * returns no thread touches the descriptors again, so the caller may close the device's.
     * Idempotent.
     */
    public void close() {
        synchronized (kickLibc) {
            if (closed) {
                return;
            }
            eventFd.signal(kickLibc);
            closed = true;
        }
        awaitLock.lock(); // the waiter leaves at its next look; later ones see closed
        try {
            eventFd.close(waiterLibc);
        } finally {
            awaitLock.unlock();
        }
    }

    /** The stack's view of the software timer: arming earlier than the waiter plans kicks it. */
    private final class TimerView implements NicTimer {
        @Override
        public void arm(long deadlineNanos) {
            timer.arm(deadlineNanos);
            VarHandle.fullFence(); // store-load order: the deadline is visible before we read the waiter
            int w = waiter;
            if (w == DECIDING || (w == WAITING_ENABLED && deadlineNanos < wakeAt)) {
                kick();
            }
        }

        @Override
        public void disarm() {
            timer.disarm(); // a waiter that wakes for the old deadline finds nothing and waits on
        }

        @Override
        public long deadline() {
            return timer.deadline();
        }
    }
}
