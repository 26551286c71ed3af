package io.slipstream.shim;

import io.slipstream.nic.NicException;
import io.slipstream.stack.Stack;
import io.slipstream.stack.WaitCondition;
import io.slipstream.udp.UdpCounter;
import io.slipstream.udp.UdpSocket;
import io.slipstream.wire.Ipv4Address;
import java.io.IOException;
import java.net.BindException;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.NoRouteToHostException;
import java.net.PortUnreachableException;
import java.net.SocketException;
import java.net.SocketOption;
import java.net.StandardSocketOptions;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.SelectionKey;
import java.util.Map;
import java.util.concurrent.locks.LockSupport;

/**
 * The accelerated inside of a {@link ShimDatagramChannel}: a UDP socket of a Slipstream stack,
 * operated between {@link Stack#enter()} and {@link Stack#exit()}. Its readiness callback (run
 * by whichever thread processes the stack) wakes the socket's wait queue and the selectors the
 * channel is registered with; blocked callers wait with {@link Stack#await}.
 */
final class AcceleratedUdp extends OnStack implements UdpBackend, UdpSocket.ReadinessListener {
    private final UdpSocket socket;
    private final InetAddress localAddress;
    private final WaitCondition readable;
    /** The source of the last datagram received, reused while it repeats; guarded by the channel's read lock. */
    private InetSocketAddress lastSource;

    private AcceleratedUdp(Stack stack, UdpSocket socket, SelectionKeys keys) {
        super(stack, keys);
        this.socket = socket;
        this.localAddress = inet(stack.address());
        this.readable = () -> closed || socket.isReadable();
    }

    /** Opens a socket on {@code stack} bound to {@code port} (0: ephemeral); a negative rcvbuf keeps the default. */
    static AcceleratedUdp open(Stack stack, int port, int receiveBuffer, SelectionKeys keys) throws IOException {
        stack.enter();
        try {
            UdpSocket s = stack.udp().open();
            if (receiveBuffer > 0) {
                s.setReceiveBufferSize(receiveBuffer);
            }
            try {
                s.bind(port);
            } catch (BindException e) {
                s.close();
                throw addressInUse(e);
            } catch (NicException e) {
                s.close();
                throw holdFailed(e);
            }
            AcceleratedUdp u = new AcceleratedUdp(stack, s, keys);
            s.setReadinessListener(u);
            return u;
        } finally {
            stack.exit();
        }
    }

    InetSocketAddress localAddress() {
        return new InetSocketAddress(localAddress, socket.localPort());
    }

    @Override
    public void readinessChanged(UdpSocket s) {
        readinessChanged();
    }

    /** Whether {@code address} can be reached through this stack. */
    boolean reaches(InetAddress address) {
        if (!(address instanceof Inet4Address)) {
            return false;
        }
        int a = ipv4(address);
        return stack.config().onLink(a) || stack.config().gateway() != Ipv4Address.ANY;
    }

    @Override
    public InetSocketAddress connect(InetSocketAddress remote) throws IOException {
        if (!reaches(remote.getAddress())) {
            throw new SocketException("Network is unreachable");
        }
        stack.enter();
        try {
            socket.connect(ipv4(remote.getAddress()), remote.getPort());
        } finally {
            stack.exit();
        }
        return localAddress();
    }

    @Override
    public InetSocketAddress disconnect(InetSocketAddress local) {
        stack.enter();
        try {
            socket.disconnect();
        } finally {
            stack.exit();
        }
        return local;
    }

    /**
     * Receives one datagram into {@code dst}; returns its source, or null when none is queued.
     * An ICMP error reported for the connected peer is thrown instead, once.
     */
    @Override
    public InetSocketAddress receive(ByteBuffer dst) throws IOException {
        try {
            return receiveOnStack(dst);
        } catch (IllegalStateException closed) {
            throw new ClosedChannelException();
        }
    }

    private InetSocketAddress receiveOnStack(ByteBuffer dst) throws IOException {
        stack.enter();
        try {
            UdpSocket.Error error = socket.takeError();
            if (error != null) {
                throw switch (error) {
                    case PORT_UNREACHABLE -> new PortUnreachableException();
                    case HOST_UNREACHABLE -> new NoRouteToHostException("No route to host");
                    case NET_UNREACHABLE -> new SocketException("Network is unreachable");
                };
            }
            if (socket.receive(dst) < 0) {
                return null;
            }
            return source(socket.lastSourceAddress(), socket.lastSourcePort());
        } finally {
            stack.exit();
        }
    }

    private InetSocketAddress source(int address, int port) {
        InetSocketAddress last = lastSource;
        if (last != null && last.getPort() == port && ipv4(last.getAddress()) == address) {
            return last;
        }
        last = new InetSocketAddress(inet(address), port);
        lastSource = last;
        return last;
    }

    /**
     * Sends {@code src} as one datagram to {@code target} (null: the connected peer); returns
     * the bytes sent, or -1 when no buffer was free (try again).
     */
    @Override
    public int send(ByteBuffer src, InetSocketAddress target) throws IOException {
        try {
            return sendOnStack(src, target);
        } catch (IllegalStateException closed) {
            throw new ClosedChannelException();
        }
    }

    private int sendOnStack(ByteBuffer src, InetSocketAddress target) throws IOException {
        int address = 0;
        int port = 0;
        if (target != null) {
            if (!reaches(target.getAddress())) {
                throw new SocketException("Network is unreachable");
            }
            address = ipv4(target.getAddress());
            port = target.getPort();
        }
        stack.enter();
        try {
            long noBuffer = stack.udp().counters().get(UdpCounter.TX_NO_BUFFER);
            int n = socket.send(src, address, port);
            if (n == 0 && stack.udp().counters().get(UdpCounter.TX_NO_BUFFER) != noBuffer) {
                return -1;
            }
            return n;
        } finally {
            stack.exit();
        }
    }

    /**
     * Blocks until the socket may be readable, it is closed, the thread is interrupted, or
     * {@code timeoutNanos} pass (0: no limit); the caller re-checks.
     */
    @Override
    public void awaitReadable(long timeoutNanos) {
        await(readable, timeoutNanos);
    }

    /** Waits a little for transmit buffers to come back (the NIC completing sends). */
    @Override
    public void awaitSendable() {
        stack.requestFlush();
        LockSupport.parkNanos(this, 50_000);
    }

    @Override
    public int readyOps(int interestOps) {
        int ops = interestOps & SelectionKey.OP_WRITE;
        if ((interestOps & SelectionKey.OP_READ) != 0) {
            stack.enter();
            try {
                if (socket.isReadable()) {
                    ops |= SelectionKey.OP_READ;
                }
            } finally {
                stack.exit();
            }
        }
        return ops;
    }

    /** SO_RCVBUF and IP_TOS act on the stack's socket; the others the channel only remembers. */
    @Override
    public void setOption(SocketOption<?> name, Object value, int intValue) {
        if (unsupported(name, intValue) != null) {
            throw new UnsupportedOperationException("'" + name + "' cannot be changed on a socket Slipstream accelerates");
        }
        if (name == StandardSocketOptions.SO_RCVBUF) {
            setReceiveBufferSize(intValue);
        } else if (name == StandardSocketOptions.IP_TOS) {
            setTos(intValue);
        }
    }

    /** Options with values the stack's UDP cannot honour: the fallback reason, or null when it can. */
    static FallbackReason unsupported(SocketOption<?> name, int value) {
        if (name == StandardSocketOptions.IP_MULTICAST_IF || name == StandardSocketOptions.IP_MULTICAST_TTL
                || name == StandardSocketOptions.IP_MULTICAST_LOOP) {
            return FallbackReason.MULTICAST;
        }
        if (name == StandardSocketOptions.SO_REUSEPORT && value != 0) {
            return FallbackReason.UNSUPPORTED_OPTION;
        }
        return null;
    }

    @Override
    public Object getOption(SocketOption<?> name, Map<SocketOption<?>, Object> set) {
        if (name == StandardSocketOptions.SO_RCVBUF) {
            stack.enter();
            try {
                return socket.receiveBufferSize();
            } finally {
                stack.exit();
            }
        }
        Object v = set.get(name);
        return v != null ? v : defaultOf(name);
    }

    /** What a kernel socket would report for an option never set. */
    private static Object defaultOf(SocketOption<?> name) {
        if (name == StandardSocketOptions.SO_SNDBUF) {
            return 212_992; // Linux's default wmem
        }
        if (name == StandardSocketOptions.IP_TOS) {
            return 0;
        }
        if (name == StandardSocketOptions.IP_MULTICAST_IF) {
            return null; // the kernel's choice, as an unset socket reports
        }
        if (name == StandardSocketOptions.IP_MULTICAST_TTL) {
            return 1;
        }
        if (name == StandardSocketOptions.IP_MULTICAST_LOOP) {
            return Boolean.TRUE;
        }
        return Boolean.FALSE; // SO_REUSEADDR, SO_REUSEPORT, SO_BROADCAST
    }

    private void setReceiveBufferSize(int bytes) {
        stack.enter();
        try {
            socket.setReceiveBufferSize(Math.max(bytes, 2048));
        } finally {
            stack.exit();
        }
    }

    /** IP_TOS: the TOS byte of every datagram sent from now on. */
    void setTos(int tos) {
        stack.enter();
        try {
            socket.setTos(tos);
        } finally {
            stack.exit();
        }
    }

    /** Releases the socket (a blocked reader is woken by the close). */
    @Override
    void closeLocked() {
        assert locked();
        socket.close();
    }

    static int ipv4(InetAddress a) {
        byte[] b = a.getAddress();
        return ((b[0] & 0xFF) << 24) | ((b[1] & 0xFF) << 16) | ((b[2] & 0xFF) << 8) | (b[3] & 0xFF);
    }

    static InetAddress inet(int address) {
        try {
            return InetAddress.getByAddress(new byte[] {
                (byte) (address >>> 24), (byte) (address >>> 16), (byte) (address >>> 8), (byte) address});
        } catch (UnknownHostException e) {
            throw new AssertionError(e);
        }
    }
}
