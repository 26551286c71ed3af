package io.slipstream.shim;

import io.slipstream.shim.kernel.KernelFd;
import io.slipstream.shim.kernel.KernelSocket;

/**
 * What the kernel backends share: the socket, watched by the selectors' epoll sets through its
 * descriptor (so {@link Backend#readyOps} stays 0), and the channel's keys.
 */
abstract class OnKernel implements Backend {
    /** Bound, listened on and joined by the channel directly: those happen only on the kernel. */
    final KernelSocket socket;
    private final SelectionKeys keys;

    OnKernel(KernelSocket socket, SelectionKeys keys) {
        this.socket = socket;
        this.keys = keys;
    }

    /** The kernel socket of a channel that is on the kernel (binding and multicast happen only there). */
    static KernelSocket socketOf(Backend backend) {
        return ((OnKernel) backend).socket;
    }

    @Override
    public final KernelFd kernelFd() {
        return socket.fd();
    }

    @Override
    public final SelectionKeys keys() {
        return keys;
    }

    @Override
    public final void close() {
        socket.close();
    }
}
