package io.slipstream.shim;

import io.slipstream.config.StackConfig;
import io.slipstream.stack.Stack;
import io.slipstream.tcp.TcpConfig;
import io.slipstream.tcp.TcpLayer;
import io.slipstream.wire.Ipv4Address;
import java.security.SecureRandom;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The stacks the shim opened in this JVM, each with its TCP layer: opened the first time a
 * socket needs one and shared by every provider that names the same interface and address.
 * Each stack runs its own runtime (interrupt thread, exit drain).
 */
final class ShimStacks {
    /** An open stack and the TCP layer registered on it. */
    record Opened(Stack stack, TcpLayer tcp) {}

    private static final ConcurrentHashMap<String, Opened> OPEN = new ConcurrentHashMap<>();

    private ShimStacks() {}

    /** The stack for {@code config}, opened now if it is not open yet; throws if the NIC cannot be opened. */
    static Opened get(StackConfig config) {
        return OPEN.computeIfAbsent(key(config), k -> open(config));
    }

    private static String key(StackConfig c) {
        return c.driver() + "/" + c.interfaceName() + "/" + Ipv4Address.format(c.address()) + "/" + c.prefixLength();
    }

    private static Opened open(StackConfig config) {
        Stack stack = Stack.open(config);
        try {
            // RFC 6528 ISNs and SYN cookies want a secret nobody can guess: fresh per stack.
            byte[] secret = new byte[48];
            new SecureRandom().nextBytes(secret);
            TcpLayer tcp = new TcpLayer(stack.ip(), stack.timers(), stack.clock(), TcpConfig.from(config.settings()), secret);
            stack.register(tcp);
            return new Opened(stack, tcp);
        } catch (RuntimeException e) {
            stack.close();
            throw e;
        }
    }
}
