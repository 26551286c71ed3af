package io.slipstream.shim;

import io.slipstream.shim.kernel.BufferVectors;
import io.slipstream.shim.kernel.KernelSocket;
import io.slipstream.shim.kernel.Timeouts;
import io.slipstream.stack.Stack;
import java.io.IOException;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.NetworkInterface;
import java.net.ProtocolFamily;
import java.net.SocketAddress;
import java.net.SocketException;
import java.net.SocketOption;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.AlreadyBoundException;
import java.nio.channels.AlreadyConnectedException;
import java.nio.channels.DatagramChannel;
import java.nio.channels.MembershipKey;
import java.nio.channels.NotYetConnectedException;
import java.nio.channels.SelectionKey;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Slipstream's DatagramChannel. It starts as a kernel socket (so options set early act exactly
 * as on the JDK's) and is moved onto a Slipstream stack when it is bound to a stack's address,
 * or connected or first sent to a destination in a stack's subnet while still unbound; options
 * set so far are replayed onto the stack's socket. Bound to the wildcard, multicast, or set up
 * with an option the stack cannot honour, it stays on the kernel (counted as a fallback).
 */
final class ShimDatagramChannel extends DatagramChannel implements ShimNetworkChannel {
    /** No UDP payload is larger (IPv6's 65,535-byte payload less the UDP header, and IPv4's less). */
    private static final int MAX_DATAGRAM = 65_527;
    private final SlipstreamSelectorProvider provider;
    private final int family;
    private final SelectionKeys keys = new SelectionKeys(SelectionKey.OP_READ, SelectionKey.OP_WRITE);
    /** Closes the kernel or stack socket if the channel is dropped unclosed, as the JDK's channel. */
    private final Releaser releaser;

    // Lock order: readLock, writeLock, stateLock (ChannelLocks).
    private final ChannelLocks locks = new ChannelLocks();
    // -- held by receive and read (and by bind, connect, disconnect)
    private final ReentrantLock readLock = locks.readLock;
    // -- held by send and write (and by bind, connect, disconnect)
    private final ReentrantLock writeLock = locks.writeLock;
    // -- guards the fields below it
    private final Object stateLock = locks.stateLock;

    /**
     * A kernel socket until the decision puts the channel on a stack. Written under stateLock;
     * read without it on the data path (volatile).
     */
    private volatile UdpBackend backend;

    // -- guarded by stateLock
    /** Options set by the application, replayed onto an accelerated socket. */
    private final Map<SocketOption<?>, Object> options = new LinkedHashMap<>();
    private final Memberships memberships = new Memberships();
    /** The accelerated-or-kernel decision is made (bind, connect, first send, join). */
    private boolean decided;
    /** Set before the decision when an option the stack cannot honour was set. */
    private FallbackReason optionReason;
    private InetSocketAddress localAddress;
    private InetSocketAddress remoteAddress;

    /** The java.net view (socket()); guarded by its own monitor. */
    private final SocketView<ShimDatagramChannel, DatagramSocketAdaptor> view =
            new SocketView<>(DatagramSocketAdaptor::create);

    ShimDatagramChannel(SlipstreamSelectorProvider provider, ProtocolFamily family) throws IOException {
        super(provider);
        this.provider = provider;
        if (family == java.net.StandardProtocolFamily.UNIX) {
            throw new UnsupportedOperationException("Protocol family not supported"); // as the JDK's
        }
        this.family = Addresses.kernelFamily(family);
        KernelSocket k = KernelSocket.open(this.family, false);
        this.backend = new KernelUdp(k, keys);
        this.releaser = new Releaser(this, k::close);
    }

    /** A datagram socket inherited from the parent process (System.inheritedChannel): stays on the kernel. */
    ShimDatagramChannel(SlipstreamSelectorProvider provider, KernelSocket inherited) throws IOException {
        super(provider);
        this.provider = provider;
        this.family = inherited.family();
        this.backend = new KernelUdp(inherited, keys);
        this.releaser = new Releaser(this, inherited::close);
        this.decided = true;
        this.localAddress = (InetSocketAddress) inherited.localAddress();
        this.remoteAddress = (InetSocketAddress) inherited.remoteAddress();
    }

    @Override
    public Backend backend() {
        return backend;
    }


    // ---------------------------------------------------------------- the decision

    /** Binds to {@code local} (null: wildcard), choosing stack or kernel by the address. Under stateLock. */
    private void bindInternal(SocketAddress local) throws IOException {
        InetSocketAddress isa = local == null ? Addresses.wildcard(family) : Addresses.check(local, family);
        if (!decided) {
            decided = true;
            Stack stack = decideLocal(isa);
            if (stack != null) {
                accelerate(stack, isa.getPort());
                return;
            }
        }
        OnKernel.socketOf(backend).bind(isa);
        localAddress = (InetSocketAddress) OnKernel.socketOf(backend).localAddress();
    }

    private Stack decideLocal(InetSocketAddress isa) throws IOException {
        if (optionReason != null) {
            provider.fallBack(optionReason, isa);
            return null;
        }
        return stackOf(provider.accelerate(provider.routeLocal(isa.getAddress()), isa));
    }

    /** An unbound channel about to talk to {@code remote}: on a stack if one routes there. Under stateLock. */
    private void ensureBoundFor(InetSocketAddress remote) throws IOException {
        if (localAddress != null) {
            return;
        }
        if (!decided) {
            decided = true;
            Stack stack;
            if (optionReason != null) {
                provider.fallBack(optionReason, remote);
                stack = null;
            } else {
                stack = stackOf(provider.accelerate(provider.routeRemote(remote.getAddress()), remote));
            }
            if (stack != null) {
                accelerate(stack, 0);
                return;
            }
        }
        OnKernel.socketOf(backend).bind(Addresses.wildcard(family));
        localAddress = (InetSocketAddress) OnKernel.socketOf(backend).localAddress();
    }

    private static Stack stackOf(ShimStacks.Opened opened) {
        return opened == null ? null : opened.stack();
    }

    private void accelerate(Stack stack, int port) throws IOException {
        Object rcvbuf = options.get(StandardSocketOptions.SO_RCVBUF);
        AcceleratedUdp u = AcceleratedUdp.open(stack, port, rcvbuf == null ? -1 : (Integer) rcvbuf, keys);
        Object tos = options.get(StandardSocketOptions.IP_TOS);
        if (tos != null) {
            u.setTos((Integer) tos);
        }
        UdpBackend k = backend;
        backend = u;
        releaser.hold(u::close);
        localAddress = u.localAddress();
        k.close();
        keys.backingChanged();
    }

    // ---------------------------------------------------------------- bind, connect

    @Override
    public DatagramChannel bind(SocketAddress local) throws IOException {
        return locks.all(() -> {
            ensureOpen();
            if (localAddress != null) {
                throw new AlreadyBoundException();
            }
            bindInternal(local);
            return this;
        });
    }

    @Override
    public boolean isConnected() {
        synchronized (stateLock) {
            return remoteAddress != null;
        }
    }

    @Override
    public DatagramChannel connect(SocketAddress remote) throws IOException {
        return connect(remote, true);
    }

    /**
     * Connects; {@code check} false lets a connected channel connect to another peer (the
     * DatagramSocket view's connect, as the JDK's).
     */
    DatagramChannel connect(SocketAddress remote, boolean check) throws IOException {
        InetSocketAddress isa = Addresses.check(remote, family);
        return locks.all(() -> {
            ensureOpen();
            if (check && remoteAddress != null) {
                throw new AlreadyConnectedException();
            }
            if (isa.getPort() == 0) {
                throw new SocketException("Can't connect to port 0");
            }
            ensureBoundFor(isa);
            localAddress = backend.connect(isa);
            remoteAddress = isa;
            return this;
        });
    }

    @Override
    public DatagramChannel disconnect() throws IOException {
        return locks.all(() -> {
            if (!isOpen() || remoteAddress == null) {
                return this;
            }
            localAddress = backend.disconnect(localAddress);
            remoteAddress = null;
            return this;
        });
    }

    @Override
    public SocketAddress getRemoteAddress() throws IOException {
        return addressWhileOpen(false);
    }

    @Override
    public SocketAddress getLocalAddress() throws IOException {
        return addressWhileOpen(true);
    }

    @Override
    public SocketAddress address(boolean local) {
        synchronized (stateLock) {
            return local ? localAddress : remoteAddress;
        }
    }

    @Override
    public DatagramSocket socket() {
        return view.of(this, family);
    }

    // ---------------------------------------------------------------- receive and send

    @Override
    public SocketAddress receive(ByteBuffer dst) throws IOException {
        return receive(dst, 0);
    }

    /** Receives; in blocking mode gives up after {@code timeoutNanos} (0: no limit) with SocketTimeoutException. */
    SocketAddress receive(ByteBuffer dst, long timeoutNanos) throws IOException {
        BufferVectors.checkWritable(dst, null, 0, 0);
        readLock.lock();
        try {
            ensureOpen();
            boolean blocking = isBlocking();
            SocketAddress sender = null;
            try {
                if (blocking) {
                    begin();
                }
                synchronized (stateLock) {
                    ensureOpen();
                    if (localAddress == null) {
                        bindInternal(null);
                    }
                }
                long deadlineNanos = Timeouts.deadlineNanos(timeoutNanos);
                while (true) {
                    sender = backend.receive(dst);
                    if (sender != null || !blocking || !isOpen()) {
                        break;
                    }
                    backend.awaitReadable(Timeouts.waitNanos(timeoutNanos, deadlineNanos, "Receive timed out"));
                }
                return sender;
            } finally {
                if (blocking) {
                    end(sender != null);
                }
            }
        } finally {
            readLock.unlock();
        }
    }

    @Override
    public int send(ByteBuffer src, SocketAddress target) throws IOException {
        Objects.requireNonNull(src);
        return send(src, Addresses.check(target, family));
    }

    /** Sends one datagram to {@code target}, or to the connected peer when it is null (write). */
    private int send(ByteBuffer src, InetSocketAddress target) throws IOException {
        writeLock.lock();
        try {
            ensureOpen();
            boolean blocking = isBlocking();
            int n = 0;
            boolean completed = false;
            try {
                if (blocking) {
                    begin();
                }
                n = sendLoop(src, destination(target), blocking);
                completed = n >= 0;
                return Math.max(n, 0);
            } finally {
                if (blocking) {
                    end(completed);
                }
            }
        } finally {
            writeLock.unlock();
        }
    }

    /**
     * Where a datagram for {@code target} goes: null for the connected peer, which is where a
     * write (target null) must go and a send to a connected channel may only go.
     */
    private InetSocketAddress destination(InetSocketAddress target) throws IOException {
        synchronized (stateLock) {
            ensureOpen();
            boolean connected = remoteAddress != null;
            if (target == null) {
                if (!connected) {
                    throw new NotYetConnectedException();
                }
                return null;
            }
            if (connected && !target.equals(remoteAddress)) {
                throw new AlreadyConnectedException();
            }
            // Bound first, as the JDK does: even a send that fails leaves the channel bound.
            ensureBoundFor(target);
            if (!connected && target.getPort() == 0) {
                throw new SocketException("Can't send to port 0");
            }
            return connected ? null : target;
        }
    }

    /** Sends one datagram, waiting for room in blocking mode; -1 if it could not be sent. */
    private int sendLoop(ByteBuffer src, InetSocketAddress target, boolean blocking) throws IOException {
        while (true) {
            UdpBackend b = backend;
            int n = b.send(src, target);
            if (n >= 0 || !blocking || !isOpen()) {
                return n;
            }
            b.awaitSendable();
        }
    }

    @Override
    public int read(ByteBuffer dst) throws IOException {
        Objects.requireNonNull(dst);
        BufferVectors.checkWritable(dst, null, 0, 0);
        readLock.lock();
        try {
            ensureOpen();
            synchronized (stateLock) {
                if (remoteAddress == null) {
                    throw new NotYetConnectedException();
                }
            }
            int before = dst.position();
            SocketAddress sender = receive(dst, 0);
            return sender == null ? 0 : dst.position() - before;
        } finally {
            readLock.unlock();
        }
    }

    @Override
    public long read(ByteBuffer[] dsts, int offset, int length) throws IOException {
        Objects.checkFromIndexSize(offset, length, dsts.length);
        BufferVectors.checkWritable(null, dsts, offset, length);
        // One datagram spread over the buffers: received whole into a staging buffer first.
        ByteBuffer staging = ByteBuffer.allocate(stagingSize(dsts, offset, length));
        int n = read(staging);
        BufferVectors.scatter(staging.flip(), dsts, offset, length);
        return n;
    }

    private static int stagingSize(ByteBuffer[] bufs, int offset, int length) {
        return (int) Math.min(BufferVectors.remaining(bufs, offset, length), MAX_DATAGRAM);
    }

    @Override
    public int write(ByteBuffer src) throws IOException {
        Objects.requireNonNull(src);
        return send(src, (InetSocketAddress) null);
    }

    @Override
    public long write(ByteBuffer[] srcs, int offset, int length) throws IOException {
        Objects.checkFromIndexSize(offset, length, srcs.length);
        ByteBuffer staging = ByteBuffer.allocate(stagingSize(srcs, offset, length));
        BufferVectors.gather(srcs, offset, length, staging);
        int n = write(staging.flip());
        BufferVectors.consume(srcs, offset, length, n);
        return n;
    }

    // ---------------------------------------------------------------- options

    @Override
    public <T> DatagramChannel setOption(SocketOption<T> name, T value) throws IOException {
        KernelOptions.check(KernelOptions.DATAGRAM, name, value);
        synchronized (stateLock) {
            ensureOpen();
            int v = value instanceof NetworkInterface ? 0 : KernelOptions.intValue(name, value);
            backend.setOption(name, value, v);
            // Before the decision the socket is the kernel's: note an option that would keep it there.
            if (!decided && optionReason == null) {
                optionReason = AcceleratedUdp.unsupported(name, v);
            }
            options.put(name, value);
        }
        return this;
    }

    @Override
    @SuppressWarnings("unchecked")
    public <T> T getOption(SocketOption<T> name) throws IOException {
        KernelOptions.checkName(KernelOptions.DATAGRAM, name);
        synchronized (stateLock) {
            ensureOpen();
            return (T) backend.getOption(name, options);
        }
    }

    @Override
    public Set<SocketOption<?>> supportedOptions() {
        return KernelOptions.DATAGRAM;
    }

    // ---------------------------------------------------------------- multicast

    @Override
    public MembershipKey join(InetAddress group, NetworkInterface interf) throws IOException {
        Objects.requireNonNull(interf);
        return joinInternal(group, interf, null);
    }

    @Override
    public MembershipKey join(InetAddress group, NetworkInterface interf, InetAddress source) throws IOException {
        Objects.requireNonNull(interf);
        Objects.requireNonNull(source);
        return joinInternal(group, interf, source);
    }

    /**
     * Joins through the kernel: a channel not yet decided stays on the kernel for good (counted
     * as MULTICAST); an accelerated one cannot join (its port lives on the stack, which has no
     * multicast): UnsupportedOperationException. {@code interf} null (the DatagramSocket view
     * without an interface): the kernel picks the interface by route.
     */
    ShimMembershipKey joinInternal(InetAddress group, NetworkInterface interf, InetAddress source) throws IOException {
        Objects.requireNonNull(group);
        Memberships.checkJoin(group, source, family);
        synchronized (stateLock) {
            ensureOpen();
            ShimMembershipKey existing = memberships.find(group, interf, source);
            if (existing != null) {
                return existing;
            }
            if (isAccelerated()) {
                throw new UnsupportedOperationException(
                        "multicast membership is not available on a socket Slipstream accelerates (bound to a stack's address)");
            }
            if (!decided) {
                provider.fallBack(FallbackReason.MULTICAST, group); // throws under slipstream.fallback=error
                decided = true;
            }
            return memberships.join(this, OnKernel.socketOf(backend), group, interf, source);
        }
    }

    /** The any-source membership of {@code group} on {@code interf}, or null (for the DatagramSocket view). */
    ShimMembershipKey findMembership(InetAddress group, NetworkInterface interf) {
        synchronized (stateLock) {
            return memberships.find(group, interf, null);
        }
    }

    void drop(ShimMembershipKey key) {
        synchronized (stateLock) {
            if (!isOpen()) {
                return; // closing already invalidated the key
            }
            try {
                memberships.drop(OnKernel.socketOf(backend), key); // a membership exists only on the kernel
            } catch (IOException e) {
                // The kernel refuses only a membership it does not hold, which the registry rules out.
                throw new java.io.UncheckedIOException(e);
            }
        }
    }

    void block(ShimMembershipKey key, InetAddress source) throws IOException {
        synchronized (stateLock) {
            Memberships.filter(OnKernel.socketOf(backend), key, source, true);
        }
    }

    void unblock(ShimMembershipKey key, InetAddress source) {
        synchronized (stateLock) {
            try {
                Memberships.filter(OnKernel.socketOf(backend), key, source, false);
            } catch (IOException e) {
                // unblock declares no IOException; the key's blocked set rules out the kernel's refusal.
                throw new java.io.UncheckedIOException(e);
            }
        }
    }

    // ---------------------------------------------------------------- closing, blocking mode

    @Override
    protected void implCloseSelectableChannel() {
        synchronized (stateLock) {
            memberships.invalidateAll();
        }
        backend.close();
        releaser.closed();
    }

    @Override
    protected void implConfigureBlocking(boolean block) {
        // Always non-blocking underneath: blocking mode is how this class waits.
    }

    @Override
    public String toString() {
        if (!isOpen()) {
            return "ShimDatagramChannel[closed]";
        }
        return "ShimDatagramChannel[" + (isAccelerated() ? "accelerated" : "kernel") + " local=" + localAddressOrNull()
                + (remoteAddressOrNull() == null ? "" : " remote=" + remoteAddressOrNull()) + "]";
    }
}
