package io.slipstream.shim;

import io.slipstream.config.ConfigException;
import io.slipstream.config.StackConfig;
import io.slipstream.nic.NicException;
import io.slipstream.stack.Stack;
import io.slipstream.tcp.TcpLayer;
import io.slipstream.wire.Ipv4Address;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The stacks the shim opened in this JVM (each builds its own TCP layer): opened the first time a
 * socket needs one and shared by every provider that names the same interface and address.
 * Each stack runs its own runtime (interrupt thread, exit drain).
 *
 * <p>Opening is tried once per stack and JVM. When it fails, the failure is kept: every socket
 * routed to that stack then runs on the kernel for the same named reason (or is refused), and
 * the cause is told once, in one line on standard error, when it happens — not retried (and
 * re-told) per socket, which would also make some of a program's sockets accelerated and others
 * not, depending on timing.
 */
final class ShimStacks {
    /** An open stack. */
    record Opened(Stack stack) {
        TcpLayer tcp() {
            return stack.tcp();
        }
    }

    /** A stack that could not be opened: the fallback reason it means, and the error that says why. */
    record Unavailable(FallbackReason reason, RuntimeException cause) {}

    /** The outcome of the one attempt to open a stack: exactly one of the two is set. */
    record Attempt(Opened opened, Unavailable unavailable) {}

    private static final ConcurrentHashMap<String, Attempt> OPEN = new ConcurrentHashMap<>();

    private ShimStacks() {}

    /**
     * The outcome for {@code config}: opened now if this is the first time it is asked for.
     * {@code refusing} (the asking provider's {@code slipstream.fallback=error}) only words the
     * warning a failure prints.
     */
    static Attempt attempt(StackConfig config, boolean refusing) {
        return OPEN.computeIfAbsent(key(config), k -> tryOpen(config, refusing));
    }

    /** The open stack for {@code config}; throws the error that kept it from opening. */
    static Opened get(StackConfig config) {
        Attempt a = attempt(config, false);
        if (a.opened() == null) {
            throw a.unavailable().cause();
        }
        return a.opened();
    }

    private static String key(StackConfig c) {
        return c.driver() + "/" + c.interfaceName() + "/" + Ipv4Address.format(c.address()) + "/" + c.prefixLength();
    }

    private static Attempt tryOpen(StackConfig config, boolean refusing) {
        try {
            Stack stack = Stack.open(config);
            return new Attempt(new Opened(stack), null);
        } catch (RuntimeException e) {
            FallbackReason reason = reasonFor(e);
            Fallback.warn("cannot open the " + config.driver() + " NIC " + config.interfaceName()
                    + (config.hasAddress() ? " for " + Ipv4Address.format(config.address()) + "/" + config.prefixLength()
                            : "") // left to the host, which it was to ask
                    + " (" + reason + "): " + e.getMessage() + (refusing ? "; its sockets are refused (slipstream.fallback=error)"
                            : "; its sockets run on the kernel (slipstream.fallback=kernel)"), e);
            return new Attempt(null, new Unavailable(reason, e));
        }
    }

    /** The named fallback reason for each way opening a stack can fail. */
    static FallbackReason reasonFor(RuntimeException e) {
        if (e instanceof NicException nic) {
            return switch (nic.kind()) {
                case NO_DRIVER -> FallbackReason.NIC_DRIVER_MISSING;
                case NOT_PERMITTED -> FallbackReason.NIC_NOT_PERMITTED;
                case BUSY -> FallbackReason.NIC_BUSY;
                case NOT_FOUND -> FallbackReason.NIC_NOT_FOUND;
                case INVALID_CONFIG -> FallbackReason.NIC_MISCONFIGURED;
                case FAILED -> FallbackReason.NIC_UNAVAILABLE;
            };
        }
        return e instanceof ConfigException ? FallbackReason.NIC_MISCONFIGURED : FallbackReason.NIC_UNAVAILABLE;
    }
}
