package io.slipstream.shim;

import java.util.concurrent.atomic.AtomicReference;

/** Runs an operation that blocks in another thread, disturbs it, and reports how it ended. */
final class Blocked {
    private Blocked() {}

    /** A blocking operation under test. */
    @FunctionalInterface
    interface Operation {
        void run() throws Exception;
    }

    /** What is done to the blocked thread (interrupt it, close the channel...). */
    @FunctionalInterface
    interface Disturbance {
        void apply(Thread blocked) throws Exception;
    }

    /**
     * Starts {@code op} in a new (virtual or platform) thread, waits until it blocks, applies
     * {@code disturb}, and returns what {@code op} threw (null if it returned).
     */
    static Throwable thrownWhen(boolean virtual, Operation op, Disturbance disturb) throws Exception {
        AtomicReference<Throwable> thrown = new AtomicReference<>();
        Runnable body = () -> {
            try {
                op.run();
            } catch (Throwable t) {
                thrown.set(t);
            }
        };
        Thread t = virtual ? Thread.ofVirtual().start(body) : Thread.ofPlatform().start(body);
        await(t);
        disturb.apply(t);
        t.join(10_000);
        if (t.isAlive()) {
            throw new AssertionError("the operation did not end: " + t.getState());
        }
        return thrown.get();
    }

    /** Waits until {@code t} is blocked inside a channel operation (parked, or in a system call). */
    static void await(Thread t) throws InterruptedException {
        for (int i = 0; i < 10_000; i++) {
            if (isBlocked(t)) {
                // A little longer, so the operation is really waiting rather than about to.
                Thread.sleep(50);
                return;
            }
            Thread.sleep(1);
        }
        throw new AssertionError("thread never blocked: " + t.getState());
    }

    private static boolean isBlocked(Thread t) {
        StackTraceElement[] stack = t.getStackTrace();
        boolean inChannel = false;
        for (StackTraceElement e : stack) {
            String c = e.getClassName();
            if (c.startsWith("sun.nio.ch.") || c.startsWith("io.slipstream.shim.")) {
                inChannel = true;
                break;
            }
        }
        if (!inChannel) {
            return false;
        }
        Thread.State s = t.getState();
        if (s == Thread.State.WAITING || s == Thread.State.TIMED_WAITING) {
            return true;
        }
        if (s != Thread.State.RUNNABLE || stack.length == 0) {
            return false;
        }
        if (stack[0].isNativeMethod()) {
            return true; // the JDK's channels block in a system call
        }
        for (StackTraceElement e : stack) {
            if (e.getClassName().equals("io.slipstream.linux.Sockets") && e.getMethodName().equals("epollWait")) {
                return true; // Slipstream's selector waits in epoll_wait through the FFM API
            }
        }
        return false;
    }
}
