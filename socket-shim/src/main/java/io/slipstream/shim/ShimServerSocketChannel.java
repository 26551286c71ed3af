package io.slipstream.shim;

import io.slipstream.shim.kernel.KernelSocket;
import io.slipstream.shim.kernel.Timeouts;
import io.slipstream.linux.Sockets;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ProtocolFamily;
import java.net.ServerSocket;
import java.net.SocketAddress;
import java.net.SocketOption;
import java.nio.channels.AlreadyBoundException;
import java.nio.channels.NotYetBoundException;
import java.nio.channels.SelectionKey;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.net.StandardSocketOptions;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Slipstream's ServerSocketChannel. Bound to a stack's address it listens on that stack only;
 * bound to the wildcard address it listens on the kernel and on every configured stack at the
 * same port, and accepts from whichever has a connection; bound anywhere else (loopback, another
 * interface) it is a kernel listener, counted as a fallback.
 */
final class ShimServerSocketChannel extends ServerSocketChannel implements ShimNetworkChannel {
    /** What a stack-only listener reports for SO_RCVBUF when none was set (the kernel's default). */
    private static final int LISTENER_RCVBUF = 131_072;

    private final SlipstreamSelectorProvider provider;
    private final int family;
    private final SelectionKeys keys = new SelectionKeys(SelectionKey.OP_ACCEPT, 0);

    // Lock order: acceptLock, stateLock.
    // -- held by accept
    private final ReentrantLock acceptLock = new ReentrantLock();
    // -- guards the fields below it
    private final Object stateLock = new Object();

    /** Where the channel listens: written under stateLock (bind), read without it by accept and selectors. */
    private volatile Listeners backend;

    // -- guarded by stateLock
    private SocketAddress localAddress;
    /** Options set by the application, reported back for a listener that has no kernel socket. */
    private final Map<SocketOption<?>, Object> options = new HashMap<>();

    /** The java.net view (socket()); guarded by its own monitor. */
    private final SocketView<ShimServerSocketChannel, ServerSocketAdaptor> view =
            new SocketView<>(ServerSocketAdaptor::create);

    ShimServerSocketChannel(SlipstreamSelectorProvider provider, ProtocolFamily family) throws IOException {
        super(provider);
        this.provider = provider;
        this.family = Addresses.kernelFamily(family);
        KernelSocket k = KernelSocket.open(this.family, true);
        try {
            // The JDK's listeners have SO_REUSEADDR on by default, so restarts find their port free.
            k.setInt(Sockets.SOL_SOCKET, Sockets.SO_REUSEADDR, 1);
        } catch (IOException e) {
            k.close();
            throw e;
        }
        this.backend = new Listeners(k, List.of(), keys);
    }

    /** A listening kernel socket inherited from the parent process (System.inheritedChannel). */
    ShimServerSocketChannel(SlipstreamSelectorProvider provider, KernelSocket listening) throws IOException {
        super(provider);
        this.provider = provider;
        this.family = listening.family();
        this.backend = new Listeners(listening, List.of(), keys);
        this.localAddress = listening.localAddress();
    }

    @Override
    public ServerSocketChannel bind(SocketAddress local, int backlog) throws IOException {
        synchronized (stateLock) {
            ensureOpen();
            if (localAddress != null) {
                throw new AlreadyBoundException();
            }
            int queue = backlog < 1 ? 50 : backlog;
            KernelSocket kernel = backend.kernel(); // unbound: always a kernel listener
            if (family == Sockets.AF_UNIX) {
                // UNIX-domain sockets are local IPC, never network traffic: neither accelerated nor a fallback.
                kernel.bind(Addresses.checkUnix(local, true));
                kernel.listen(queue);
                localAddress = kernel.localAddress();
                return this;
            }
            InetSocketAddress isa = local == null ? Addresses.wildcard(family) : Addresses.check(local, family);
            SlipstreamSelectorProvider.Route route = provider.routeLocal(isa.getAddress());
            if (route.stack() != null) {
                ShimStacks.Opened stack = provider.accelerate(route, isa);
                if (stack != null) {
                    AcceleratedListener l = AcceleratedListener.listen(stack, isa.getPort(), queue, options, keys, false);
                    backend = new Listeners(null, List.of(l), keys);
                    kernel.close();
                    localAddress = new InetSocketAddress(isa.getAddress(), l.port());
                    keys.backingChanged();
                    return this;
                }
            }
            kernel.bind(isa);
            kernel.listen(queue);
            InetSocketAddress bound = (InetSocketAddress) kernel.localAddress();
            localAddress = bound;
            if (route.reason() == FallbackReason.WILDCARD_BIND) {
                listenOnEveryStack(kernel, bound, queue);
            } else if (route.stack() == null) {
                provider.fallBack(route.reason(), isa);
            } // else its stack did not open: that fallback is counted already
        }
        return this;
    }

    /**
     * A wildcard listener also listens on each stack, at the kernel listener's port. The kernel
     * listener, bound to every address, holds the port for the stacks too (a stack that shares
     * its address with the kernel could not hold it beside it).
     */
    private void listenOnEveryStack(KernelSocket kernel, InetSocketAddress bound, int queue) throws IOException {
        List<AcceleratedListener> ls = new ArrayList<>();
        try {
            for (ShimStacks.Opened stack : provider.allStacks(bound)) {
                ls.add(AcceleratedListener.listen(stack, bound.getPort(), queue, options, keys, true));
            }
        } catch (IOException e) {
            for (AcceleratedListener l : ls) {
                l.close();
            }
            throw e;
        }
        backend = new Listeners(kernel, List.copyOf(ls), keys, new WildcardAcceptWait());
        keys.backingChanged();
    }

    @Override
    public Backend backend() {
        return backend;
    }


    @Override
    public SocketAddress getLocalAddress() throws IOException {
        return addressWhileOpen(true);
    }

    @Override
    public SocketAddress address(boolean local) {
        synchronized (stateLock) {
            return local ? localAddress : null;
        }
    }

    @Override
    public ServerSocket socket() {
        return view.of(this, family);
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
            SocketChannel accepted = null;
            try {
                if (blocking) {
                    begin();
                }
                long deadlineNanos = Timeouts.deadlineNanos(timeoutNanos);
                while (true) {
                    accepted = backend.accept(provider);
                    if (accepted != null || !blocking || !isOpen()) {
                        break;
                    }
                    backend.await(Timeouts.waitNanos(timeoutNanos, deadlineNanos, "Accept timed out"));
                }
            } finally {
                if (blocking) {
                    end(accepted != null);
                }
            }
            return accepted;
        } finally {
            acceptLock.unlock();
        }
    }

    @Override
    public <T> ServerSocketChannel setOption(SocketOption<T> name, T value) throws IOException {
        KernelOptions.check(supportedOptions(), name, value);
        synchronized (stateLock) {
            ensureOpen();
            KernelSocket k = backend.kernel();
            if (k != null) {
                KernelOptions.set(k, name, value);
            }
            options.put(name, value);
        }
        return this;
    }

    @Override
    public <T> T getOption(SocketOption<T> name) throws IOException {
        KernelOptions.checkName(supportedOptions(), name);
        synchronized (stateLock) {
            ensureOpen();
            KernelSocket k = backend.kernel();
            if (k != null) {
                return KernelOptions.get(k, name);
            }
            Object v = options.get(name);
            if (v == null) {
                v = name == StandardSocketOptions.SO_RCVBUF ? (Object) LISTENER_RCVBUF : (Object) Boolean.valueOf(name == StandardSocketOptions.SO_REUSEADDR);
            }
            return name.type().cast(v);
        }
    }

    @Override
    public Set<SocketOption<?>> supportedOptions() {
        return family == Sockets.AF_UNIX ? KernelOptions.UNIX_LISTENER : KernelOptions.LISTENER;
    }

    @Override
    public String toString() {
        if (!isOpen()) {
            return "ShimServerSocketChannel[closed]";
        }
        SocketAddress a;
        synchronized (stateLock) {
            a = localAddress;
        }
        Listeners b = backend;
        return "ShimServerSocketChannel[" + (a == null ? "unbound" : a.toString())
                + (b.kernel() != null ? " kernel" : "") + (b.onStacks().isEmpty() ? "" : " accelerated") + "]";
    }

    @Override
    protected void implCloseSelectableChannel() {
        backend.close();
    }

    @Override
    protected void implConfigureBlocking(boolean block) {
        // Always non-blocking underneath: blocking mode is how accept waits.
    }
}
