package io.slipstream.shim;

import io.slipstream.nic.NicException;
import io.slipstream.shim.kernel.FdIo;
import io.slipstream.shim.kernel.Timeouts;
import io.slipstream.stack.Stack;
import io.slipstream.stack.WaitCondition;
import io.slipstream.tcp.AddressInUseException;
import io.slipstream.tcp.ReadinessListener;
import io.slipstream.tcp.TcpConnectOptions;
import io.slipstream.tcp.TcpConnection;
import io.slipstream.tcp.TcpError;
import io.slipstream.tcp.TcpException;
import io.slipstream.tcp.TcpLayer;
import io.slipstream.tcp.TcpSocket;
import io.slipstream.tcp.TcpState;
import java.io.IOException;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.NoRouteToHostException;
import java.net.SocketException;
import java.net.SocketOption;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.util.Map;
import jdk.net.ExtendedSocketOptions;

/**
 * The accelerated inside of a {@link ShimSocketChannel}: a connection of a Slipstream stack's
 * TCP engine, operated between {@link Stack#enter()} and {@link Stack#exit()}. Its readiness
 * callback wakes the connection's wait queue (blocked callers wait with {@link Stack#await})
 * and the selectors the channel is registered with.
 */
final class AcceleratedTcp extends OnStack implements TcpBackend, ReadinessListener {
    private final TcpConnection connection;
    private final WaitCondition readable;
    private final WaitCondition writable;
    private final WaitCondition connectDone;
    private final InetSocketAddress remote;
    // The keep-alive settings, applied together; guarded by the stack lock.
    private long keepIdleSeconds;
    private long keepIntervalSeconds;
    private int keepCount;

    /** Under the stack lock. */
    private AcceleratedTcp(Stack stack, TcpLayer tcp, TcpConnection connection, SelectionKeys keys) {
        super(stack, keys);
        assert locked();
        this.connection = connection;
        this.readable = () -> closed || connection.readable();
        this.writable = () -> closed || connection.writable();
        this.connectDone = () -> closed || connection.connected() || connection.pendingError() != null
                || connection.state() == TcpState.CLOSED;
        this.remote = new InetSocketAddress(AcceleratedUdp.inet(connection.remoteAddress()), connection.remotePort());
        this.keepIdleSeconds = tcp.config().keepAliveIdleMs() / 1000;
        this.keepIntervalSeconds = tcp.config().keepAliveIntervalMs() / 1000;
        this.keepCount = tcp.config().keepAliveCount();
        connection.readinessListener(this);
    }

    /**
     * Starts a connection to {@code remote} from {@code localPort} (0: ephemeral), with the
     * options set on the channel so far.
     */
    static AcceleratedTcp connect(ShimStacks.Opened opened, InetSocketAddress remote, int localPort,
            Map<SocketOption<?>, Object> options, SelectionKeys keys) throws IOException {
        Stack stack = opened.stack();
        stack.enter();
        try {
            TcpConnection c = opened.tcp().connect(AcceleratedUdp.ipv4(remote.getAddress()), remote.getPort(), localPort,
                    connectOptions(options));
            AcceleratedTcp t = new AcceleratedTcp(stack, opened.tcp(), c, keys);
            t.applyAll(options);
            return t;
        } catch (TcpException e) {
            throw error(e.error(), true);
        } catch (AddressInUseException e) {
            throw addressInUse(e);
        } catch (NicException e) {
            throw holdFailed(e);
        } finally {
            stack.exit();
        }
    }

    /** A connection a listener accepted. */
    static AcceleratedTcp accepted(Stack stack, TcpLayer tcp, TcpConnection c, SelectionKeys keys) {
        stack.enter();
        try {
            return new AcceleratedTcp(stack, tcp, c, keys);
        } finally {
            stack.exit();
        }
    }

    /** The options fixed in the SYN (buffer sizes decide the window scale). */
    static TcpConnectOptions connectOptions(Map<SocketOption<?>, Object> options) {
        int rcv = bufferOption(options, StandardSocketOptions.SO_RCVBUF);
        int snd = bufferOption(options, StandardSocketOptions.SO_SNDBUF);
        return new TcpConnectOptions(rcv, snd, Boolean.TRUE.equals(options.get(StandardSocketOptions.TCP_NODELAY)),
                Boolean.TRUE.equals(options.get(StandardSocketOptions.SO_KEEPALIVE)));
    }

    private static int bufferOption(Map<SocketOption<?>, Object> options, SocketOption<Integer> name) {
        Object v = options.get(name);
        return v == null ? 0 : Math.max(1024, (Integer) v);
    }

    /** The exception the JDK throws for a connection that failed with {@code error}. */
    static IOException error(TcpError error, boolean connecting) {
        return switch (error) {
            case REFUSED -> new ConnectException("Connection refused");
            case RESET -> new SocketException("Connection reset");
            case TIMED_OUT -> connecting ? new ConnectException("Connection timed out") : new SocketException("Connection timed out");
            case UNREACHABLE -> new NoRouteToHostException("No route to host");
        };
    }

    @Override
    public int available() {
        stack.enter();
        try {
            return connection.available();
        } finally {
            stack.exit();
        }
    }

    @Override
    public InetSocketAddress localAddress() {
        return new InetSocketAddress(AcceleratedUdp.inet(connection.localAddress()), connection.localPort());
    }

    InetSocketAddress remoteAddress() {
        return remote;
    }

    @Override
    public void readinessChanged(TcpSocket socket) {
        readinessChanged();
    }

    /** The connection started (its SYN) when it was made: whether it is established yet. */
    @Override
    public boolean connect(java.net.SocketAddress target) throws IOException {
        return finishConnect();
    }

    @Override
    public boolean finishConnect() throws IOException {
        stack.enter();
        try {
            if (connection.pendingError() != null) {
                throw error(connection.pendingError(), true);
            }
            if (connection.connected()) {
                return true;
            }
            if (connection.state() == TcpState.CLOSED) {
                throw new ConnectException("Connection refused");
            }
            return false;
        } finally {
            stack.exit();
        }
    }

    @Override
    public long read(ByteBuffer dst, ByteBuffer[] dsts, int offset, int length, boolean blocking, long timeoutNanos)
            throws IOException {
        if (dst != null ? !dst.hasRemaining() : !FdIo.hasRemaining(dsts, offset, length)) {
            return 0;
        }
        long deadlineNanos = Timeouts.deadlineNanos(timeoutNanos);
        while (true) {
            long n = dst != null ? read(dst) : scatter(dsts, offset, length);
            if (n != 0) {
                return n;
            }
            if (!blocking || closed) {
                return FdIo.UNAVAILABLE;
            }
            await(readable, Timeouts.waitNanos(timeoutNanos, deadlineNanos, "Read timed out"));
            if (closed) {
                return FdIo.UNAVAILABLE; // closed while waiting: the channel reports an asynchronous close
            }
        }
    }

    private long scatter(ByteBuffer[] dsts, int offset, int length) throws IOException {
        long total = 0;
        for (int i = offset; i < offset + length; i++) {
            if (!dsts[i].hasRemaining()) {
                continue;
            }
            int n = read(dsts[i]);
            if (n < 0) {
                return total == 0 ? -1 : total;
            }
            total += n;
            if (dsts[i].hasRemaining()) {
                break;
            }
        }
        return total;
    }

    /** Reads: a count, -1 at end of stream, 0 when nothing is there yet. */
    private int read(ByteBuffer dst) throws IOException {
        stack.enter();
        try {
            return connection.receive(dst);
        } catch (TcpException e) {
            throw error(e.error(), false);
        } finally {
            stack.exit();
        }
    }

    /**
     * Queues bytes; in blocking mode all of them, waiting for room. A gather goes to the engine
     * in one call, which sends it in full-sized segments, as the kernel does for a writev.
     */
    @Override
    public long write(ByteBuffer src, ByteBuffer[] srcs, int offset, int length, boolean blocking) throws IOException {
        long written = 0;
        while (!closed && (src != null ? src.hasRemaining() : FdIo.hasRemaining(srcs, offset, length))) {
            long n = send(src, srcs, offset, length);
            written += n;
            if (n == 0) {
                if (!blocking) {
                    return written;
                }
                await(writable, 0);
            }
        }
        return written;
    }

    /** Queues what fits of {@code src}, or of the gather {@code srcs}; 0 when the send buffer is full. */
    private long send(ByteBuffer src, ByteBuffer[] srcs, int offset, int length) throws IOException {
        stack.enter();
        try {
            return src != null ? connection.send(src) : connection.send(srcs, offset, length);
        } catch (TcpException e) {
            throw error(e.error(), false);
        } catch (IllegalStateException e) {
            throw new SocketException("Socket output is shutdown");
        } finally {
            stack.exit();
        }
    }

    @Override
    public void awaitConnect(long waitNanos) {
        await(connectDone, waitNanos);
    }

    @Override
    public void shutdownInput() {
        stack.enter();
        try {
            connection.shutdownInput();
        } finally {
            stack.exit();
        }
    }

    @Override
    public void shutdownOutput() {
        stack.enter();
        try {
            connection.shutdownOutput();
        } finally {
            stack.exit();
        }
    }

    /** Closes (the connection finishes in the background, as a kernel socket's does). */
    @Override
    void closeLocked() {
        assert locked();
        connection.close();
    }

    @Override
    public int readyOps(int interestOps, boolean pending) {
        stack.enter();
        try {
            int ops = 0;
            if (pending) {
                if ((interestOps & SelectionKey.OP_CONNECT) != 0 && connectDone.ready()) {
                    ops |= SelectionKey.OP_CONNECT;
                }
                return ops;
            }
            if ((interestOps & SelectionKey.OP_READ) != 0 && connection.readable()) {
                ops |= SelectionKey.OP_READ;
            }
            if ((interestOps & SelectionKey.OP_WRITE) != 0 && connection.writable()) {
                ops |= SelectionKey.OP_WRITE;
            }
            return ops;
        } finally {
            stack.exit();
        }
    }

    // ---------------------------------------------------------------- options

    /** Whether the stack can honour {@code name} = {@code value}. */
    static boolean supports(SocketOption<?> name, Object value) {
        return name != StandardSocketOptions.SO_REUSEPORT || !((Boolean) value);
    }

    /** Under the stack lock. */
    private void applyAll(Map<SocketOption<?>, Object> options) {
        assert locked();
        for (Map.Entry<SocketOption<?>, Object> e : options.entrySet()) {
            apply(e.getKey(), e.getValue());
        }
    }

    /** Sets an option after the JDK's validation; refuses one the stack cannot honour. */
    @Override
    public void setOption(SocketOption<?> name, Object value, Object stored) {
        KernelOptions.intValue(name, value); // the JDK's validation
        if (!supports(name, value)) {
            throw new UnsupportedOperationException("'" + name + "' cannot be set on a socket Slipstream accelerates");
        }
        stack.enter();
        try {
            apply(name, stored);
        } finally {
            stack.exit();
        }
    }

    /** Under the stack lock. */
    private void apply(SocketOption<?> name, Object value) {
        assert locked();
        if (name == StandardSocketOptions.TCP_NODELAY) {
            connection.noDelay((Boolean) value);
        } else if (name == StandardSocketOptions.SO_KEEPALIVE) {
            applyKeepAlive((Boolean) value);
        } else if (name == StandardSocketOptions.SO_LINGER) {
            connection.linger((Integer) value);
        } else if (name == StandardSocketOptions.SO_RCVBUF || name == StandardSocketOptions.SO_SNDBUF) {
            applyBufferSize(name, Math.max(1024, (Integer) value));
        } else if (name == ExtendedSocketOptions.TCP_KEEPIDLE) {
            keepIdleSeconds = (Integer) value;
            applyKeepAlive(connection.keepAlive());
        } else if (name == ExtendedSocketOptions.TCP_KEEPINTERVAL) {
            keepIntervalSeconds = (Integer) value;
            applyKeepAlive(connection.keepAlive());
        } else if (name == ExtendedSocketOptions.TCP_KEEPCOUNT) {
            keepCount = (Integer) value;
            applyKeepAlive(connection.keepAlive());
        } else if (name == StandardSocketOptions.IP_TOS) {
            connection.tos((Integer) value);
        } else if (name == ExtendedSocketOptions.TCP_QUICKACK) {
            connection.quickAck((Boolean) value);
        }
        // SO_REUSEADDR, and SO_REUSEPORT false: nothing to do on the stack.
    }

    /**
     * The engine sizes its buffers when the connection starts (the window scale in the SYN
     * depends on them); later changes are hints it cannot take, as SO_RCVBUF/SO_SNDBUF allow,
     * so they are ignored (documented in docs/COMPATIBILITY.md).
     */
    private void applyBufferSize(SocketOption<?> name, int bytes) {
        try {
            if (name == StandardSocketOptions.SO_RCVBUF) {
                connection.receiveBufferSize(bytes);
            } else {
                connection.sendBufferSize(bytes);
            }
        } catch (IllegalStateException fixedOnceConnected) {
            // keep the sizes the connection started with
        }
    }

    private void applyKeepAlive(boolean on) {
        connection.keepAlive(on, keepIdleSeconds * 1000, keepIntervalSeconds * 1000, keepCount);
    }

    /** The option's value on the connection, or null for those the channel remembers itself. */
    @Override
    public Object getOption(SocketOption<?> name) {
        stack.enter();
        try {
            if (name == StandardSocketOptions.TCP_NODELAY) {
                return connection.noDelay();
            } else if (name == StandardSocketOptions.SO_KEEPALIVE) {
                return connection.keepAlive();
            } else if (name == StandardSocketOptions.SO_LINGER) {
                return connection.linger();
            } else if (name == StandardSocketOptions.SO_RCVBUF) {
                return connection.receiveBufferSize();
            } else if (name == StandardSocketOptions.SO_SNDBUF) {
                return connection.sendBufferSize();
            } else if (name == ExtendedSocketOptions.TCP_KEEPIDLE) {
                return (int) keepIdleSeconds;
            } else if (name == ExtendedSocketOptions.TCP_KEEPINTERVAL) {
                return (int) keepIntervalSeconds;
            } else if (name == ExtendedSocketOptions.TCP_KEEPCOUNT) {
                return keepCount;
            } else if (name == StandardSocketOptions.IP_TOS) {
                return connection.tos();
            } else if (name == ExtendedSocketOptions.TCP_QUICKACK) {
                return connection.quickAck();
            }
            return null;
        } finally {
            stack.exit();
        }
    }
}
