package io.slipstream.shim;

import io.slipstream.linux.Sockets;
import java.util.function.Function;

/**
 * A channel's java.net view ({@code channel.socket()}): made on first use and the same object
 * ever after, as the JDK's channels make theirs. UNIX-domain channels have none.
 */
final class SocketView<C, V> {
    /** Makes the view of a channel (a static factory, so that asking allocates nothing). */
    private final Function<C, V> make;
    private V view; // guarded by this

    SocketView(Function<C, V> make) {
        this.make = make;
    }

    /** The view of {@code channel}, whose address family is {@code family}. */
    synchronized V of(C channel, int family) {
        if (family == Sockets.AF_UNIX) {
            throw new UnsupportedOperationException("Not supported");
        }
        if (view == null) {
            view = make.apply(channel);
        }
        return view;
    }
}
