package io.slipstream.shim;

import io.slipstream.driver.linux.Sockets;
import io.slipstream.shim.kernel.KernelFd;
import io.slipstream.shim.kernel.KernelSocket;
import io.slipstream.shim.kernel.Poller;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ProtocolFamily;
import java.net.ServerSocket;
import java.net.SocketAddress;
import java.net.SocketOption;
import java.net.SocketTimeoutException;
import java.nio.channels.AlreadyBoundException;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.NotYetBoundException;
import java.nio.channels.SelectionKey;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.Set;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Slipstream's ServerSocketChannel; in this phase a kernel listener (TCP acceleration arrives
 * with the TCP engine), routed at bind so the fallback is counted with its reason.
 */
final class ShimServerSocketChannel extends ServerSocketChannel implements ShimChannel {
    private final SlipstreamSelectorProvider provider;
    private final ReentrantLock acceptLock = new ReentrantLock();
    private final Object stateLock = new Object();
    private final SelectionKeys keys = new SelectionKeys();
    private final KernelSocket kernel;
    private final int family;
    private InetSocketAddress localAddress;
    private ServerSocketAdaptor adaptor;

    ShimServerSocketChannel(SlipstreamSelectorProvider provider, ProtocolFamily family) throws IOException {
        super(provider);
        this.provider = provider;
        this.family = Addresses.kernelFamily(family);
        this.kernel = KernelSocket.open(this.family, true);
        try {
            // The JDK's listeners have SO_REUSEADDR on by default, so restarts find their port free.
            kernel.setInt(Sockets.SOL_SOCKET, Sockets.SO_REUSEADDR, 1);
        } catch (IOException e) {
            kernel.close();
            throw e;
        }
    }

    private void ensureOpen() throws ClosedChannelException {
        if (!isOpen()) {
            throw new ClosedChannelException();
        }
    }

    @Override
    public ServerSocketChannel bind(SocketAddress local, int backlog) throws IOException {
        synchronized (stateLock) {
            ensureOpen();
            if (localAddress != null) {
                throw new AlreadyBoundException();
            }
            InetSocketAddress isa = local == null ? Addresses.wildcard(family) : Addresses.check(local, family);
            SlipstreamSelectorProvider.Route route = provider.routeLocal(isa.getAddress());
            provider.fallBack(route.stack() != null ? FallbackReason.TCP_NOT_ACCELERATED : route.reason(), isa);
            kernel.bind(isa);
            kernel.listen(backlog < 1 ? 50 : backlog);
            localAddress = (InetSocketAddress) kernel.localAddress();
        }
        return this;
    }

    boolean isBound() {
        synchronized (stateLock) {
            return localAddress != null;
        }
    }

    @Override
    public SocketAddress getLocalAddress() throws IOException {
        synchronized (stateLock) {
            ensureOpen();
            return localAddress;
        }
    }

    InetSocketAddress localAddressOrNull() {
        synchronized (stateLock) {
            return localAddress;
        }
    }

    @Override
    public SocketChannel accept() throws IOException {
        return accept(0);
    }

    /** Accepts; in blocking mode gives up after {@code timeoutNanos} (0: no limit) with SocketTimeoutException. */
    SocketChannel accept(long timeoutNanos) throws IOException {
        acceptLock.lock();
        try {
            synchronized (stateLock) {
                ensureOpen();
                if (localAddress == null) {
                    throw new NotYetBoundException();
                }
            }
            boolean blocking = isBlocking();
            KernelSocket accepted = null;
            try {
                if (blocking) {
                    begin();
                }
                long deadline = timeoutNanos > 0 ? System.nanoTime() + timeoutNanos : 0;
                while (true) {
                    accepted = kernel.accept();
                    if (accepted != null || !blocking || !isOpen()) {
                        break;
                    }
                    long wait = 0;
                    if (timeoutNanos > 0) {
                        wait = deadline - System.nanoTime();
                        if (wait <= 0) {
                            throw new SocketTimeoutException("Accept timed out");
                        }
                    }
                    Poller.awaitReadable(kernel.fd(), wait);
                }
            } finally {
                if (blocking) {
                    end(accepted != null);
                }
            }
            if (accepted == null) {
                return null;
            }
            try {
                return new ShimSocketChannel(provider, accepted);
            } catch (IOException e) {
                accepted.close();
                throw e;
            }
        } finally {
            acceptLock.unlock();
        }
    }

    @Override
    public <T> ServerSocketChannel setOption(SocketOption<T> name, T value) throws IOException {
        KernelOptions.check(KernelOptions.LISTENER, name, value);
        synchronized (stateLock) {
            ensureOpen();
            KernelOptions.set(kernel, name, value);
        }
        return this;
    }

    @Override
    public <T> T getOption(SocketOption<T> name) throws IOException {
        KernelOptions.checkName(KernelOptions.LISTENER, name);
        synchronized (stateLock) {
            ensureOpen();
            return KernelOptions.get(kernel, name);
        }
    }

    @Override
    public Set<SocketOption<?>> supportedOptions() {
        return KernelOptions.LISTENER;
    }

    @Override
    public ServerSocket socket() {
        synchronized (stateLock) {
            if (adaptor == null) {
                adaptor = ServerSocketAdaptor.create(this);
            }
            return adaptor;
        }
    }

    @Override
    protected void implCloseSelectableChannel() {
        kernel.close();
    }

    @Override
    protected void implConfigureBlocking(boolean block) {
        // Always non-blocking underneath.
    }

    @Override
    public KernelFd kernelFd() {
        return kernel.fd();
    }

    @Override
    public int epollEvents(int interestOps) {
        return ShimChannel.epollEvents(interestOps, SelectionKey.OP_ACCEPT, 0);
    }

    @Override
    public int readyOps(int events, int interestOps) {
        return ShimChannel.readyOps(events, interestOps, SelectionKey.OP_ACCEPT, 0);
    }

    @Override
    public SelectionKeys keys() {
        return keys;
    }

    @Override
    public String toString() {
        if (!isOpen()) {
            return "ShimServerSocketChannel[closed]";
        }
        InetSocketAddress a = localAddressOrNull();
        return "ShimServerSocketChannel[" + (a == null ? "unbound" : a.toString()) + " kernel]";
    }
}
