package io.slipstream.shim;

import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.NetworkInterface;
import java.net.SocketAddress;
import java.net.SocketException;
import java.net.SocketOption;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.nio.channels.IllegalBlockingModeException;
import java.util.Set;

/** The {@link DatagramSocket} view of a {@link ShimDatagramChannel} ({@code channel.socket()}). */
final class DatagramSocketAdaptor extends DatagramSocket {
    private final ShimDatagramChannel channel;
    private volatile int timeoutMillis;

    private DatagramSocketAdaptor(ShimDatagramChannel channel) {
        super(new Adaptors.NoDatagramSocketImpl());
        this.channel = channel;
    }

    static DatagramSocketAdaptor create(ShimDatagramChannel channel) {
        return new DatagramSocketAdaptor(channel);
    }

    @Override
    public DatagramChannel getChannel() {
        return channel;
    }

    @Override
    public void bind(SocketAddress local) throws SocketException {
        Adaptors.translated(() -> channel.bind(local));
    }

    @Override
    public void connect(InetAddress address, int port) {
        if (address == null) {
            throw new IllegalArgumentException("Address can't be null");
        }
        try {
            connectInternal(new InetSocketAddress(address, port));
        } catch (SocketException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    @Override
    public void connect(SocketAddress remote) throws SocketException {
        if (remote == null) {
            throw new IllegalArgumentException("Address can't be null");
        }
        if (!(remote instanceof InetSocketAddress)) {
            throw new java.nio.channels.UnsupportedAddressTypeException();
        }
        connectInternal(remote);
    }

    /**
     * Connects, or connects again to another peer, as DatagramSocket documents; on a closed
     * socket it has no effect (the JDK's view ignores the closed channel too).
     */
    private void connectInternal(SocketAddress remote) throws SocketException {
        try {
            channel.connect(remote, false);
        } catch (java.nio.channels.ClosedChannelException e) {
            // documented: no effect on a closed socket
        } catch (Exception x) {
            throw Adaptors.toSocketException(x);
        }
    }

    @Override
    public void disconnect() {
        try {
            channel.disconnect();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    @Override
    public boolean isBound() {
        return channel.localAddressOrNull() != null;
    }

    @Override
    public boolean isConnected() {
        return channel.remoteAddressOrNull() != null;
    }

    @Override
    public InetAddress getInetAddress() {
        InetSocketAddress a = channel.remoteAddressOrNull();
        return a == null ? null : a.getAddress();
    }

    @Override
    public int getPort() {
        InetSocketAddress a = channel.remoteAddressOrNull();
        return a == null ? -1 : a.getPort();
    }

    @Override
    public SocketAddress getRemoteSocketAddress() {
        return channel.remoteAddressOrNull();
    }

    @Override
    public SocketAddress getLocalSocketAddress() {
        return isClosed() ? null : channel.localAddressOrNull();
    }

    @Override
    public InetAddress getLocalAddress() {
        if (isClosed()) {
            return null;
        }
        InetSocketAddress a = channel.localAddressOrNull();
        return a == null ? Addresses.anyLocal() : a.getAddress();
    }

    @Override
    public int getLocalPort() {
        InetSocketAddress a = channel.localAddressOrNull();
        if (isClosed()) {
            return -1;
        }
        return a == null ? 0 : a.getPort();
    }

    @Override
    public void send(DatagramPacket p) throws IOException {
        if (!channel.isBlocking()) {
            throw new IllegalBlockingModeException();
        }
        synchronized (p) {
            ByteBuffer src = ByteBuffer.wrap(p.getData(), p.getOffset(), p.getLength());
            SocketAddress target;
            if (p.getAddress() == null) {
                InetSocketAddress remote = channel.remoteAddressOrNull();
                if (remote == null) {
                    throw new IllegalArgumentException("Address not set");
                }
                // The JDK fills in the connected peer: long-standing behaviour callers read back.
                p.setAddress(remote.getAddress());
                p.setPort(remote.getPort());
                target = remote;
            } else {
                target = p.getSocketAddress();
            }
            try {
                channel.send(src, target);
            } catch (java.nio.channels.AlreadyConnectedException e) {
                throw new IllegalArgumentException("Connected and packet address differ");
            } catch (java.nio.channels.ClosedChannelException e) {
                throw Adaptors.toSocketException(e);
            }
        }
    }

    @Override
    public void receive(DatagramPacket p) throws IOException {
        if (!channel.isBlocking()) {
            throw new IllegalBlockingModeException();
        }
        synchronized (p) {
            ByteBuffer dst = ByteBuffer.wrap(p.getData(), p.getOffset(), p.getData().length - p.getOffset());
            SocketAddress from;
            try {
                from = channel.receive(dst, timeoutMillis * 1_000_000L);
            } catch (java.nio.channels.ClosedChannelException e) {
                throw Adaptors.toSocketException(e);
            }
            p.setLength(dst.position() - p.getOffset());
            p.setSocketAddress(from);
        }
    }

    @Override
    public void setSoTimeout(int timeout) throws SocketException {
        timeoutMillis = Adaptors.checkTimeout(channel, timeout);
    }

    @Override
    public int getSoTimeout() throws SocketException {
        Adaptors.ensureOpen(channel);
        return timeoutMillis;
    }

    @Override
    public void setSendBufferSize(int size) throws SocketException {
        Adaptors.setBufferSize(channel, StandardSocketOptions.SO_SNDBUF, size);
    }

    @Override
    public int getSendBufferSize() throws SocketException {
        return Adaptors.get(channel, StandardSocketOptions.SO_SNDBUF);
    }

    @Override
    public void setReceiveBufferSize(int size) throws SocketException {
        Adaptors.setBufferSize(channel, StandardSocketOptions.SO_RCVBUF, size);
    }

    @Override
    public int getReceiveBufferSize() throws SocketException {
        return Adaptors.get(channel, StandardSocketOptions.SO_RCVBUF);
    }

    @Override
    public void setReuseAddress(boolean on) throws SocketException {
        Adaptors.set(channel, StandardSocketOptions.SO_REUSEADDR, on);
    }

    @Override
    public boolean getReuseAddress() throws SocketException {
        return Adaptors.get(channel, StandardSocketOptions.SO_REUSEADDR);
    }

    @Override
    public void setBroadcast(boolean on) throws SocketException {
        Adaptors.set(channel, StandardSocketOptions.SO_BROADCAST, on);
    }

    @Override
    public boolean getBroadcast() throws SocketException {
        return Adaptors.get(channel, StandardSocketOptions.SO_BROADCAST);
    }

    @Override
    public void setTrafficClass(int tc) throws SocketException {
        if (tc < 0 || tc > 255) {
            throw new IllegalArgumentException("tc is not in range 0 -- 255");
        }
        Adaptors.set(channel, StandardSocketOptions.IP_TOS, tc);
    }

    @Override
    public int getTrafficClass() throws SocketException {
        return Adaptors.get(channel, StandardSocketOptions.IP_TOS);
    }

    @Override
    public void close() {
        try {
            channel.close();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    @Override
    public boolean isClosed() {
        return !channel.isOpen();
    }

    @Override
    public <T> DatagramSocket setOption(SocketOption<T> name, T value) throws IOException {
        channel.setOption(name, value);
        return this;
    }

    @Override
    public <T> T getOption(SocketOption<T> name) throws IOException {
        return channel.getOption(name);
    }

    @Override
    public Set<SocketOption<?>> supportedOptions() {
        return channel.supportedOptions();
    }

    /**
     * Joins through the channel, as the JDK's view does: without an interface, the one set
     * with IP_MULTICAST_IF, else any (the kernel picks by route); joining twice is an error.
     */
    @Override
    public void joinGroup(SocketAddress group, NetworkInterface netIf) throws IOException {
        InetAddress g = checkGroup(group);
        NetworkInterface ni = netIf != null ? netIf : channel.getOption(StandardSocketOptions.IP_MULTICAST_IF);
        if (isClosed()) {
            throw new SocketException("Socket is closed");
        }
        synchronized (this) {
            if (channel.findMembership(g, ni) != null) {
                throw new SocketException("Already a member of group");
            }
            channel.joinInternal(g, ni, null);
        }
    }

    @Override
    public void leaveGroup(SocketAddress group, NetworkInterface netIf) throws IOException {
        InetAddress g = checkGroup(group);
        NetworkInterface ni = netIf != null ? netIf : channel.getOption(StandardSocketOptions.IP_MULTICAST_IF);
        if (isClosed()) {
            throw new SocketException("Socket is closed");
        }
        synchronized (this) {
            ShimMembershipKey key = channel.findMembership(g, ni);
            if (key == null) {
                throw new SocketException("Not a member of group");
            }
            key.drop();
        }
    }

    /** The group of a join/leave address, with the JDK's exceptions. */
    private static InetAddress checkGroup(SocketAddress group) throws SocketException {
        if (!(group instanceof InetSocketAddress isa)) {
            throw new IllegalArgumentException("Unsupported address type");
        }
        InetAddress g = isa.getAddress();
        if (g == null) {
            throw new IllegalArgumentException("Unresolved address");
        }
        if (!g.isMulticastAddress()) {
            throw new SocketException("Not a multicast address");
        }
        return g;
    }
}
