package io.slipstream.shim;

import io.slipstream.config.ConfigException;
import io.slipstream.config.Settings;
import io.slipstream.config.StackConfig;
import io.slipstream.shim.kernel.KernelSocket;
import java.io.IOException;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.ProtocolFamily;
import java.nio.channels.Channel;
import java.nio.channels.DatagramChannel;
import java.nio.channels.Pipe;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.channels.spi.AbstractSelector;
import java.nio.channels.spi.SelectorProvider;
import java.util.List;
import java.util.Objects;
import java.util.function.Predicate;

/**
 * Slipstream's {@link SelectorProvider}: install it with
 * {@code -Djava.nio.channels.spi.SelectorProvider=io.slipstream.shim.SlipstreamSelectorProvider}.
 *
 * <p>Every channel it opens is Slipstream's own class, so one {@link ShimSelector} serves them
 * all. Inside, a channel is either an accelerated socket on a Slipstream stack or a kernel
 * socket (the fallback), decided at bind or connect: the stack whose subnet holds the
 * destination (or whose address is the bound address) takes it; anything else (loopback, other
 * networks, IPv6, UNIX domain, no NIC configured) runs on the kernel, counted per reason in
 * {@link #fallback()} and refused instead when {@code slipstream.fallback=error}.
 *
 * <p>The JDK offers no public way to reach its own default provider once this one is
 * installed, so the kernel sockets are Slipstream's too: Linux system calls made through the
 * FFM API ({@code io.slipstream.shim.kernel}).
 */
public class SlipstreamSelectorProvider extends SelectorProvider {
    private final Fallback fallback;
    private final List<StackConfig> stacks;
    private boolean inheritedLookedUp; // guarded by this
    private Channel inherited; // guarded by this

    /** Reads the configuration from {@code slipstream.*} system properties and {@code SLIPSTREAM_*} variables. */
    public SlipstreamSelectorProvider() {
        this(Settings.fromSystem());
    }

    /**
     * One stack per address of {@code slipstream.address} (comma-separated) when
     * {@code slipstream.driver} is set, none otherwise. A configuration that
     * names a driver but is wrong fails here naming the property when
     * {@code slipstream.fallback=error}; otherwise it is logged and every socket falls back.
     */
    public SlipstreamSelectorProvider(Settings settings) {
        this.fallback = Fallback.from(settings);
        this.stacks = configured(settings, fallback);
    }

    /** Several stacks (for example two joined by the in-memory NIC), with {@code settings} for the policy. */
    public SlipstreamSelectorProvider(Settings settings, List<StackConfig> stacks) {
        this.fallback = Fallback.from(settings);
        this.stacks = List.copyOf(stacks);
    }

    private static List<StackConfig> configured(Settings settings, Fallback fallback) {
        if (!settings.has(StackConfig.DRIVER)) {
            return List.of();
        }
        try {
            // Several comma-separated addresses give one stack each on the same interface (two
            // stacks joined by the in-memory NIC, or a host with several addresses).
            String addresses = settings.get(StackConfig.ADDRESS, "");
            if (addresses.indexOf(',') < 0) {
                return List.of(StackConfig.from(settings));
            }
            List<StackConfig> all = new java.util.ArrayList<>();
            for (String cidr : addresses.split(",")) {
                java.util.Map<String, String> one = new java.util.HashMap<>(settings.asMap());
                one.put(StackConfig.ADDRESS, cidr.trim());
                one.remove(StackConfig.MAC);
                all.add(StackConfig.from(Settings.of(one)));
            }
            return List.copyOf(all);
        } catch (ConfigException e) {
            if (fallback.isError()) {
                throw e;
            }
            Fallback.warn("configuration rejected, every socket runs on the kernel (slipstream.fallback=kernel): "
                    + e.getMessage(), e);
            return List.of();
        }
    }

    /** The fallback policy and counts. */
    public Fallback fallback() {
        return fallback;
    }

    /** The stacks this provider routes to. */
    List<StackConfig> stackConfigs() {
        return stacks;
    }

    // ---------------------------------------------------------------- routing

    /** Where a socket goes: a stack's configuration, or the reason it stays on the kernel. */
    record Route(StackConfig stack, FallbackReason reason) {}

    /**
     * The route of a socket sending to {@code remote}: a stack whose subnet holds it and whose
     * own address it is not.
     */
    Route routeRemote(InetAddress remote) {
        int a = ipv4(remote);
        return route(remote, a, c -> c.onLink(a) && c.address() != a);
    }

    /** The route of a socket bound to {@code local}: the stack whose address it is. */
    Route routeLocal(InetAddress local) {
        int a = ipv4(local);
        if (a == 0 && reason(local, a) == null) {
            return new Route(null, FallbackReason.WILDCARD_BIND);
        }
        return route(local, a, c -> c.address() == a);
    }

    /**
     * The first stack whose identity {@code takes} the address: its configured one, or, for a
     * stack whose address is left to the host (xdp without {@code slipstream.address}), the one
     * it settled on when it opened ({@link io.slipstream.stack.Stack#config()}), which it is
     * opened now to learn. Such a stack that cannot open takes what no other stack does, so the
     * socket falls back under the NIC's reason (or is refused with it), as it would with a
     * configured address.
     */
    private Route route(InetAddress address, int ipv4, Predicate<StackConfig> takes) {
        FallbackReason reason = reason(address, ipv4);
        if (reason != null) {
            return new Route(null, reason);
        }
        StackConfig unopened = null;
        for (StackConfig c : stacks) {
            StackConfig identity = c;
            if (!c.hasAddress()) {
                ShimStacks.Attempt attempt = ShimStacks.attempt(c, fallback.isError());
                if (attempt.opened() == null) {
                    unopened = unopened == null ? c : unopened;
                    continue;
                }
                identity = attempt.opened().stack().config();
            }
            if (takes.test(identity)) {
                return new Route(c, null);
            }
        }
        return unopened != null ? new Route(unopened, null) : new Route(null, FallbackReason.NOT_ROUTED);
    }

    /**
     * The stack {@code route} leads to, opened if need be; null means the kernel, after the
     * fallback was counted (or refused under {@code slipstream.fallback=error}).
     */
    ShimStacks.Opened accelerate(Route route, Object what) throws IOException {
        if (route.stack() == null) {
            fallback.fallBack(route.reason(), what);
            return null;
        }
        return open(route.stack(), what);
    }

    /**
     * Places a socket that {@code route} leads to: its stack, or null for the kernel after the
     * fallback was counted once under its reason — {@code optionReason} first (an option set
     * before the decision that the stack cannot honour; null if none), then the route's own,
     * then the NIC's when it did not open.
     */
    ShimStacks.Opened place(Route route, FallbackReason optionReason, Object what) throws IOException {
        if (optionReason != null) {
            fallback.fallBack(optionReason, what);
            return null;
        }
        return accelerate(route, what);
    }

    /** Every configured stack that can be opened, for a listener bound to the wildcard address. */
    List<ShimStacks.Opened> allStacks(Object what) throws IOException {
        List<ShimStacks.Opened> all = new java.util.ArrayList<>(stacks.size());
        for (StackConfig c : stacks) {
            ShimStacks.Opened o = open(c, what);
            if (o != null) {
                all.add(o);
            }
        }
        return all;
    }

    /** Counts (or refuses) a fallback decided by the channel itself. */
    void fallBack(FallbackReason reason, Object what) throws IOException {
        fallback.fallBack(reason, what);
    }

    private FallbackReason reason(InetAddress address, int ipv4) {
        if (stacks.isEmpty()) {
            return FallbackReason.NO_NIC;
        }
        if (address.isLoopbackAddress()) {
            return FallbackReason.LOOPBACK;
        }
        return ipv4 == -1 ? FallbackReason.UNSUPPORTED_FAMILY : null;
    }

    /** The IPv4 address as an int (IPv4-mapped and the IPv6 wildcard included), or -1. */
    private static int ipv4(InetAddress address) {
        byte[] b = address.getAddress();
        if (address instanceof Inet6Address) {
            if (address.isAnyLocalAddress()) {
                return 0;
            }
            return -1;
        }
        return ((b[0] & 0xFF) << 24) | ((b[1] & 0xFF) << 16) | ((b[2] & 0xFF) << 8) | (b[3] & 0xFF);
    }

    /**
     * The stack for {@code config}, or null when it could not be opened: then the fallback is
     * counted under the reason that names the failure (or refused under {@code error}).
     */
    private ShimStacks.Opened open(StackConfig config, Object what) throws IOException {
        ShimStacks.Attempt attempt = ShimStacks.attempt(config, fallback.isError());
        if (attempt.opened() == null) {
            fallback.fallBack(attempt.unavailable().reason(), what, attempt.unavailable().cause());
        }
        return attempt.opened();
    }

    // ---------------------------------------------------------------- SelectorProvider

    @Override
    public DatagramChannel openDatagramChannel() throws IOException {
        return new ShimDatagramChannel(this, (ProtocolFamily) null);
    }

    @Override
    public DatagramChannel openDatagramChannel(ProtocolFamily family) throws IOException {
        Objects.requireNonNull(family);
        return new ShimDatagramChannel(this, family);
    }

    @Override
    public Pipe openPipe() throws IOException {
        return new ShimPipe(this);
    }

    @Override
    public AbstractSelector openSelector() throws IOException {
        return new ShimSelector(this);
    }

    @Override
    public ServerSocketChannel openServerSocketChannel() throws IOException {
        return new ShimServerSocketChannel(this, (ProtocolFamily) null);
    }

    @Override
    public ServerSocketChannel openServerSocketChannel(ProtocolFamily family) throws IOException {
        Objects.requireNonNull(family);
        return new ShimServerSocketChannel(this, family);
    }

    @Override
    public SocketChannel openSocketChannel() throws IOException {
        return new ShimSocketChannel(this, (ProtocolFamily) null);
    }

    @Override
    public SocketChannel openSocketChannel(ProtocolFamily family) throws IOException {
        Objects.requireNonNull(family);
        return new ShimSocketChannel(this, family);
    }

    /**
     * The socket on descriptor 0 that started this program (inetd, {@code systemd-socket-activate
     * --inetd}, or a listening socket), as a Slipstream channel on the kernel in blocking mode;
     * null when descriptor 0 is not an IPv4/IPv6 socket. Looked up once, as the JDK does.
     */
    @Override
    public synchronized Channel inheritedChannel() throws IOException {
        if (!inheritedLookedUp) {
            inheritedLookedUp = true;
            KernelSocket k = KernelSocket.inherit(0);
            if (k != null) {
                fallback.fallBack(FallbackReason.INHERITED, k);
                inherited = !k.isStream() ? new ShimDatagramChannel(this, k)
                        : k.isListening() ? new ShimServerSocketChannel(this, k) : new ShimSocketChannel(this, k);
            }
        }
        return inherited;
    }
}
