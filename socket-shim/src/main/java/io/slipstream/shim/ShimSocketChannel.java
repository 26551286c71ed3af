package io.slipstream.shim;

import io.slipstream.driver.linux.Sockets;
import io.slipstream.shim.kernel.FdIo;
import io.slipstream.shim.kernel.KernelFd;
import io.slipstream.shim.kernel.KernelSocket;
import io.slipstream.shim.kernel.Poller;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ProtocolFamily;
import java.net.Socket;
import java.net.SocketAddress;
import java.net.SocketOption;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.channels.AlreadyBoundException;
import java.nio.channels.AlreadyConnectedException;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.ConnectionPendingException;
import java.nio.channels.NoConnectionPendingException;
import java.nio.channels.NotYetConnectedException;
import java.nio.channels.SelectionKey;
import java.nio.channels.SocketChannel;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Slipstream's SocketChannel. In this phase the connection always runs on a kernel socket
 * (TCP acceleration arrives with the TCP engine); the route is still decided at connect, so the
 * fallback is counted with its reason. The socket is opened at once, as the JDK does, so options
 * set before connect act on it exactly as they would on the JDK's.
 *
 * <p>Blocking calls never block in a system call: the socket is non-blocking and a waiting
 * thread parks on the {@link Poller}, which interrupt and close wake.
 */
final class ShimSocketChannel extends SocketChannel implements ShimChannel {
    private static final int UNCONNECTED = 0;
    private static final int PENDING = 1;
    private static final int CONNECTED = 2;

    private final SlipstreamSelectorProvider provider;
    private final ChannelLocks locks = new ChannelLocks();
    private final ReentrantLock readLock = locks.readLock;
    private final ReentrantLock writeLock = locks.writeLock;
    private final Object stateLock = locks.stateLock;
    private final SelectionKeys keys = new SelectionKeys();
    private final KernelSocket kernel;
    private final int family;
    private volatile int state;
    private volatile boolean inputShutdown;
    private volatile boolean outputShutdown;
    private InetSocketAddress localAddress;
    private InetSocketAddress remoteAddress;
    private boolean routed;
    private SocketAdaptor adaptor;

    ShimSocketChannel(SlipstreamSelectorProvider provider, ProtocolFamily family) throws IOException {
        super(provider);
        this.provider = provider;
        this.family = Addresses.kernelFamily(family);
        this.kernel = KernelSocket.open(this.family, true);
    }

    /** A connection accepted by a kernel listener: connected, in blocking mode. */
    ShimSocketChannel(SlipstreamSelectorProvider provider, KernelSocket accepted) throws IOException {
        super(provider);
        this.provider = provider;
        this.family = accepted.family();
        this.kernel = accepted;
        this.state = CONNECTED;
        this.routed = true;
        this.localAddress = (InetSocketAddress) accepted.localAddress();
        this.remoteAddress = (InetSocketAddress) accepted.remoteAddress();
    }

    // ---------------------------------------------------------------- state

    private void ensureOpen() throws ClosedChannelException {
        if (!isOpen()) {
            throw new ClosedChannelException();
        }
    }

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
        synchronized (stateLock) {
            ensureOpen();
            return localAddress;
        }
    }

    @Override
    public SocketAddress getRemoteAddress() throws IOException {
        synchronized (stateLock) {
            ensureOpen();
            return remoteAddress;
        }
    }

    /** The local address even after close (for the Socket adaptor's getters). */
    InetSocketAddress localAddressOrNull() {
        synchronized (stateLock) {
            return localAddress;
        }
    }

    InetSocketAddress remoteAddressOrNull() {
        synchronized (stateLock) {
            return remoteAddress;
        }
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
            InetSocketAddress isa = local == null ? Addresses.wildcard(family) : Addresses.check(local, family);
            if (!isa.getAddress().isAnyLocalAddress()) {
                route(provider.routeLocal(isa.getAddress()), isa);
            }
            kernel.bind(isa);
            localAddress = (InetSocketAddress) kernel.localAddress();
            return this;
        });
    }

    /** Counts the fallback once, at the first address that decides it. */
    private void route(SlipstreamSelectorProvider.Route route, Object what) throws IOException {
        if (routed) {
            return;
        }
        if (route.stack() != null) {
            provider.fallBack(FallbackReason.TCP_NOT_ACCELERATED, what);
        } else {
            provider.fallBack(route.reason(), what);
        }
        routed = true;
    }

    @Override
    public boolean connect(SocketAddress remote) throws IOException {
        return connect(remote, 0);
    }

    /** Connects, in blocking mode giving up after {@code timeoutNanos} (0: no limit) with SocketTimeoutException. */
    boolean connect(SocketAddress remote, long timeoutNanos) throws IOException {
        InetSocketAddress isa = Addresses.checkRemote(remote, family);
        return locks.both(() -> {
            synchronized (stateLock) {
                ensureOpen();
                if (state == CONNECTED) {
                    throw new AlreadyConnectedException();
                }
                if (state == PENDING) {
                    throw new ConnectionPendingException();
                }
                route(provider.routeRemote(isa.getAddress()), isa);
                remoteAddress = isa;
                state = PENDING;
            }
            return completeConnect(true, isa, timeoutNanos);
        });
    }

    /**
     * Starts ({@code start}) or continues a connect: in blocking mode until it completes. A
     * failure closes the channel, as the JDK's does.
     */
    private boolean completeConnect(boolean start, InetSocketAddress isa, long timeoutNanos) throws IOException {
        boolean blocking = isBlocking();
        boolean connected = false;
        try {
            try {
                if (blocking) {
                    begin();
                }
                connected = start ? kernel.connect(isa) : kernel.finishConnect();
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
                localAddress = (InetSocketAddress) kernel.localAddress();
            }
        }
        return connected;
    }

    private boolean awaitConnect(long timeoutNanos) throws IOException {
        long deadline = timeoutNanos > 0 ? System.nanoTime() + timeoutNanos : 0;
        while (isOpen()) {
            if (kernel.finishConnect()) {
                return true;
            }
            long wait = 0;
            if (timeoutNanos > 0) {
                wait = deadline - System.nanoTime();
                if (wait <= 0) {
                    throw new SocketTimeoutException("Connect timed out");
                }
            }
            Poller.awaitWritable(kernel.fd(), wait);
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
                checkWritable(dst, dsts, offset, length);
                n = FdIo.read(kernel.fd(), dst, dsts, offset, length, true, blocking, timeoutNanos);
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

    private static void checkWritable(ByteBuffer dst, ByteBuffer[] dsts, int offset, int length) {
        if (dst != null ? dst.isReadOnly() : anyReadOnly(dsts, offset, length)) {
            throw new IllegalArgumentException("Read-only buffer");
        }
    }

    private static boolean anyReadOnly(ByteBuffer[] bufs, int offset, int length) {
        for (int i = offset; i < offset + length; i++) {
            if (bufs[i].isReadOnly()) {
                return true;
            }
        }
        return false;
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
                written = FdIo.write(kernel.fd(), src, srcs, offset, length, true, blocking);
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

    @Override
    public SocketChannel shutdownInput() throws IOException {
        synchronized (stateLock) {
            ensureOpen();
            if (state != CONNECTED) {
                throw new NotYetConnectedException();
            }
            if (!inputShutdown) {
                kernel.shutdown(Sockets.SHUT_RD);
                inputShutdown = true;
            }
        }
        return this;
    }

    @Override
    public SocketChannel shutdownOutput() throws IOException {
        synchronized (stateLock) {
            ensureOpen();
            if (state != CONNECTED) {
                throw new NotYetConnectedException();
            }
            if (!outputShutdown) {
                kernel.shutdown(Sockets.SHUT_WR);
                outputShutdown = true;
            }
        }
        return this;
    }

    // ---------------------------------------------------------------- options

    @Override
    public <T> SocketChannel setOption(SocketOption<T> name, T value) throws IOException {
        KernelOptions.check(KernelOptions.STREAM, name, value);
        synchronized (stateLock) {
            ensureOpen();
            KernelOptions.set(kernel, name, value);
        }
        return this;
    }

    @Override
    public <T> T getOption(SocketOption<T> name) throws IOException {
        KernelOptions.checkName(KernelOptions.STREAM, name);
        synchronized (stateLock) {
            ensureOpen();
            return KernelOptions.get(kernel, name);
        }
    }

    @Override
    public Set<SocketOption<?>> supportedOptions() {
        return KernelOptions.STREAM;
    }

    @Override
    public Socket socket() {
        synchronized (stateLock) {
            if (adaptor == null) {
                adaptor = SocketAdaptor.create(this);
            }
            return adaptor;
        }
    }

    // ---------------------------------------------------------------- closing and selection

    @Override
    protected void implCloseSelectableChannel() {
        kernel.close();
    }

    @Override
    protected void implConfigureBlocking(boolean block) {
        // The kernel socket is always non-blocking; blocking mode is how this class waits.
    }

    @Override
    public KernelFd kernelFd() {
        return kernel.fd();
    }

    @Override
    public int epollEvents(int interestOps) {
        return ShimChannel.epollEvents(interestOps, SelectionKey.OP_READ, SelectionKey.OP_WRITE | SelectionKey.OP_CONNECT);
    }

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
    public SelectionKeys keys() {
        return keys;
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder(getClass().getSimpleName()).append('[');
        if (!isOpen()) {
            sb.append("closed");
        } else {
            synchronized (stateLock) {
                sb.append(state == CONNECTED ? "connected" : state == PENDING ? "connection-pending" : "unconnected");
                sb.append(" kernel");
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
