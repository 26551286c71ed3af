package io.slipstream.stack;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The open stacks of this JVM, and the one shutdown hook that drains them at exit (exit
 * without loss, DESIGN §4): connections holding data the peer has not acknowledged get up to
 * {@code slipstream.exit.linger.ms} to deliver it and their FIN before the process ends.
 */
final class StackRegistry {
    private static final Set<Stack> OPEN = ConcurrentHashMap.newKeySet();
    private static volatile boolean hookInstalled;

    private StackRegistry() {}

    static void opened(Stack stack) {
        OPEN.add(stack);
        if (!hookInstalled) {
            installHook();
        }
    }

    static void closed(Stack stack) {
        OPEN.remove(stack);
    }

    private static synchronized void installHook() {
        if (hookInstalled) {
            return;
        }
        hookInstalled = true;
        Runtime.getRuntime().addShutdownHook(Thread.ofPlatform().name("slipstream-exit").unstarted(StackRegistry::drainAll));
    }

    /** Drains every open stack in parallel: each has its own linger bound. */
    private static void drainAll() {
        Thread[] drains = new Thread[OPEN.size()];
        int n = 0;
        for (Stack s : OPEN) {
            if (n == drains.length) {
                break;
            }
            drains[n++] = Thread.ofPlatform().name("slipstream-exit-" + s.nic().name()).start(() -> {
                s.drainForExit();
                if (s.runtimeConfig().exitCounters()) {
                    System.err.println(s.nonZeroCounters());
                }
            });
        }
        for (int i = 0; i < n; i++) {
            try {
                drains[i].join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }
}
