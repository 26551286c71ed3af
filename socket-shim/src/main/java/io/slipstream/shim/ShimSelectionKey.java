package io.slipstream.shim;

import io.slipstream.shim.kernel.KernelFd;
import java.nio.channels.CancelledKeyException;
import java.nio.channels.SelectableChannel;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.spi.AbstractSelectionKey;

/** A registration of a Slipstream channel with a {@link ShimSelector}. */
final class ShimSelectionKey extends AbstractSelectionKey {
    private final SelectableChannel channel;
    private final ShimSelector selector;
    private volatile int interestOps;
    private volatile int readyOps;
    /** What the selector registered in its epoll set (selecting thread only). */
    KernelFd registeredFd;
    int registeredEvents;
    /** Kernel readiness of a channel that is also accelerated, merged with the stack's (selecting thread only). */
    int kernelReady;

    ShimSelectionKey(SelectableChannel channel, ShimSelector selector) {
        this.channel = channel;
        this.selector = selector;
    }

    @Override
    public SelectableChannel channel() {
        return channel;
    }

    ShimChannel shimChannel() {
        return (ShimChannel) channel;
    }

    @Override
    public Selector selector() {
        return selector;
    }

    ShimSelector shimSelector() {
        return selector;
    }

    @Override
    public int interestOps() {
        ensureValid();
        return interestOps;
    }

    int interest() {
        return interestOps;
    }

    @Override
    public SelectionKey interestOps(int ops) {
        ensureValid();
        if ((ops & ~channel.validOps()) != 0) {
            throw new IllegalArgumentException("Invalid interest ops: " + ops);
        }
        int old = interestOps;
        interestOps = ops;
        if (old != ops) {
            selector.updateKey(this);
        }
        return this;
    }

    @Override
    public int readyOps() {
        ensureValid();
        return readyOps;
    }

    int ready() {
        return readyOps;
    }

    void setReady(int ops) {
        readyOps = ops;
    }

    private void ensureValid() {
        if (!isValid()) {
            throw new CancelledKeyException();
        }
    }
}
