package io.slipstream.shim;

import io.slipstream.shim.kernel.KernelFd;
import io.slipstream.stack.Stack;
import java.nio.channels.ClosedChannelException;

/**
 * What a {@link ShimSelector} needs from a Slipstream channel: where its readiness comes from
 * (a kernel descriptor in the epoll set, or a Slipstream stack) and how to translate it into
 * ready operations, as the JDK's SelChImpl does for its own channels.
 */
interface ShimChannel {
    /** What the channel runs on now: its readiness, its descriptor or stack, its close. */
    Backend backend();

    /** As the channel's own (java.nio.channels.Channel). */
    boolean isOpen();

    /** As the channel's own (java.nio.channels.SelectableChannel). */
    boolean isBlocking();

    /** Throws ClosedChannelException once the channel is closed. */
    default void ensureOpen() throws ClosedChannelException {
        if (!isOpen()) {
            throw new ClosedChannelException();
        }
    }

    /** True when the channel runs on a Slipstream stack (for a wildcard listener: on one at least). */
    default boolean isAccelerated() {
        return backend().stack() != null;
    }

    /** The kernel descriptor behind the channel, or null while it is accelerated. */
    default KernelFd kernelFd() {
        return backend().kernelFd();
    }

    /** The stack of the accelerated socket inside, or null when it is a kernel socket. */
    default Stack stack() {
        return backend().stack();
    }

    /** Ready operations among {@code interestOps} of the accelerated socket (takes the stack lock). */
    default int acceleratedReadyOps(int interestOps) {
        return backend().readyOps(interestOps);
    }

    /** The epoll events that stand for {@code interestOps}. */
    default int epollEvents(int interestOps) {
        return keys().epollEvents(interestOps);
    }

    /** The ready operations, among {@code interestOps}, that epoll {@code events} stand for. */
    default int readyOps(int events, int interestOps) {
        return keys().readyOps(events, interestOps);
    }

    /** The channel's keys, told when its backing moves from kernel to stack or back. */
    default SelectionKeys keys() {
        return backend().keys();
    }
}
