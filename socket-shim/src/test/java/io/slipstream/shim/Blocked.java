package io.slipstream.shim;

/** Waits until a thread is blocked inside a channel operation (parked, or in a native call). */
final class Blocked {
    private Blocked() {}

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
            if (e.getClassName().equals("io.slipstream.driver.linux.Sockets") && e.getMethodName().equals("epollWait")) {
                return true; // Slipstream's selector waits in epoll_wait through the FFM API
            }
        }
        return false;
    }
}
