package io.slipstream.shim;

import io.slipstream.shim.kernel.KernelFd;
import io.slipstream.shim.kernel.KernelSocket;
import io.slipstream.shim.kernel.Poller;
import io.slipstream.stack.Stack;
import java.io.IOException;
import java.nio.channels.SelectionKey;
import java.nio.channels.SocketChannel;
import java.util.List;

/**
 * A {@link ShimServerSocketChannel}'s listening sockets: a kernel listener ({@code kernel}, null
 * when bound to a stack's address only), listeners on stacks ({@code onStacks}, empty for a
 * kernel-only listener), or both (a wildcard bind listens on the kernel and on every stack at
 * one port; then {@code acceptWait} is how a blocking accept waits). Immutable:
 * the channel replaces its Listeners when bind changes them.
 */
record Listeners(KernelSocket kernel, List<AcceleratedListener> onStacks, SelectionKeys keys,
        WildcardAcceptWait acceptWait) implements Backend {
    /** Listeners without a wildcard accept's wait (one kind of listener only). */
    Listeners(KernelSocket kernel, List<AcceleratedListener> onStacks, SelectionKeys keys) {
        this(kernel, onStacks, keys, null);
    }

    @Override
    public KernelFd kernelFd() {
        return kernel == null ? null : kernel.fd();
    }

    @Override
    public Stack stack() {
        return onStacks.isEmpty() ? null : onStacks.get(0).stack();
    }

    @Override
    public int readyOps(int interestOps) {
        if ((interestOps & SelectionKey.OP_ACCEPT) != 0) {
            for (AcceleratedListener l : onStacks) {
                if (l.acceptable()) {
                    return SelectionKey.OP_ACCEPT;
                }
            }
        }
        return 0;
    }

    /**
     * Closes the kernel listener first: a wildcard one holds the port for the stacks, and their
     * accepted connections, which outlive the listeners, take their own hold of it as the stack
     * listeners close (see {@code TcpLayer}), which the kernel listener would refuse.
     */
    @Override
    public void close() {
        if (kernel != null) {
            kernel.close();
        }
        for (AcceleratedListener l : onStacks) {
            l.close();
        }
        if (acceptWait != null) {
            acceptWait.close();
        }
    }

    /** A connection from any of the listeners, or null. */
    SocketChannel accept(SlipstreamSelectorProvider provider) throws IOException {
        for (AcceleratedListener l : onStacks) {
            io.slipstream.tcp.TcpConnection c = l.accept();
            if (c != null) {
                return new ShimSocketChannel(provider, l.opened(), c);
            }
        }
        if (kernel == null) {
            return null;
        }
        KernelSocket accepted = kernel.accept();
        if (accepted == null) {
            return null;
        }
        try {
            return new ShimSocketChannel(provider, accepted);
        } catch (IOException e) {
            accepted.close();
            throw e;
        }
    }

    /**
     * Waits for a connection (0: no limit): on the stack, on the kernel poller, or, for a
     * wildcard listener, in {@link #acceptWait}, woken by the kernel listener and the stacks'
     * NICs (a virtual thread parks there, never pinning its carrier).
     */
    void await(long timeoutNanos) throws IOException {
        if (kernel == null) {
            onStacks.get(0).await(timeoutNanos);
        } else if (onStacks.isEmpty()) {
            Poller.awaitReadable(kernel.fd(), timeoutNanos);
        } else {
            acceptWait.await(kernel.fd(), onStacks, timeoutNanos);
        }
    }
}
