package io.slipstream.shim;

import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.channels.ClosedChannelException;

/**
 * What the socket, server-socket and datagram channels share beyond selection: their local
 * and remote addresses, as NetworkChannel's getters and the java.net views read them. Each
 * channel keeps the addresses under its state lock and answers {@link #address}; the rest is
 * here once.
 */
interface ShimNetworkChannel extends ShimChannel {
    /**
     * The local ({@code local}) or the remote address, null while there is none (a listener
     * never has a remote one); still known once the channel is closed. Takes the state lock.
     */
    SocketAddress address(boolean local);

    /** For getLocalAddress and getRemoteAddress: ClosedChannelException once closed. */
    default SocketAddress addressWhileOpen(boolean local) throws ClosedChannelException {
        ensureOpen();
        return address(local);
    }

    /** The local Internet address, even after close, for the java.net views (UNIX-domain channels have none). */
    default InetSocketAddress localAddressOrNull() {
        return address(true) instanceof InetSocketAddress i ? i : null;
    }

    /** The remote Internet address, even after close, for the java.net views. */
    default InetSocketAddress remoteAddressOrNull() {
        return address(false) instanceof InetSocketAddress i ? i : null;
    }
}
