package io.slipstream.shim;

import io.slipstream.driver.linux.Sockets;
import io.slipstream.shim.kernel.FdIo;
import io.slipstream.shim.kernel.KernelFd;
import io.slipstream.shim.kernel.KernelSocket;
import io.slipstream.shim.kernel.Poller;
import io.slipstream.stack.Stack;
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
    private final ReentrantLock readLock = new ReentrantLock();
    private final ReentrantLock writeLock = new ReentrantLock();
    private final Object stateLock = new Object();
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
        readLock.lock();
        try {
            writeLock.lock();
            try {
                synchronized (stateLock) {
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
                }
            } finally {
                writeLock.unlock();
            }
        } finally {
            readLock.unlock();
        }
        return this;
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
        readLock.lock();
        try {
            writeLock.lock();
            try {
                synchronized (stateLock) {
                    ensureOpen();
                    if (state == CONNECTED) {
                        throw new AlreadyConnectedException();
                    }
                    if (state == PENDING) {
                        throw new ConnectionPendingException();
                    }
                    route(provider.routeRemote(isa.getAddress()), isa);
                }
                boolean blocking = isBlocking();
                boolean connected = false;
                try {
                    try {
                        if (blocking) {
                            begin();
                        }
                        synchronized (stateLock) {
                            remoteAddress = isa;
                            state = PENDING;
                        }
                        connected = kernel.connect(isa);
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
                    connected();
                }
                return connected;
            } finally {
                writeLock.unlock();
            }
        } finally {
            readLock.unlock();
        }
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

    private void connected() throws IOException {
        synchronized (stateLock) {
            state = CONNECTED;
            localAddress = (InetSocketAddress) kernel.localAddress();
        }
    }

    @Override
    public boolean finishConnect() throws IOException {
        readLock.lock();
        try {
            writeLock.lock();
            try {
                synchronized (stateLock) {
                    ensureOpen();
                    if (state == CONNECTED) {
                        return true;
                    }
                    if (state != PENDING) {
                        throw new NoConnectionPendingException();
                    }
                }
                boolean blocking = isBlocking();
                boolean connected = false;
                try {
                    try {
                        if (blocking) {
                            begin();
                            connected = awaitConnect(0);
                        } else {
                            connected = kernel.finishConnect();
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
                    connected();
                }
                return connected;
            } finally {
                writeLock.unlock();
            }
        } finally {
            readLock.unlock();
        }
    }

    // ---------------------------------------------------------------- data

    @Override
    public int read(ByteBuffer dst) throws IOException {
        return read(dst, 0);
    }

    /** Reads; in blocking mode gives up after {@code timeoutNanos} (0: no limit) with SocketTimeoutException. */
    int read(ByteBuffer dst, long timeoutNanos) throws IOException {
        Objects.requireNonNull(dst);
        readLock.lock();
        try {
            ensureOpenAndConnected();
            boolean blocking = isBlocking();
            int n = 0;
            try {
                if (blocking) {
                    begin();
                }
                if (inputShutdown) {
                    n = FdIo.EOF;
                    return n;
                }
                if (dst.isReadOnly()) {
                    throw new IllegalArgumentException("Read-only buffer");
                }
                long deadline = timeoutNanos > 0 ? System.nanoTime() + timeoutNanos : 0;
                while (true) {
                    n = kernel.read(dst);
                    if (n != FdIo.UNAVAILABLE || !blocking || !isOpen()) {
                        break;
                    }
                    Poller.awaitReadable(kernel.fd(), remaining(timeoutNanos, deadline, "Read timed out"));
                }
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

    private static long remaining(long timeoutNanos, long deadline, String message) throws SocketTimeoutException {
        if (timeoutNanos <= 0) {
            return 0;
        }
        long left = deadline - System.nanoTime();
        if (left <= 0) {
            throw new SocketTimeoutException(message);
        }
        return left;
    }

    @Override
    public long read(ByteBuffer[] dsts, int offset, int length) throws IOException {
        Objects.checkFromIndexSize(offset, length, dsts.length);
        readLock.lock();
        try {
            ensureOpenAndConnected();
            boolean blocking = isBlocking();
            long n = 0;
            try {
                if (blocking) {
                    begin();
                }
                if (inputShutdown) {
                    n = FdIo.EOF;
                    return n;
                }
                for (int i = offset; i < offset + length; i++) {
                    if (dsts[i].isReadOnly()) {
                        throw new IllegalArgumentException("Read-only buffer");
                    }
                }
                while (true) {
                    n = kernel.read(dsts, offset, length);
                    if (n != FdIo.UNAVAILABLE || !blocking || !isOpen()) {
                        break;
                    }
                    Poller.awaitReadable(kernel.fd(), 0);
                }
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
        writeLock.lock();
        try {
            ensureOpenAndConnected();
            boolean blocking = isBlocking();
            int written = 0;
            int n = 0;
            try {
                if (blocking) {
                    begin();
                }
                if (outputShutdown) {
                    throw new ClosedChannelException();
                }
                while (true) {
                    n = kernel.write(src);
                    if (n > 0) {
                        written += n;
                    }
                    if (!blocking || !src.hasRemaining() || !isOpen()) {
                        break;
                    }
                    if (n == FdIo.UNAVAILABLE) {
                        Poller.awaitWritable(kernel.fd(), 0);
                    }
                }
                return written;
            } finally {
                if (blocking) {
                    end(written > 0 || !src.hasRemaining());
                }
            }
        } finally {
            writeLock.unlock();
        }
    }

    @Override
    public long write(ByteBuffer[] srcs, int offset, int length) throws IOException {
        Objects.checkFromIndexSize(offset, length, srcs.length);
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
                while (true) {
                    long n = kernel.write(srcs, offset, length);
                    if (n > 0) {
                        written += n;
                    }
                    if (!blocking || !hasRemaining(srcs, offset, length) || !isOpen()) {
                        break;
                    }
                    if (n == FdIo.UNAVAILABLE) {
                        Poller.awaitWritable(kernel.fd(), 0);
                    }
                }
                return written;
            } finally {
                if (blocking) {
                    end(written > 0 || !hasRemaining(srcs, offset, length));
                }
            }
        } finally {
            writeLock.unlock();
        }
    }

    private static boolean hasRemaining(ByteBuffer[] bufs, int offset, int length) {
        for (int i = offset; i < offset + length; i++) {
            if (bufs[i].hasRemaining()) {
                return true;
            }
        }
        return false;
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
        int events = 0;
        if ((interestOps & SelectionKey.OP_READ) != 0) {
            events |= Sockets.EPOLLIN;
        }
        if ((interestOps & (SelectionKey.OP_WRITE | SelectionKey.OP_CONNECT)) != 0) {
            events |= Sockets.EPOLLOUT;
        }
        return events;
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
    public Stack stack() {
        return null;
    }

    @Override
    public int acceleratedReadyOps(int interestOps) {
        return 0;
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
