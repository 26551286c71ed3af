package io.slipstream.shim;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketAddress;
import java.net.SocketException;
import java.net.SocketOption;
import java.net.StandardSocketOptions;
import java.nio.channels.IllegalBlockingModeException;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.Set;

/** The {@link ServerSocket} view of a {@link ShimServerSocketChannel} ({@code channel.socket()}). */
final class ServerSocketAdaptor extends ServerSocket {
    private final ShimServerSocketChannel channel;
    private volatile int timeoutMillis;

    private ServerSocketAdaptor(ShimServerSocketChannel channel) {
        super(new Adaptors.NoSocketImpl());
        this.channel = channel;
    }

    static ServerSocketAdaptor create(ShimServerSocketChannel channel) {
        return new ServerSocketAdaptor(channel);
    }

    @Override
    public ServerSocketChannel getChannel() {
        return channel;
    }

    @Override
    public void bind(SocketAddress local) throws IOException {
        bind(local, 50);
    }

    @Override
    public void bind(SocketAddress local, int backlog) throws IOException {
        Adaptors.translated(() -> channel.bind(local, backlog));
    }

    @Override
    public InetAddress getInetAddress() {
        InetSocketAddress a = channel.localAddressOrNull();
        return a == null ? null : a.getAddress();
    }

    @Override
    public int getLocalPort() {
        InetSocketAddress a = channel.localAddressOrNull();
        return a == null ? -1 : a.getPort();
    }

    @Override
    public SocketAddress getLocalSocketAddress() {
        return channel.localAddressOrNull();
    }

    @Override
    public Socket accept() throws IOException {
        if (!channel.isBlocking()) {
            throw new IllegalBlockingModeException();
        }
        try {
            SocketChannel sc = channel.accept(timeoutMillis * 1_000_000L);
            return sc.socket();
        } catch (java.net.SocketTimeoutException e) {
            throw e;
        } catch (Exception x) {
            throw Adaptors.toSocketException(x);
        }
    }

    @Override
    public void close() throws IOException {
        channel.close();
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
    public void setSoTimeout(int timeout) throws SocketException {
        timeoutMillis = Adaptors.checkTimeout(channel, timeout);
    }

    @Override
    public int getSoTimeout() throws IOException {
        Adaptors.ensureOpen(channel);
        return timeoutMillis;
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
    public void setReceiveBufferSize(int size) throws SocketException {
        Adaptors.setBufferSize(channel, StandardSocketOptions.SO_RCVBUF, size);
    }

    @Override
    public int getReceiveBufferSize() throws SocketException {
        return Adaptors.get(channel, StandardSocketOptions.SO_RCVBUF);
    }

    @Override
    public <T> ServerSocket setOption(SocketOption<T> name, T value) throws IOException {
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
    public String toString() {
        InetSocketAddress a = channel.localAddressOrNull();
        return a == null ? "ServerSocket[unbound]" : "ServerSocket[addr=" + a.getAddress() + ",localport=" + a.getPort() + "]";
    }
}
