package io.slipstream.shim;

import io.slipstream.shim.kernel.BufferVectors;
import io.slipstream.shim.kernel.FdIo;
import io.slipstream.shim.kernel.KernelSocket;
import io.slipstream.shim.kernel.Timeouts;
import io.slipstream.linux.Sockets;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ProtocolFamily;
import java.net.Socket;
import java.net.SocketAddress;
import java.net.SocketOption;
import java.nio.ByteBuffer;
import java.nio.channels.AlreadyBoundException;
import java.nio.channels.AlreadyConnectedException;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.ConnectionPendingException;
import java.nio.channels.NoConnectionPendingException;
import java.nio.channels.NotYetConnectedException;
import java.nio.channels.SelectionKey;
import java.nio.channels.SocketChannel;
import java.net.StandardSocketOptions;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Slipstream's SocketChannel: a connection of a Slipstream stack's TCP engine when the
 * destination (or the bound address) is a stack's, a kernel socket otherwise. The kernel socket
 * is opened at once, as the JDK does, so options set before connect act on it exactly as on the
 * JDK's; when connect moves the channel onto a stack, they are replayed there and the kernel
 * socket is closed.
 *
 * <p>Blocking calls never block in a system call: a kernel socket is non-blocking and a waiting
 * thread parks on the {@link io.slipstream.shim.kernel.Poller}; an accelerated one waits with {@code Stack.await}. Both
 * are woken by interrupt and close.
 */
final class ShimSocketChannel extends SocketChannel implements ShimNetworkChannel {
    private static final int UNCONNECTED = 0;
    private static final int PENDING = 1;
    private static final int CONNECTED = 2;

    private final SlipstreamSelectorProvider provider;
    private final int family;
    private final SelectionKeys keys = new SelectionKeys(SelectionKey.OP_READ, SelectionKey.OP_WRITE | SelectionKey.OP_CONNECT);

    // Lock order: readLock, writeLock, stateLock (ChannelLocks).
    private final ChannelLocks locks = new ChannelLocks();
    // -- held by read operations (and by bind, connect, finishConnect)
    private final ReentrantLock readLock = locks.readLock;
    // -- held by write operations (and by bind, connect, finishConnect)
    private final ReentrantLock writeLock = locks.writeLock;
    // -- guards the fields below it
    private final Object stateLock = locks.stateLock;

    /**
     * A kernel socket until connect (or an accepted connection) puts the channel on a stack.
     * Written under stateLock; read without it on the data path (volatile).
     */
    private volatile TcpBackend backend;
    // state and the shutdown flags: written under stateLock, read without it (volatile)
    private volatile int state;
    private volatile boolean inputShutdown;
    private volatile boolean outputShutdown;

    // -- guarded by stateLock
    /** Options the application set, replayed onto the stack's connection. */
    private final Map<SocketOption<?>, Object> options = new LinkedHashMap<>();
    /** Set before the decision when an option the stack cannot honour was set. */
    private FallbackReason optionReason;
    /** Bound to a stack's address: connect goes through that stack, from this port (0: ephemeral). */
    private ShimStacks.Opened boundStack;
    private SocketAddress localAddress;
    private SocketAddress remoteAddress;
    /** The accelerated-or-kernel decision is made (at bind to an address, or connect). */
    private boolean routed;

    /** The java.net view (socket()); guarded by its own monitor. */
    private final SocketView<ShimSocketChannel, SocketAdaptor> view = new SocketView<>(SocketAdaptor::create);

    ShimSocketChannel(SlipstreamSelectorProvider provider, ProtocolFamily family) throws IOException {
        super(provider);
        this.provider = provider;
        this.family = Addresses.kernelFamily(family);
        this.backend = new KernelTcp(KernelSocket.open(this.family, true), keys);
    }

    /** A connection accepted by a kernel listener: connected, in blocking mode. */
    ShimSocketChannel(SlipstreamSelectorProvider provider, KernelSocket accepted) throws IOException {
        super(provider);
        this.provider = provider;
        this.family = accepted.family();
        this.backend = new KernelTcp(accepted, keys);
        this.state = CONNECTED;
        this.routed = true;
        this.localAddress = accepted.localAddress();
        this.remoteAddress = accepted.remoteAddress();
    }

    /** A connection accepted by a stack's listener: connected, in blocking mode. */
    ShimSocketChannel(SlipstreamSelectorProvider provider, ShimStacks.Opened stack, io.slipstream.tcp.TcpConnection accepted) {
        super(provider);
        this.provider = provider;
        this.family = Sockets.AF_INET;
        AcceleratedTcp t = AcceleratedTcp.accepted(stack.stack(), stack.tcp(), accepted, keys);
        this.backend = t;
        this.state = CONNECTED;
        this.routed = true;
        this.localAddress = t.localAddress();
        this.remoteAddress = t.remoteAddress();
    }

    @Override
    public Backend backend() {
        return backend;
    }


    // ---------------------------------------------------------------- state

    private void ensureOpenAndConnected() throws ClosedChannelException {
        ensureOpen();
        if (state != CONNECTED) {
            throw new NotYetConnectedException();
        }
    }

    @Override
    public boolean isConnected() {
        return state == CONNECTED;
    }

    @Override
    public boolean isConnectionPending() {
        return state == PENDING;
    }

    boolean isInputShutdown() {
        return inputShutdown;
    }

    boolean isOutputShutdown() {
        return outputShutdown;
    }

    @Override
    public SocketAddress getLocalAddress() throws IOException {
        return addressWhileOpen(true);
    }

    @Override
    public SocketAddress getRemoteAddress() throws IOException {
        return addressWhileOpen(false);
    }

    @Override
    public SocketAddress address(boolean local) {
        synchronized (stateLock) {
            return local ? localAddress : remoteAddress;
        }
    }

    @Override
    public Socket socket() {
        return view.of(this, family);
    }

    // ---------------------------------------------------------------- bind and connect

    @Override
    public SocketChannel bind(SocketAddress local) throws IOException {
        return locks.all(() -> {
            ensureOpen();
            if (state == PENDING) {
                throw new ConnectionPendingException();
            }
            if (localAddress != null) {
                throw new AlreadyBoundException();
            }
            if (family == Sockets.AF_UNIX) {
                // UNIX-domain sockets are local IPC, never network traffic: neither accelerated nor a fallback.
                OnKernel.socketOf(backend).bind(Addresses.checkUnix(local, true));
                localAddress = OnKernel.socketOf(backend).localAddress();
                return this;
            }
            InetSocketAddress isa = local == null ? Addresses.wildcard(family) : Addresses.check(local, family);
            if (!isa.getAddress().isAnyLocalAddress() && !routed) {
                ShimStacks.Opened stack = provider.place(provider.routeLocal(isa.getAddress()), optionReason, isa);
                routed = true;
                if (stack != null) {
                    // The stack reserves the port when the connection starts (documented difference).
                    boundStack = stack;
                    localAddress = isa;
                    return this;
                }
            }
            OnKernel.socketOf(backend).bind(isa);
            localAddress = OnKernel.socketOf(backend).localAddress();
            return this;
        });
    }

    @Override
    public boolean connect(SocketAddress remote) throws IOException {
        return connect(remote, 0);
    }

    /** Connects, in blocking mode giving up after {@code timeoutNanos} (0: no limit) with SocketTimeoutException. */
    boolean connect(SocketAddress remote, long timeoutNanos) throws IOException {
        SocketAddress target = family == Sockets.AF_UNIX ? Addresses.checkUnix(remote, false)
                : Addresses.checkRemote(remote, family);
        return locks.both(() -> {
            IOException startFailed = null;
            synchronized (stateLock) {
                ensureOpen();
                if (state == CONNECTED) {
                    throw new AlreadyConnectedException();
                }
                if (state == PENDING) {
                    throw new ConnectionPendingException();
                }
                ShimStacks.Opened stack = boundStack;
                if (!routed && target instanceof InetSocketAddress isa) {
                    stack = provider.place(provider.routeRemote(isa.getAddress()), optionReason, isa);
                    routed = true;
                }
                if (stack != null) {
                    try {
                        moveOntoStack(stack, (InetSocketAddress) target);
                    } catch (IOException e) {
                        startFailed = e; // its local port is taken, say
                    }
                }
                if (startFailed == null) {
                    remoteAddress = target;
                    state = PENDING;
                }
            }
            if (startFailed != null) {
                close(); // a connect that fails closes the channel, as the JDK's does
                throw startFailed;
            }
            return completeConnect(true, target, timeoutNanos);
        });
    }

    /**
     * Retires the kernel socket and starts the stack's connection (its SYN). Under stateLock.
     * The kernel socket goes first: after a wildcard bind it holds the port the connection
     * keeps, which a NIC that holds its ports in the kernel (xdp) would otherwise find taken; a
     * start that fails closes the channel anyway.
     */
    private void moveOntoStack(ShimStacks.Opened stack, InetSocketAddress remote) throws IOException {
        int port = localAddress instanceof InetSocketAddress bound ? bound.getPort() : 0;
        backend.close();
        backend = AcceleratedTcp.connect(stack, remote, port, options, keys);
        keys.backingChanged();
    }

    /**
     * Starts ({@code start}) or continues a connect: in blocking mode until it completes. A
     * failure closes the channel, as the JDK's does.
     */
    private boolean completeConnect(boolean start, SocketAddress target, long timeoutNanos) throws IOException {
        boolean blocking = isBlocking();
        boolean connected = false;
        try {
            try {
                if (blocking) {
                    begin();
                }
                TcpBackend b = backend;
                connected = start ? b.connect(target) : b.finishConnect();
                if (!connected && blocking) {
                    connected = awaitConnect(timeoutNanos);
                }
            } finally {
                if (blocking) {
                    end(connected);
                }
            }
        } catch (IOException e) {
            close();
            throw e;
        }
        if (connected) {
            synchronized (stateLock) {
                state = CONNECTED;
                localAddress = backend.localAddress();
            }
        }
        return connected;
    }

    private boolean awaitConnect(long timeoutNanos) throws IOException {
        long deadlineNanos = Timeouts.deadlineNanos(timeoutNanos);
        TcpBackend b = backend;
        while (isOpen()) {
            if (b.finishConnect()) {
                return true;
            }
            b.awaitConnect(Timeouts.waitNanos(timeoutNanos, deadlineNanos, "Connect timed out"));
        }
        return false;
    }

    @Override
    public boolean finishConnect() throws IOException {
        return locks.both(() -> {
            synchronized (stateLock) {
                ensureOpen();
                if (state == CONNECTED) {
                    return true;
                }
                if (state != PENDING) {
                    throw new NoConnectionPendingException();
                }
            }
            return completeConnect(false, null, 0);
        });
    }

    // ---------------------------------------------------------------- data

    @Override
    public int read(ByteBuffer dst) throws IOException {
        Objects.requireNonNull(dst);
        return (int) read(dst, null, 0, 0, 0);
    }

    /** Reads; in blocking mode gives up after {@code timeoutNanos} (0: no limit) with SocketTimeoutException. */
    int read(ByteBuffer dst, long timeoutNanos) throws IOException {
        Objects.requireNonNull(dst);
        return (int) read(dst, null, 0, 0, timeoutNanos);
    }

    @Override
    public long read(ByteBuffer[] dsts, int offset, int length) throws IOException {
        Objects.checkFromIndexSize(offset, length, dsts.length);
        return read(null, dsts, offset, length, 0);
    }

    /** Reads into {@code dst}, or scatters into {@code dsts} when it is null. */
    private long read(ByteBuffer dst, ByteBuffer[] dsts, int offset, int length, long timeoutNanos) throws IOException {
        readLock.lock();
        try {
            ensureOpenAndConnected();
            boolean blocking = isBlocking();
            long n = FdIo.UNAVAILABLE;
            try {
                if (blocking) {
                    begin();
                }
                if (inputShutdown) {
                    n = FdIo.EOF;
                    return n;
                }
                BufferVectors.checkWritable(dst, dsts, offset, length);
                n = backend.read(dst, dsts, offset, length, blocking, timeoutNanos);
                return n == FdIo.UNAVAILABLE ? 0 : n;
            } finally {
                if (blocking) {
                    end(n != FdIo.UNAVAILABLE);
                }
            }
        } finally {
            readLock.unlock();
        }
    }

    @Override
    public int write(ByteBuffer src) throws IOException {
        Objects.requireNonNull(src);
        return (int) write(src, null, 0, 0);
    }

    @Override
    public long write(ByteBuffer[] srcs, int offset, int length) throws IOException {
        Objects.checkFromIndexSize(offset, length, srcs.length);
        return write(null, srcs, offset, length);
    }

    /** Writes {@code src}, or gathers {@code srcs} when it is null. */
    private long write(ByteBuffer src, ByteBuffer[] srcs, int offset, int length) throws IOException {
        writeLock.lock();
        try {
            ensureOpenAndConnected();
            boolean blocking = isBlocking();
            long written = 0;
            try {
                if (blocking) {
                    begin();
                }
                if (outputShutdown) {
                    throw new ClosedChannelException();
                }
                written = backend.write(src, srcs, offset, length, blocking);
                return written;
            } finally {
                if (blocking) {
                    end(written > 0 || !(src != null ? src.hasRemaining() : FdIo.hasRemaining(srcs, offset, length)));
                }
            }
        } finally {
            writeLock.unlock();
        }
    }

    /** Bytes a read would return without blocking, for the streams' available() (as the JDK's channel). */
    int available() throws IOException {
        synchronized (stateLock) {
            ensureOpenAndConnected();
            if (inputShutdown) {
                return 0;
            }
            return backend.available();
        }
    }

    @Override
    public SocketChannel shutdownInput() throws IOException {
        shutdown(true);
        return this;
    }

    @Override
    public SocketChannel shutdownOutput() throws IOException {
        shutdown(false);
        return this;
    }

    /** Shuts down the input ({@code input}) or the output, once; a second time does nothing. */
    private void shutdown(boolean input) throws IOException {
        synchronized (stateLock) {
            ensureOpenAndConnected();
            if (input && !inputShutdown) {
                backend.shutdownInput();
                inputShutdown = true;
            } else if (!input && !outputShutdown) {
                backend.shutdownOutput();
                outputShutdown = true;
            }
        }
    }

    // ---------------------------------------------------------------- options

    @Override
    public <T> SocketChannel setOption(SocketOption<T> name, T value) throws IOException {
        KernelOptions.check(supportedOptions(), name, value);
        synchronized (stateLock) {
            ensureOpen();
            Object v = name == StandardSocketOptions.SO_LINGER ? (Object) KernelOptions.intValue(name, value) : value;
            backend.setOption(name, value, v);
            // Before the decision the socket is the kernel's: note an option that would keep it there.
            if (!routed && !AcceleratedTcp.supports(name, value) && optionReason == null) {
                optionReason = FallbackReason.UNSUPPORTED_OPTION;
            }
            options.put(name, v);
        }
        return this;
    }

    @Override
    public <T> T getOption(SocketOption<T> name) throws IOException {
        KernelOptions.checkName(supportedOptions(), name);
        synchronized (stateLock) {
            ensureOpen();
            Object v = backend.getOption(name);
            if (v == null) { // an option the stack's connection does not keep: as the application set it
                v = options.get(name);
            }
            if (v == null) {
                v = name.type() == Boolean.class ? (Object) Boolean.FALSE : (Object) 0;
            }
            return name.type().cast(v);
        }
    }

    @Override
    public Set<SocketOption<?>> supportedOptions() {
        return family == Sockets.AF_UNIX ? KernelOptions.UNIX_STREAM : KernelOptions.STREAM;
    }

    // ---------------------------------------------------------------- selection, closing, blocking mode

    @Override
    public int acceleratedReadyOps(int interestOps) {
        return backend.readyOps(interestOps, state == PENDING);
    }

    /** As the JDK's: OP_CONNECT only while pending, OP_READ and OP_WRITE only once connected. */
    @Override
    public int readyOps(int events, int interestOps) {
        if ((events & (Sockets.EPOLLERR | Sockets.EPOLLHUP)) != 0) {
            return interestOps;
        }
        int ops = 0;
        int s = state;
        if ((events & Sockets.EPOLLIN) != 0 && (interestOps & SelectionKey.OP_READ) != 0 && s == CONNECTED) {
            ops |= SelectionKey.OP_READ;
        }
        if ((events & Sockets.EPOLLOUT) != 0 && (interestOps & SelectionKey.OP_CONNECT) != 0 && s == PENDING) {
            ops |= SelectionKey.OP_CONNECT;
        }
        if ((events & Sockets.EPOLLOUT) != 0 && (interestOps & SelectionKey.OP_WRITE) != 0 && s == CONNECTED) {
            ops |= SelectionKey.OP_WRITE;
        }
        return ops;
    }

    @Override
    protected void implCloseSelectableChannel() {
        backend.close();
    }

    @Override
    protected void implConfigureBlocking(boolean block) {
        // The kernel socket is always non-blocking; blocking mode is how this class waits.
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder(getClass().getSimpleName()).append('[');
        if (!isOpen()) {
            sb.append("closed");
        } else {
            synchronized (stateLock) {
                sb.append(state == CONNECTED ? "connected" : state == PENDING ? "connection-pending" : "unconnected");
                sb.append(isAccelerated() ? " accelerated" : " kernel");
                if (localAddress != null) {
                    sb.append(" local=").append(localAddress);
                }
                if (remoteAddress != null) {
                    sb.append(" remote=").append(remoteAddress);
                }
            }
        }
        return sb.append(']').toString();
    }
}
