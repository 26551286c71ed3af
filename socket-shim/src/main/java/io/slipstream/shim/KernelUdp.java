package io.slipstream.shim;

import io.slipstream.shim.kernel.FdIo;
import io.slipstream.shim.kernel.KernelSocket;
import io.slipstream.shim.kernel.Poller;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.SocketOption;
import java.nio.ByteBuffer;
import java.util.Map;

/** A {@link ShimDatagramChannel}'s socket on the kernel (also where multicast lives). */
final class KernelUdp extends OnKernel implements UdpBackend {
    KernelUdp(KernelSocket socket, SelectionKeys keys) {
        super(socket, keys);
    }

    @Override
    public InetSocketAddress connect(InetSocketAddress remote) throws IOException {
        socket.connect(remote);
        return (InetSocketAddress) socket.localAddress();
    }

    @Override
    public InetSocketAddress disconnect(InetSocketAddress local) throws IOException {
        socket.disconnect();
        InetSocketAddress after = (InetSocketAddress) socket.localAddress();
        if (after.getPort() != local.getPort()) {
            // Linux forgets an ephemeral port on disconnect; bind it again, as the JDK does.
            socket.bind(local);
            after = (InetSocketAddress) socket.localAddress();
        }
        return after;
    }

    @Override
    public SocketAddress receive(ByteBuffer dst) throws IOException {
        return socket.receive(dst);
    }

    @Override
    public void awaitReadable(long waitNanos) {
        Poller.awaitReadable(socket.fd(), waitNanos);
    }

    @Override
    public int send(ByteBuffer src, InetSocketAddress target) throws IOException {
        int n = socket.send(src, target);
        return n == FdIo.UNAVAILABLE ? -1 : n;
    }

    @Override
    public void awaitSendable() {
        Poller.awaitWritable(socket.fd(), 0);
    }

    @Override
    public void setOption(SocketOption<?> name, Object value, int intValue) throws IOException {
        KernelOptions.set(socket, name, value);
    }

    @Override
    public Object getOption(SocketOption<?> name, Map<SocketOption<?>, Object> set) throws IOException {
        return KernelOptions.get(socket, name);
    }
}
