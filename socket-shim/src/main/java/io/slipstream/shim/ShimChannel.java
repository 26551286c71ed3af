package io.slipstream.shim;

import io.slipstream.shim.kernel.KernelFd;
import io.slipstream.shim.kernel.Sockets;
import io.slipstream.stack.Stack;

/**
 * What a {@link ShimSelector} needs from a Slipstream channel: where its readiness comes from
 * (a kernel descriptor in the epoll set, or a Slipstream stack) and how to translate it into
 * ready operations, as the JDK's SelChImpl does for its own channels.
 */
interface ShimChannel {
    /** What the channel runs on now: its readiness, its descriptor or stack, its close. */
    Backend backend();

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
    int epollEvents(int interestOps);

    /** The ready operations, among {@code interestOps}, that epoll {@code events} stand for. */
    int readyOps(int events, int interestOps);

    /** The channel's keys, told when its backing moves from kernel to stack or back. */
    SelectionKeys keys();

    /** epoll events for {@code interestOps} where {@code inOps} wait for EPOLLIN and {@code outOps} for EPOLLOUT. */
    static int epollEvents(int interestOps, int inOps, int outOps) {
        int events = 0;
        if ((interestOps & inOps) != 0) {
            events |= Sockets.EPOLLIN;
        }
        if ((interestOps & outOps) != 0) {
            events |= Sockets.EPOLLOUT;
        }
        return events;
    }

    /**
     * Ready operations for epoll {@code events}: an error or hang-up makes every interest ready
     * (the operation will then report it), as the JDK's translateReadyOps does.
     */
    static int readyOps(int events, int interestOps, int inOps, int outOps) {
        if ((events & (Sockets.EPOLLERR | Sockets.EPOLLHUP)) != 0) {
            return interestOps;
        }
        int ops = 0;
        if ((events & Sockets.EPOLLIN) != 0) {
            ops |= interestOps & inOps;
        }
        if ((events & Sockets.EPOLLOUT) != 0) {
            ops |= interestOps & outOps;
        }
        return ops;
    }
}
