package io.slipstream.shim;

import io.slipstream.nic.NicException;
import io.slipstream.stack.Stack;
import io.slipstream.stack.WaitCondition;
import io.slipstream.tcp.AddressInUseException;
import io.slipstream.tcp.ReadinessListener;
import io.slipstream.tcp.TcpConnection;
import io.slipstream.tcp.TcpListener;
import io.slipstream.tcp.TcpSocket;
import java.io.IOException;
import java.util.concurrent.ThreadLocalRandom;

/**
 * A listener on one Slipstream stack, inside a {@link ShimServerSocketChannel}. Its readiness
 * callback wakes the listener's wait queue, the selectors the channel is in, and a thread that
 * waits on this listener and a kernel listener at once (a wildcard bind).
 */
final class AcceleratedListener extends OnStack implements ReadinessListener {
    private static final int EPHEMERAL_LOW = 49152;
    private static final int EPHEMERAL_TRIES = 64;

    private final ShimStacks.Opened opened;
    private final TcpListener listener;
    private final WaitCondition acceptable;
    /** A thread's wait on this listener and a kernel listener together, in its own epoll set. */
    volatile WildcardAcceptWait mixedWait;

    /** Under the stack lock. */
    private AcceleratedListener(ShimStacks.Opened opened, TcpListener listener, SelectionKeys keys) {
        super(opened.stack(), keys);
        assert locked();
        this.opened = opened;
        this.listener = listener;
        this.acceptable = () -> closed || listener.acceptable();
        listener.readinessListener(this);
    }

    /**
     * Listens on {@code port} of {@code opened}'s stack, accepted connections getting the
     * buffer sizes among the channel's {@code options}; port 0 picks a free dynamic port
     * (RFC 6335's range, random start, as the kernel does), passing over ports in use on the
     * stack or held outside it. {@code portHeldByKernelListener}: the channel's own kernel
     * listener, bound to the wildcard at this port, holds it already (see
     * {@code TcpLayer.listen}).
     */
    static AcceleratedListener listen(ShimStacks.Opened opened, int port, int backlog,
            java.util.Map<java.net.SocketOption<?>, Object> options, SelectionKeys keys,
            boolean portHeldByKernelListener) throws IOException {
        Stack stack = opened.stack();
        stack.enter();
        try {
            int tries = port == 0 ? EPHEMERAL_TRIES : 1;
            AddressInUseException inUse = null;
            for (int i = 0; i < tries; i++) {
                int p = port != 0 ? port : EPHEMERAL_LOW + ThreadLocalRandom.current().nextInt(65536 - EPHEMERAL_LOW);
                try {
                    return new AcceleratedListener(opened, opened.tcp().listen(p, backlog,
                            AcceleratedTcp.connectOptions(options), portHeldByKernelListener), keys);
                } catch (AddressInUseException e) {
                    inUse = e; // try another dynamic port, or report the fixed one busy
                } catch (NicException e) {
                    throw holdFailed(e);
                }
            }
            throw addressInUse(inUse);
        } finally {
            stack.exit();
        }
    }

    ShimStacks.Opened opened() {
        return opened;
    }

    int port() {
        return listener.localPort();
    }

    @Override
    public void readinessChanged(TcpSocket socket) {
        readinessChanged();
        wakeMixed();
    }

    /** A connection from the accept queue, or null. */
    TcpConnection accept() {
        stack.enter();
        try {
            return listener.accept();
        } finally {
            stack.exit();
        }
    }

    @Override
    void closeLocked() {
        assert locked();
        listener.close();
    }

    boolean acceptable() {
        return acceptable.ready();
    }

    /** Waits (0: no limit) until a connection waits, the listener closes or the thread is interrupted. */
    void await(long timeoutNanos) {
        await(acceptable, timeoutNanos);
    }

    /** Closes the listener and wakes its waiters, the mixed one too. */
    @Override
    public void close() {
        super.close();
        wakeMixed();
    }

    /** Wakes a wildcard accept waiting on this listener and the kernel's. */
    private void wakeMixed() {
        WildcardAcceptWait w = mixedWait;
        if (w != null) {
            w.signal();
        }
    }
}
