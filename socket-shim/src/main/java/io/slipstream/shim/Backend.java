package io.slipstream.shim;

import io.slipstream.shim.kernel.KernelFd;
import io.slipstream.stack.Stack;

/**
 * What a channel runs on at one moment: a kernel socket, or a socket of a Slipstream stack. A
 * channel holds its backend in one volatile field and calls it without asking which kind it is;
 * moving onto a stack replaces the field and tells the channel's keys. The selector asks the
 * same questions of every backend: a kernel one is watched in the epoll set through its
 * descriptor, an accelerated one is asked for its ready operations under its stack's lock.
 */
interface Backend {
    /** The kernel descriptor behind the channel, or null on a stack. */
    KernelFd kernelFd();

    /** The stack of an accelerated socket, or null on the kernel. */
    default Stack stack() {
        return null;
    }

    /**
     * Ready operations among {@code interestOps} of an accelerated socket (takes the stack
     * lock); 0 on the kernel, whose readiness the selector's epoll set reports.
     */
    default int readyOps(int interestOps) {
        return 0;
    }

    /** The channel's selection keys (the same whichever backend the channel has). */
    SelectionKeys keys();

    /** Releases the socket and wakes the threads waiting on it. */
    void close();

    /** A bare kernel descriptor (a pipe's end). */
    record Descriptor(KernelFd kernelFd, SelectionKeys keys) implements Backend {
        @Override
        public void close() {
            kernelFd.close();
        }
    }
}
