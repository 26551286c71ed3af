package io.slipstream.shim;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Proxy;
import java.net.ProxySelector;
import java.net.Socket;
import java.net.SocketAddress;
import java.net.SocketException;
import java.net.SocketImpl;
import java.net.SocketOption;
import java.net.StandardSocketOptions;
import java.net.URI;
import java.net.UnknownHostException;
import java.nio.channels.ServerSocketChannel;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * The SocketImpl the javaagent installs for classic {@link Socket} and
 * {@link java.net.ServerSocket}: a client is a {@link ShimSocketChannel} (opened at bind or
 * connect; accelerated or kernel, decided as the channel decides), a server a
 * {@link ShimServerSocketChannel} (at listen, which binds and listens in one step). Options set
 * before either exists are kept and applied when it is opened.
 *
 * <p>A connection the default {@link ProxySelector} sends through a SOCKS or HTTP proxy is made
 * by a JDK {@link Socket} with that proxy (the kernel, through the JDK's own proxy support),
 * whose streams this impl then serves.
 */
final class ShimSocketImpl extends SocketImpl {
    private final SlipstreamSelectorProvider provider;
    /** The impl of a ServerSocket: bind only records the address, listen opens the listener. */
    private final boolean forServer;
    /** Options the application set, keyed by SocketOptions id: applied to the channel or proxy socket it opens. */
    private final Map<Integer, Object> pending = new HashMap<>();
    private ShimSocketChannel channel;
    private ShimServerSocketChannel server;
    private Socket proxied;
    /** Where a ServerSocket's listen binds. */
    private InetSocketAddress bindAddress;
    private int timeoutMillis;
    private volatile boolean closed;
    /** Closes the channel inside if the socket is dropped unclosed, as the JDK's impl. */
    private final Releaser releaser = new Releaser(this, null);

    /** @param forServer true for a ServerSocket's impl, false for a Socket's (and an accepted one's) */
    ShimSocketImpl(SlipstreamSelectorProvider provider, boolean forServer) {
        this.provider = provider;
        this.forServer = forServer;
    }

    private void ensureOpen() throws SocketException {
        if (closed) {
            throw new SocketException("Socket closed");
        }
    }

    @Override
    protected void create(boolean stream) throws IOException {
        if (!stream) {
            throw new SocketException("datagram sockets do not use a SocketImpl");
        }
    }

    @Override
    protected void connect(String host, int port) throws IOException {
        connect(new InetSocketAddress(host, port), 0);
    }

    @Override
    protected void connect(InetAddress address, int port) throws IOException {
        connect(new InetSocketAddress(address, port), 0);
    }

    @Override
    protected void connect(SocketAddress remote, int timeout) throws IOException {
        InetSocketAddress isa = (InetSocketAddress) Objects.requireNonNull(remote);
        if (isa.isUnresolved()) {
            throw new UnknownHostException(isa.getHostName());
        }
        ensureOpen();
        Proxy proxy = proxyFor(isa);
        if (proxy != Proxy.NO_PROXY) {
            connectThroughProxy(proxy, isa, timeout);
            return;
        }
        ShimSocketChannel sc = channel != null ? channel : openChannel();
        try {
            sc.connect(isa, timeout * 1_000_000L);
        } catch (IOException | RuntimeException e) {
            sc.close();
            throw Adaptors.toConnectException(e);
        }
        connectedTo(sc.remoteAddressOrNull(), sc.localAddressOrNull());
    }

    /** The client channel, with the options set so far. */
    private ShimSocketChannel openChannel() throws IOException {
        ShimSocketChannel sc = (ShimSocketChannel) provider.openSocketChannel();
        try {
            applyPending(sc);
        } catch (IOException | RuntimeException e) {
            sc.close();
            throw e;
        }
        setChannel(sc);
        return sc;
    }

    private void setChannel(ShimSocketChannel sc) {
        channel = sc;
        releaser.hold(sc);
    }

    /**
     * Closes a client channel that bind() opened, when something else must take its place (a
     * proxy's socket, or a listener); returns the address it was bound to, for that to bind.
     */
    private InetSocketAddress releaseBoundChannel() {
        ShimSocketChannel sc = channel;
        if (sc == null) {
            return null;
        }
        InetSocketAddress bound = sc.localAddressOrNull();
        setChannel(null);
        try {
            sc.close();
        } catch (IOException e) {
            // closing an unconnected channel has nothing to report
        }
        return bound;
    }

    /** The proxy the default ProxySelector picks for a socket to {@code isa}, or NO_PROXY. */
    private static Proxy proxyFor(InetSocketAddress isa) {
        ProxySelector ps = ProxySelector.getDefault();
        if (ps == null) {
            return Proxy.NO_PROXY;
        }
        String host = isa.getAddress().getHostAddress();
        if (host.indexOf(':') >= 0) {
            host = "[" + host + "]";
        }
        List<Proxy> proxies = ps.select(URI.create("socket://" + host + ":" + isa.getPort()));
        for (Proxy p : proxies) {
            if (p.type() != Proxy.Type.DIRECT) {
                return p;
            }
        }
        return Proxy.NO_PROXY;
    }

    private void connectThroughProxy(Proxy proxy, InetSocketAddress isa, int timeout) throws IOException {
        provider.fallBack(FallbackReason.PROXY, isa);
        InetSocketAddress bound = releaseBoundChannel();
        Socket s = new Socket(proxy);
        try {
            for (Map.Entry<Integer, Object> e : pending.entrySet()) {
                applyTo(s, e.getKey(), e.getValue());
            }
            if (bound != null) {
                s.bind(bound);
            }
            s.connect(isa, timeout);
        } catch (IOException | RuntimeException e) {
            s.close();
            throw e;
        }
        proxied = s;
        connectedTo(isa, (InetSocketAddress) s.getLocalSocketAddress());
    }

    private void connectedTo(InetSocketAddress remote, InetSocketAddress local) {
        address = remote.getAddress();
        port = remote.getPort();
        localport = local == null ? 0 : local.getPort();
    }

    /**
     * A Socket binds at once, so its port is known (and reserved) before it connects, as the
     * JDK's impl binds; a ServerSocket's bind is followed at once by listen, which binds.
     * {@code address} keeps the address asked for, as the JDK's impl does: ServerSocket reports it.
     */
    @Override
    protected void bind(InetAddress host, int lport) throws IOException {
        ensureOpen();
        InetSocketAddress local = new InetSocketAddress(host, lport);
        if (forServer) {
            bindAddress = local;
            localport = lport;
            return;
        }
        ShimSocketChannel sc = openChannel();
        try {
            sc.bind(local);
        } catch (IOException | RuntimeException e) {
            setChannel(null);
            sc.close();
            throw e;
        }
        address = host;
        localport = sc.localAddressOrNull().getPort();
    }

    @Override
    protected void listen(int backlog) throws IOException {
        ensureOpen();
        InetSocketAddress bound = releaseBoundChannel(); // a Socket's impl made to listen
        InetSocketAddress local = bound != null ? bound : bindAddress;
        ServerSocketChannel ssc = provider.openServerSocketChannel();
        server = (ShimServerSocketChannel) ssc;
        releaser.hold(ssc);
        try {
            applyPending(ssc);
            ssc.bind(local, backlog);
        } catch (IOException | RuntimeException e) {
            ssc.close();
            throw e;
        }
        address = local == null ? Addresses.anyLocal() : local.getAddress();
        localport = server.localAddressOrNull().getPort();
    }

    @Override
    protected void accept(SocketImpl s) throws IOException {
        if (!(s instanceof ShimSocketImpl target)) {
            throw new IOException("Slipstream's ServerSocket can accept only into Slipstream sockets: install both factories");
        }
        ShimServerSocketChannel ssc = server;
        if (ssc == null) {
            throw new SocketException("Socket is not listening");
        }
        ShimSocketChannel accepted = (ShimSocketChannel) ssc.accept(timeoutMillis * 1_000_000L);
        target.setChannel(accepted);
        target.connectedTo(accepted.remoteAddressOrNull(), accepted.localAddressOrNull());
    }

    @Override
    protected InputStream getInputStream() throws IOException {
        if (proxied != null) {
            return proxied.getInputStream();
        }
        return ChannelStreams.input(connected(), () -> timeoutMillis);
    }

    @Override
    protected OutputStream getOutputStream() throws IOException {
        if (proxied != null) {
            return proxied.getOutputStream();
        }
        return ChannelStreams.output(connected());
    }

    private ShimSocketChannel connected() throws SocketException {
        ShimSocketChannel c = channel;
        if (c == null || !c.isConnected()) {
            throw new SocketException("Socket is not connected");
        }
        return c;
    }

    @Override
    protected int available() throws IOException {
        ensureOpen();
        if (proxied != null) {
            return proxied.getInputStream().available();
        }
        try {
            return connected().available();
        } catch (java.nio.channels.ClosedChannelException e) {
            throw Adaptors.toSocketException(e);
        }
    }

    @Override
    protected void close() throws IOException {
        closed = true;
        if (channel != null) {
            channel.close();
        }
        if (server != null) {
            server.close();
        }
        if (proxied != null) {
            proxied.close();
        }
        releaser.closed();
    }

    @Override
    protected void shutdownInput() throws IOException {
        shutdown(true);
    }

    @Override
    protected void shutdownOutput() throws IOException {
        shutdown(false);
    }

    /** Shuts down the input ({@code input}) or the output of the proxy's socket, else of the channel. */
    private void shutdown(boolean input) throws IOException {
        Socket p = proxied;
        if (p != null && input) {
            p.shutdownInput();
        } else if (p != null) {
            p.shutdownOutput();
        } else if (input) {
            connected().shutdownInput();
        } else {
            connected().shutdownOutput();
        }
    }

    @Override
    protected void sendUrgentData(int data) throws IOException {
        throw new SocketException("Urgent data not supported");
    }

    // ---------------------------------------------------------------- options (SocketOptions ids)

    @Override
    public void setOption(int id, Object value) throws SocketException {
        ensureOpen();
        if (id == SO_TIMEOUT) {
            timeoutMillis = (Integer) value;
            return;
        }
        if (id == SO_LINGER && Boolean.FALSE.equals(value)) {
            value = -1;
        }
        if (proxied != null) {
            applyTo(proxied, id, value);
        } else if (channel != null) {
            Adaptors.setUntyped(channel, option(id), value);
        } else if (server != null) {
            Adaptors.setUntyped(server, option(id), value);
        } else {
            option(id); // unsupported ids fail now, as they would later
        }
        if (server == null) {
            pending.put(id, value); // a proxy's socket may yet take the channel's place
        }
    }

    /** A closed socket answers no option, SO_BINDADDR included: Socket then reports the wildcard, as with the JDK's. */
    @Override
    public Object getOption(int id) throws SocketException {
        ensureOpen();
        if (id == SO_TIMEOUT) {
            return timeoutMillis;
        }
        if (id == SO_BINDADDR) {
            InetSocketAddress local = proxied != null ? (InetSocketAddress) proxied.getLocalSocketAddress()
                    : channel != null ? channel.localAddressOrNull()
                    : server != null ? server.localAddressOrNull() : bindAddress;
            return local != null ? local.getAddress() : Addresses.anyLocal();
        }
        SocketOption<?> name = option(id);
        Object v;
        if (proxied != null) {
            try {
                v = proxied.getOption(name);
            } catch (IOException e) {
                throw Adaptors.toSocketException(e);
            }
        } else if (channel != null) {
            v = Adaptors.get(channel, name);
        } else if (server != null) {
            v = Adaptors.get(server, name);
        } else {
            v = pending.get(id);
        }
        if (id == SO_LINGER && v instanceof Integer i && i < 0) {
            return Boolean.FALSE; // java.net.Socket's convention for "off"
        }
        return v;
    }

    /** The channel option behind a SocketOptions id. */
    private static SocketOption<?> option(int id) throws SocketException {
        return switch (id) {
            case TCP_NODELAY -> StandardSocketOptions.TCP_NODELAY;
            case SO_KEEPALIVE -> StandardSocketOptions.SO_KEEPALIVE;
            case SO_REUSEADDR -> StandardSocketOptions.SO_REUSEADDR;
            case SO_REUSEPORT -> StandardSocketOptions.SO_REUSEPORT;
            case SO_LINGER -> StandardSocketOptions.SO_LINGER;
            case SO_SNDBUF -> StandardSocketOptions.SO_SNDBUF;
            case SO_RCVBUF -> StandardSocketOptions.SO_RCVBUF;
            case IP_TOS -> StandardSocketOptions.IP_TOS;
            default -> throw new SocketException("Option " + id + " not supported by Slipstream");
        };
    }

    @SuppressWarnings({"unchecked", "rawtypes"})
    private void applyPending(java.nio.channels.NetworkChannel ch) throws IOException {
        for (Map.Entry<Integer, Object> e : pending.entrySet()) {
            SocketOption name = option(e.getKey());
            if (ch.supportedOptions().contains(name)) {
                ch.setOption(name, e.getValue());
            }
        }
    }

    @SuppressWarnings({"unchecked", "rawtypes"})
    private static void applyTo(Socket s, int id, Object value) throws SocketException {
        try {
            s.setOption((SocketOption) option(id), value);
        } catch (IOException e) {
            throw Adaptors.toSocketException(e);
        }
    }

    @Override
    protected <T> void setOption(SocketOption<T> name, T value) throws IOException {
        for (int id : new int[] {TCP_NODELAY, SO_KEEPALIVE, SO_REUSEADDR, SO_REUSEPORT, SO_LINGER, SO_SNDBUF, SO_RCVBUF, IP_TOS}) {
            if (option(id) == name) {
                setOption(id, value);
                return;
            }
        }
        if (channel != null) {
            channel.setOption(name, value);
        } else {
            throw new UnsupportedOperationException("'" + name + "' not supported");
        }
    }

    @Override
    @SuppressWarnings("unchecked")
    protected <T> T getOption(SocketOption<T> name) throws IOException {
        for (int id : new int[] {TCP_NODELAY, SO_KEEPALIVE, SO_REUSEADDR, SO_REUSEPORT, SO_LINGER, SO_SNDBUF, SO_RCVBUF, IP_TOS}) {
            if (option(id) == name) {
                Object v = getOption(id);
                return (T) (v instanceof Boolean b && name == StandardSocketOptions.SO_LINGER ? (Object) (b ? 0 : -1) : v);
            }
        }
        if (channel != null) {
            return channel.getOption(name);
        }
        throw new UnsupportedOperationException("'" + name + "' not supported");
    }

    @Override
    protected Set<SocketOption<?>> supportedOptions() {
        return server != null ? KernelOptions.LISTENER : KernelOptions.STREAM;
    }

    @Override
    protected boolean supportsUrgentData() {
        return false;
    }

    /** Whether the connection runs on a Slipstream stack (for tests and the stack dump). */
    boolean isAccelerated() {
        return channel != null && channel.isAccelerated();
    }
}
