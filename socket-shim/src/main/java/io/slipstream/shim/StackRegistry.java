package io.slipstream.shim;

import io.slipstream.config.StackConfig;
import io.slipstream.nic.Interrupt;
import io.slipstream.stack.Stack;
import io.slipstream.wire.Ipv4Address;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * The stacks of this JVM, opened the first time a socket needs one and shared by every
 * provider that names the same interface and address.
 *
 * <p>Until the stack runtime (issue 4) provides the interrupt thread, each stack opened here
 * gets a daemon platform thread that waits on the NIC interrupt and polls the stack, so
 * readiness callbacks fire while the application's threads are parked.
 */
final class StackRegistry {
    private static final long MAX_IDLE_WAIT_NANOS = TimeUnit.MILLISECONDS.toNanos(20);
    private static final ConcurrentHashMap<String, Stack> STACKS = new ConcurrentHashMap<>();

    private StackRegistry() {}

    /** The stack for {@code config}, opened now if it is not open yet; throws if the NIC cannot be opened. */
    static Stack get(StackConfig config) {
        return STACKS.computeIfAbsent(key(config), k -> start(config));
    }

    private static String key(StackConfig c) {
        return c.driver() + "/" + c.interfaceName() + "/" + Ipv4Address.format(c.address()) + "/" + c.prefixLength();
    }

    private static Stack start(StackConfig config) {
        Stack stack = Stack.open(config);
        Thread t = Thread.ofPlatform().daemon().name("slipstream-poll-" + config.interfaceName() + "-"
                + Ipv4Address.format(config.address())).unstarted(() -> serve(stack));
        t.start();
        return stack;
    }

    private static void serve(Stack stack) {
        Interrupt interrupt = stack.nic().interrupt();
        try {
            while (!stack.isClosed()) {
                if (stack.poll() > 0) {
                    continue;
                }
                interrupt.enable();
                interrupt.await(MAX_IDLE_WAIT_NANOS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
