package io.slipstream.shim;

import io.slipstream.shim.kernel.KernelFd;
import io.slipstream.stack.Stack;

/**
 * What a {@link ShimSelector} needs from a Slipstream channel: where its readiness comes from
 * (a kernel descriptor in the epoll set, or a Slipstream stack) and how to translate it into
 * ready operations, as the JDK's SelChImpl does for its own channels.
 */
interface ShimChannel {
    /** The kernel descriptor behind the channel, or null while it is accelerated (or has none). */
    KernelFd kernelFd();

    /** The epoll events that stand for {@code interestOps}. */
    int epollEvents(int interestOps);

    /** The ready operations, among {@code interestOps}, that epoll {@code events} stand for. */
    int readyOps(int events, int interestOps);

    /** The stack of the accelerated socket inside, or null when it is a kernel socket. */
    Stack stack();

    /** Ready operations among {@code interestOps} of the accelerated socket (takes the stack lock). */
    int acceleratedReadyOps(int interestOps);

    /** The channel's keys, told when its backing moves from kernel to stack or back. */
    SelectionKeys keys();
}
