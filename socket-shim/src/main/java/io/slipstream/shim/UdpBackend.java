package io.slipstream.shim;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.SocketOption;
import java.nio.ByteBuffer;
import java.util.Map;

/**
 * A {@link ShimDatagramChannel}'s socket: {@link KernelUdp} or {@link AcceleratedUdp}. The
 * channel keeps the JDK's state, locks and exceptions; the backend moves the datagrams and waits.
 */
interface UdpBackend extends Backend {
    /** Connects to {@code remote}; returns the local address after it. */
    InetSocketAddress connect(InetSocketAddress remote) throws IOException;

    /** Disconnects, keeping the local address {@code local}; returns the local address after it. */
    InetSocketAddress disconnect(InetSocketAddress local) throws IOException;

    /** One datagram into {@code dst}: its source, or null when none is queued. */
    SocketAddress receive(ByteBuffer dst) throws IOException;

    /** Waits (0: no limit) until a datagram may be queued, the socket closes or the thread is interrupted. */
    void awaitReadable(long waitNanos);

    /**
     * Sends {@code src} as one datagram to {@code target} (null: the connected peer); the bytes
     * sent, or -1 when there was no room (try again after {@link #awaitSendable()}).
     */
    int send(ByteBuffer src, InetSocketAddress target) throws IOException;

    /** Waits a little, until a send may find room. */
    void awaitSendable();

    /** Sets an option the channel checked ({@code value} as given, {@code intValue} as the JDK validated it). */
    void setOption(SocketOption<?> name, Object value, int intValue) throws IOException;

    /** The option's value; {@code set}: what the application set so far. */
    Object getOption(SocketOption<?> name, Map<SocketOption<?>, Object> set) throws IOException;
}
