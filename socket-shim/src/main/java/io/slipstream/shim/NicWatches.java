package io.slipstream.shim;

import io.slipstream.shim.kernel.EpollSet;
import io.slipstream.stack.Stack;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/**
 * How a thread that waits in its own epoll set on kernel descriptors (a selector holding kernel
 * channels beside accelerated ones, or accelerated ones of several stacks) also waits on the
 * stacks' NICs, as onload's epoll does (docs/ARCHITECTURE.md, "How a selector waits"): for each
 * stack it holds duplicates of the descriptors the NIC interrupt polls
 * ({@link Stack#nicDescriptors()}), registered one-shot in that epoll set and armed before a
 * sleep only when the stack's interrupt rules say nobody else will poll ({@link Stack#watchNic()}).
 * A frame then wakes the waiter itself, which polls the stack ({@link Stack#serviceNicWatch()}):
 * no interrupt thread, no stall rescue.
 *
 * <p>Duplicates, so that the registrations and their numbers are this set's alone: the stack
 * may close its own descriptors at any time, and a number it freed may come back as a channel's,
 * which a registration by that number would then confuse. A watch on a closed stack is dropped
 * at the next {@link #update}. A stack whose NIC has no descriptors (the in-memory one) is
 * polled and its readiness callbacks signal the waiter, as before.
 *
 * <p>Race: the waiter polls the stack, asks the rules, arms (epoll_ctl MOD re-checks the
 * level, so a frame that arrived after the poll is reported at once), then sleeps; a frame
 * is consumed once, by whoever polls under the stack lock.
 *
 * <p>Used by the waiting thread only.
 */
final class NicWatches implements AutoCloseable {
    /** One stack's watch. */
    private static final class Watch {
        final Stack stack;
        /** This set's duplicates of the NIC's descriptors, taken at the first arm; empty for a NIC without any. */
        int[] fds;
        /** Registered with POLLIN and not reported since (one-shot). */
        boolean armed;
        /** Marks the watches still wanted during {@link #update}. */
        boolean wanted;

        Watch(Stack stack) {
            this.stack = stack;
        }
    }

    private static final int[] NONE = {};

    private final EpollSet epoll;
    /** Walked by index on every select: no iterator per walk. */
    private final List<Watch> watches = new ArrayList<>(2);

    NicWatches(EpollSet epoll) {
        this.epoll = epoll;
    }

    boolean isEmpty() {
        return watches.isEmpty();
    }

    /** Starts marking the stacks still wanted; follow with {@link #want} for each and {@link #endUpdate}. */
    void update() {
        for (int i = 0; i < watches.size(); i++) {
            Watch w = watches.get(i);
            w.wanted = false;
        }
    }

    /** The waiter has sockets of {@code stack} (once or more per update). */
    void want(Stack stack) {
        if (stack.isClosed()) {
            return;
        }
        for (int i = 0; i < watches.size(); i++) {
            Watch w = watches.get(i);
            if (w.stack == stack) {
                w.wanted = true;
                return;
            }
        }
        Watch w = new Watch(stack);
        w.wanted = true;
        watches.add(w);
    }

    /** Drops the watches no longer wanted and those of closed stacks. */
    void endUpdate() {
        for (int i = watches.size() - 1; i >= 0; i--) {
            Watch w = watches.get(i);
            if (!w.wanted || w.stack.isClosed()) {
                watches.remove(i);
                release(w);
            }
        }
    }

    /** Whether a watched stack closed since the last update (which then drops it). */
    boolean anyClosed() {
        for (int i = 0; i < watches.size(); i++) {
            Watch w = watches.get(i);
            if (w.stack.isClosed()) {
                return true;
            }
        }
        return false;
    }

    /** The select poll hook on every watched stack. */
    void pollStacks() {
        for (int i = 0; i < watches.size(); i++) {
            watches.get(i).stack.pollHook();
        }
    }

    /**
     * How long to spin before sleeping: the longest {@code slipstream.poll.usec} of the stacks,
     * -1 for spinning without limit.
     */
    private long spinNanos() {
        long spin = 0;
        for (int i = 0; i < watches.size(); i++) {
            Watch w = watches.get(i);
            long s = w.stack.runtimeConfig().spinNanos();
            if (s < 0) {
                return -1;
            }
            spin = Math.max(spin, s);
        }
        return spin;
    }

    /** What ends a {@link #await} before anything is ready in the epoll set; reads flags only. */
    @FunctionalInterface
    interface Done {
        boolean done();

        /**
         * Called once the spin is over, right before the sleep: the waiter stops spinning (from
         * now on readiness must reach it through the eventfd) and says whether it may still
         * sleep, having looked once more after saying so.
         */
        default boolean mayBlock() {
            return !done();
        }
    }

    /**
     * The wait (onload's epoll): spins over a zero-timeout epoll_wait and the stacks' poll hooks
     * for {@link #spinNanos()}, then sleeps in epoll_wait with each stack's NIC descriptors
     * armed as its interrupt rules say ({@link #arm}), no longer than to its next protocol
     * timer. Returns the epoll entries to process (entries of {@link EpollSet#NIC} go to
     * {@link #fired}), 0 when {@code done} or the time ran out. {@code waitNanos}: -1 without
     * limit. A thread interrupt is seen when epoll_wait returns, as for any kernel wait; a
     * virtual thread parks instead of blocking in epoll_wait ({@link EpollSet#await}).
     */
    int await(long waitNanos, Done done) throws IOException {
        long start = System.nanoTime();
        long spin = spinNanos();
        for (;;) {
            int n = epoll.await(0);
            if (n > 0 || done.done()) {
                return n;
            }
            long spun = System.nanoTime() - start;
            if ((spin >= 0 && spun >= spin) || (waitNanos >= 0 && spun >= waitNanos)) {
                break;
            }
            pollStacks();
            if (done.done()) { // readiness the poll found, seen without a round trip through the eventfd
                return 0;
            }
        }
        if (!done.mayBlock()) {
            return epoll.await(0);
        }
        long left = waitNanos < 0 ? -1 : Math.max(0, waitNanos - (System.nanoTime() - start));
        long sleepNanos = arm(left);
        // epoll_wait counts milliseconds: rounded up, so a timer is never polled before it is due.
        return epoll.await(sleepNanos < 0 ? -1 : (int) Math.min(Integer.MAX_VALUE, (sleepNanos + 999_999) / 1_000_000));
    }

    /**
     * Right before a sleep: arms each stack's descriptors that its rules say must be watched
     * (disarming those they say not to), and returns how long the sleep may last, shortened to
     * the earliest NIC timer of a watched stack so that its protocol timers run on time.
     */
    private long arm(long waitNanos) throws IOException {
        long wait = waitNanos;
        for (int i = 0; i < watches.size(); i++) {
            Watch w = watches.get(i);
            if (w.fds == null) {
                w.fds = addNic(w.stack.nicDescriptors());
            }
            if (w.fds.length == 0) {
                continue;
            }
            boolean watch = w.stack.watchNic();
            if (watch != w.armed) {
                for (int fd : w.fds) {
                    epoll.armNic(fd, watch);
                }
                w.armed = watch;
            }
            if (watch) {
                long timer = w.stack.nicTimerRemainingNanos();
                wait = wait < 0 ? timer : Math.min(wait, timer);
            }
        }
        return wait == Long.MAX_VALUE ? -1 : wait;
    }

    /**
     * An epoll entry whose data has {@link EpollSet#NIC}: its one-shot registration fired, so the
     * waiter polls that stack now. Returns false if no watch has that descriptor (dropped since).
     */
    boolean fired(long data) {
        int fd = (int) (data & ~EpollSet.NIC);
        for (int i = 0; i < watches.size(); i++) {
            Watch w = watches.get(i);
            for (int f : w.fds == null ? NONE : w.fds) {
                if (f == fd) {
                    w.armed = false;
                    w.stack.serviceNicWatch();
                    return true;
                }
            }
        }
        return false;
    }

    @Override
    public void close() {
        for (int i = 0; i < watches.size(); i++) {
            Watch w = watches.get(i);
            release(w);
        }
        watches.clear();
    }

    private void release(Watch w) {
        if (w.fds != null) {
            for (int fd : w.fds) {
                epoll.removeNic(fd);
            }
        }
    }

    /** This set's duplicates of {@code nicFds}, registered disarmed. */
    private int[] addNic(int[] nicFds) throws IOException {
        int[] fds = new int[nicFds.length];
        int added = 0;
        try {
            for (; added < nicFds.length; added++) {
                fds[added] = epoll.addNic(nicFds[added]);
            }
        } catch (IOException e) {
            for (int i = 0; i < added; i++) {
                epoll.removeNic(fds[i]);
            }
            throw e;
        }
        return fds;
    }
}
