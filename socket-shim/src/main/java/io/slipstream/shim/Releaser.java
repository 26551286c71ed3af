package io.slipstream.shim;

import java.io.Closeable;
import java.io.IOException;
import java.lang.ref.Cleaner;

/**
 * Closes what an owner (a datagram channel, a classic socket's impl) holds in the kernel or on a
 * stack when the application drops the owner without closing it, as the JDK's
 * DatagramChannelImpl and NioSocketImpl do with a Cleaner: otherwise each such drop would keep
 * a descriptor or a stack port until the process ends. The cleaning action holds only the
 * resource, never the owner, or the owner would never become unreachable.
 */
final class Releaser {
    private static final Cleaner CLEANER = Cleaner.create(Thread.ofPlatform().daemon().name("slipstream-cleaner").factory());

    private final Action action = new Action();
    private final Cleaner.Cleanable cleanable;

    /** Watches {@code owner}, which holds {@code resource} (null: nothing yet). */
    Releaser(Object owner, Closeable resource) {
        action.resource = resource;
        cleanable = CLEANER.register(owner, action);
    }

    /** The owner holds {@code resource} now, in place of what it held before (which it closed itself). */
    void hold(Closeable resource) {
        action.resource = resource;
    }

    /** The owner closed what it held: nothing is left to release, and the watch ends. */
    void closed() {
        action.resource = null;
        cleanable.clean();
    }

    private static final class Action implements Runnable {
        volatile Closeable resource;

        @Override
        public void run() {
            Closeable r = resource;
            resource = null;
            if (r != null) {
                try {
                    r.close();
                } catch (IOException | RuntimeException e) {
                    // The owner is gone: nobody is left to tell.
                }
            }
        }
    }
}
