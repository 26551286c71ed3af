package io.slipstream.shim;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketAddress;
import java.net.SocketException;
import java.net.SocketOption;
import java.net.StandardSocketOptions;
import java.nio.channels.IllegalBlockingModeException;
import java.nio.channels.SocketChannel;
import java.util.Set;

/**
 * The {@link Socket} view of a {@link ShimSocketChannel} ({@code channel.socket()}), through
 * which frameworks tune and use the connection: every method acts on the channel, with the
 * exceptions and timeout behaviour of the JDK's own adaptor.
 */
final class SocketAdaptor extends Socket {
    private final ShimSocketChannel channel;
    private volatile int timeoutMillis;

    private SocketAdaptor(ShimSocketChannel channel) throws SocketException {
        super(new Adaptors.NoSocketImpl());
        this.channel = channel;
    }

    static SocketAdaptor create(ShimSocketChannel channel) {
        try {
            return new SocketAdaptor(channel);
        } catch (SocketException e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    public SocketChannel getChannel() {
        return channel;
    }

    @Override
    public void connect(SocketAddress remote) throws IOException {
        connect(remote, 0);
    }

    @Override
    public void connect(SocketAddress remote, int timeout) throws IOException {
        if (remote == null) {
            throw new IllegalArgumentException("connect: The address can't be null");
        }
        if (timeout < 0) {
            throw new IllegalArgumentException("connect: timeout can't be negative");
        }
        if (!channel.isBlocking()) {
            throw new IllegalBlockingModeException();
        }
        try {
            channel.connect(remote, timeout * 1_000_000L);
        } catch (Exception x) {
            throw Adaptors.toConnectException(x);
        }
    }

    @Override
    public void bind(SocketAddress local) throws IOException {
        Adaptors.translated(() -> channel.bind(local));
    }

    @Override
    public InetAddress getInetAddress() {
        InetSocketAddress a = channel.remoteAddressOrNull();
        return a == null ? null : a.getAddress();
    }

    @Override
    public InetAddress getLocalAddress() {
        InetSocketAddress a = channel.localAddressOrNull();
        if (a == null || !channel.isOpen()) {
            return Addresses.anyLocal();
        }
        return a.getAddress();
    }

    @Override
    public int getPort() {
        InetSocketAddress a = channel.remoteAddressOrNull();
        return a == null ? 0 : a.getPort();
    }

    @Override
    public int getLocalPort() {
        InetSocketAddress a = channel.localAddressOrNull();
        return a == null ? -1 : a.getPort();
    }

    @Override
    public SocketAddress getRemoteSocketAddress() {
        return channel.remoteAddressOrNull();
    }

    @Override
    public SocketAddress getLocalSocketAddress() {
        return channel.localAddressOrNull();
    }

    @Override
    public InputStream getInputStream() throws IOException {
        checkStreamable();
        if (channel.isInputShutdown()) {
            throw new SocketException("Socket input is shutdown");
        }
        return ChannelStreams.input(channel, () -> timeoutMillis);
    }

    @Override
    public OutputStream getOutputStream() throws IOException {
        checkStreamable();
        if (channel.isOutputShutdown()) {
            throw new SocketException("Socket output is shutdown");
        }
        return ChannelStreams.output(channel);
    }

    private void checkStreamable() throws SocketException {
        Adaptors.ensureOpen(channel);
        if (!channel.isConnected()) {
            throw new SocketException("Socket is not connected");
        }
    }

    @Override
    public void setTcpNoDelay(boolean on) throws SocketException {
        Adaptors.set(channel, StandardSocketOptions.TCP_NODELAY, on);
    }

    @Override
    public boolean getTcpNoDelay() throws SocketException {
        return Adaptors.get(channel, StandardSocketOptions.TCP_NODELAY);
    }

    @Override
    public void setSoLinger(boolean on, int linger) throws SocketException {
        if (on && linger < 0) {
            throw new IllegalArgumentException("Invalid value for SO_LINGER");
        }
        Adaptors.set(channel, StandardSocketOptions.SO_LINGER, on ? linger : -1);
    }

    @Override
    public int getSoLinger() throws SocketException {
        return Adaptors.get(channel, StandardSocketOptions.SO_LINGER);
    }

    @Override
    public void sendUrgentData(int data) throws IOException {
        throw new SocketException("Urgent data not supported");
    }

    @Override
    public void setOOBInline(boolean on) throws SocketException {
        if (on) {
            throw new SocketException("OOBINLINE not supported");
        }
    }

    @Override
    public boolean getOOBInline() throws SocketException {
        Adaptors.ensureOpen(channel);
        return false;
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
    public void setKeepAlive(boolean on) throws SocketException {
        Adaptors.set(channel, StandardSocketOptions.SO_KEEPALIVE, on);
    }

    @Override
    public boolean getKeepAlive() throws SocketException {
        return Adaptors.get(channel, StandardSocketOptions.SO_KEEPALIVE);
    }

    @Override
    public void setTrafficClass(int tc) throws SocketException {
        Adaptors.set(channel, StandardSocketOptions.IP_TOS, tc);
    }

    @Override
    public int getTrafficClass() throws SocketException {
        return Adaptors.get(channel, StandardSocketOptions.IP_TOS);
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
    public <T> Socket setOption(SocketOption<T> name, T value) throws IOException {
        Adaptors.ensureOpen(channel);
        channel.setOption(name, value);
        return this;
    }

    @Override
    public <T> T getOption(SocketOption<T> name) throws IOException {
        Adaptors.ensureOpen(channel);
        return channel.getOption(name);
    }

    @Override
    public Set<SocketOption<?>> supportedOptions() {
        return channel.supportedOptions();
    }

    @Override
    public void close() throws IOException {
        channel.close();
    }

    @Override
    public void shutdownInput() throws IOException {
        Adaptors.translated(channel::shutdownInput);
    }

    @Override
    public void shutdownOutput() throws IOException {
        Adaptors.translated(channel::shutdownOutput);
    }

    @Override
    public boolean isConnected() {
        return channel.isConnected();
    }

    @Override
    public boolean isBound() {
        return channel.localAddressOrNull() != null;
    }

    @Override
    public boolean isClosed() {
        return !channel.isOpen();
    }

    @Override
    public boolean isInputShutdown() {
        return !channel.isOpen() || channel.isInputShutdown();
    }

    @Override
    public boolean isOutputShutdown() {
        return !channel.isOpen() || channel.isOutputShutdown();
    }

    @Override
    public String toString() {
        if (channel.isConnected()) {
            return "Socket[addr=" + getInetAddress() + ",port=" + getPort() + ",localport=" + getLocalPort() + "]";
        }
        return "Socket[unconnected]";
    }
}
