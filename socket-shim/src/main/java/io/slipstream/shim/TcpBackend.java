package io.slipstream.shim;

import java.io.IOException;
import java.net.SocketAddress;
import java.net.SocketOption;
import java.nio.ByteBuffer;

/**
 * A {@link ShimSocketChannel}'s connection: {@link KernelTcp} or {@link AcceleratedTcp}. The
 * channel keeps the JDK's state machine, locks and exceptions; the backend moves the bytes and
 * waits. Reads and writes follow {@link io.slipstream.shim.kernel.FdIo}'s conventions.
 */
interface TcpBackend extends Backend {
    /**
     * Starts the connect to {@code target} and returns whether it completed; a connection on a
     * stack started when it was made, so this only looks whether it is established.
     */
    boolean connect(SocketAddress target) throws IOException;

    /** True once established; throws the JDK's exception if the connect failed. */
    boolean finishConnect() throws IOException;

    /** Waits (0: no limit) until the connect may have completed; the caller re-checks. */
    void awaitConnect(long waitNanos);

    SocketAddress localAddress() throws IOException;

    /**
     * Reads into {@code dst}, or scatters into {@code dsts} when it is null; in blocking mode
     * waits, giving up after {@code timeoutNanos} (0: no limit) with SocketTimeoutException.
     * {@link io.slipstream.shim.kernel.FdIo#UNAVAILABLE} when nothing came.
     */
    long read(ByteBuffer dst, ByteBuffer[] dsts, int offset, int length, boolean blocking, long timeoutNanos)
            throws IOException;

    /** Writes {@code src}, or gathers {@code srcs} when it is null; in blocking mode all of it. */
    long write(ByteBuffer src, ByteBuffer[] srcs, int offset, int length, boolean blocking) throws IOException;

    /** Bytes a read would return without blocking. */
    int available() throws IOException;

    void shutdownInput() throws IOException;

    void shutdownOutput() throws IOException;

    /** Sets an option the channel checked ({@code value} as given, {@code stored} as the channel keeps it). */
    void setOption(SocketOption<?> name, Object value, Object stored) throws IOException;

    /** The option's value, or null where the backend does not know it (the channel answers then). */
    Object getOption(SocketOption<?> name) throws IOException;

    /** Ready operations among {@code interestOps}; {@code pending} while the channel awaits finishConnect. */
    int readyOps(int interestOps, boolean pending);

    @Override
    default int readyOps(int interestOps) {
        return readyOps(interestOps, false);
    }
}
