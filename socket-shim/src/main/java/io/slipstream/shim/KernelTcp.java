package io.slipstream.shim;

import io.slipstream.shim.kernel.FdIo;
import io.slipstream.shim.kernel.KernelSocket;
import io.slipstream.shim.kernel.Poller;
import io.slipstream.linux.Sockets;
import java.io.IOException;
import java.net.SocketAddress;
import java.net.SocketOption;
import java.nio.ByteBuffer;

/** A {@link ShimSocketChannel}'s connection on a kernel socket (IPv4, IPv6 or UNIX-domain). */
final class KernelTcp extends OnKernel implements TcpBackend {
    KernelTcp(KernelSocket socket, SelectionKeys keys) {
        super(socket, keys);
    }

    @Override
    public boolean connect(SocketAddress target) throws IOException {
        return socket.connect(target);
    }

    @Override
    public boolean finishConnect() throws IOException {
        return socket.finishConnect();
    }

    @Override
    public void awaitConnect(long waitNanos) {
        Poller.awaitWritable(socket.fd(), waitNanos);
    }

    @Override
    public SocketAddress localAddress() throws IOException {
        return socket.localAddress();
    }

    @Override
    public long read(ByteBuffer dst, ByteBuffer[] dsts, int offset, int length, boolean blocking, long timeoutNanos)
            throws IOException {
        return FdIo.read(socket.fd(), dst, dsts, offset, length, true, blocking, timeoutNanos);
    }

    @Override
    public long write(ByteBuffer src, ByteBuffer[] srcs, int offset, int length, boolean blocking) throws IOException {
        return FdIo.write(socket.fd(), src, srcs, offset, length, true, blocking);
    }

    @Override
    public int available() throws IOException {
        return socket.available();
    }

    @Override
    public void shutdownInput() throws IOException {
        socket.shutdown(Sockets.SHUT_RD);
    }

    @Override
    public void shutdownOutput() throws IOException {
        socket.shutdown(Sockets.SHUT_WR);
    }

    @Override
    public void setOption(SocketOption<?> name, Object value, Object stored) throws IOException {
        KernelOptions.set(socket, name, value);
    }

    @Override
    public Object getOption(SocketOption<?> name) throws IOException {
        return KernelOptions.get(socket, name);
    }

    @Override
    public int readyOps(int interestOps, boolean pending) {
        return 0; // epoll reports a kernel socket's readiness
    }
}
