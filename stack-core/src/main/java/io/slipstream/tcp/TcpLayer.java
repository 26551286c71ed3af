package io.slipstream.tcp;

import io.slipstream.nic.FlowSteering;
import io.slipstream.buffer.BufferOwner;
import io.slipstream.buffer.PacketBuffer;
import io.slipstream.ip.Ipv4Output;
import io.slipstream.ip.TransportLayer;
import io.slipstream.ip.ReceiveVerdict;
import io.slipstream.stats.Counters;
import io.slipstream.time.Clock;
import io.slipstream.time.Timers;
import io.slipstream.wire.Ipv4;
import io.slipstream.wire.Ipv4Address;
import io.slipstream.wire.Tcp;
import io.slipstream.wire.TcpOptions;
import io.slipstream.wire.WireError;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BooleanSupplier;
import org.eclipse.collections.impl.map.mutable.primitive.IntObjectHashMap;
import org.eclipse.collections.impl.map.mutable.primitive.LongObjectHashMap;

/**
 * The TCP layer of one stack: demultiplexes segments to connections (by 4-tuple packed in a
 * long) and listeners (by local port), answers segments for no socket with a RST
 * (RFC 9293 §3.10.7.1), and owns what connections share: the ISN and port secrets
 * (RFC 6528, RFC 6056), SYN cookies, the challenge-ACK budget (RFC 5961 §7), the counters.
 *
 * <p>Not thread-safe: runs under the stack lock. {@link #receive} never throws: malformed or
 * hostile segments are dropped and counted.
 */
public final class TcpLayer extends TransportLayer implements AutoCloseable {
    private static final long COOKIE_PERIOD_NANOS = 64_000_000_000L;
    /** A cookie is checked against its own period and the one before: valid for at most two periods. */
    private static final long COOKIE_VALIDITY_NANOS = 2 * COOKIE_PERIOD_NANOS;
    /** RFC 6056: the MSS values a SYN cookie can carry, in 3 bits. */
    private static final int[] COOKIE_MSS = {536, 1200, 1360, 1400, 1440, 1460, 4312, 8960};
    /** Low timestamp bits of a cookie SYN-ACK: the peer's window scale (15 = none) and SACK-permitted. */
    static final int COOKIE_WSCALE_MASK = 0xF;
    static final int COOKIE_NO_WSCALE = 0xF;
    static final int COOKIE_SACK_BIT = 0x10;
    private static final int COOKIE_TS_BITS = 0x3F;
    /** Ports the NIC may choose that the stack finds busy before a connect gives up (see holdEphemeral). */
    private static final int EPHEMERAL_RECHOOSE = 8;
    private final TcpOptions cookieOptions = new TcpOptions();

    private final Ipv4Output output;
    private final Timers timers;
    private final Clock clock;
    private final TcpConfig config;
    private final Counters<TcpCounter> counters = new Counters<>(TcpCounter.class);
    private final BufferOwner owner = new BufferOwner("tcp");
    private final TcpOptions rxOptions = new TcpOptions();
    /** The arriving segment handed to connections, refilled for each one (no allocation per segment). */
    private final Segment rxSegment = new Segment(rxOptions);
    private final SipHash isnHash;
    private final SipHash portHash;
    private final SipHash cookieHash;
    /** Whether a receive batch (one poll pass's frames) is under way, and the SYNs it handled. */
    private boolean inBatch;
    private int synsThisBatch;
    /** ACKs that wait for the end of the receive batch. */
    final HeldAcks heldAcks = new HeldAcks();
    /** Every connection's send and receive rings. */
    private final RingMemory rings = new RingMemory();
    private final LongObjectHashMap<TcpConnection> connections = new LongObjectHashMap<>();
    private final IntObjectHashMap<TcpListener> listeners = new IntObjectHashMap<>();
    private int nextEphemeral;
    private long portDraws;
    /** Test hook: when set, the next ISN chosen (then cleared). */
    boolean hasIsnOverride;
    int isnOverride;
    private long challengeWindowStart = Long.MIN_VALUE;
    private int challengeAcksInWindow;
    private TcpConnection.StateObserver stateObserver;
    private RuntimeException lastInternalError;

    /**
     * @param secret at least 48 random bytes (from a SecureRandom) keying ISNs, ports and cookies
     */
    public TcpLayer(Ipv4Output output, Timers timers, Clock clock, TcpConfig config, byte[] secret) {
        if (secret.length < 48) {
            throw new IllegalArgumentException("the TCP secret needs 48 random bytes, got " + secret.length);
        }
        this.output = output;
        this.timers = timers;
        this.clock = clock;
        this.config = config;
        this.isnHash = new SipHash(word(secret, 0), word(secret, 8));
        this.portHash = new SipHash(word(secret, 16), word(secret, 24));
        this.cookieHash = new SipHash(word(secret, 32), word(secret, 40));
    }

    private static long word(byte[] b, int off) {
        long v = 0;
        for (int i = 0; i < 8; i++) {
            v = (v << 8) | (b[off + i] & 0xFF);
        }
        return v;
    }

    static long key(int remoteAddress, int remotePort, int localPort) {
        return ((long) remoteAddress << 32) | ((long) (remotePort & 0xFFFF) << 16) | (localPort & 0xFFFF);
    }

    @Override
    public int protocol() {
        return Ipv4.PROTO_TCP;
    }

    RingMemory rings() {
        return rings;
    }

    /** Frees the memory of every connection's buffers: at stack close; no connection may be used afterwards. */
    @Override
    public void close() {
        rings.close();
    }

    public Counters<TcpCounter> counters() {
        return counters;
    }

    public TcpConfig config() {
        return config;
    }

    Ipv4Output output() {
        return output;
    }

    Timers timers() {
        return timers;
    }

    Clock clock() {
        return clock;
    }

    BufferOwner owner() {
        return owner;
    }

    /** Observes state changes of every connection created from now on (tests, tracing). */
    public void stateObserver(TcpConnection.StateObserver observer) {
        this.stateObserver = observer;
    }

    TcpConnection.StateObserver stateObserver() {
        return stateObserver;
    }

    /** The last unexpected exception caught on a receive or timer path, for diagnosis. */
    public RuntimeException lastInternalError() {
        return lastInternalError;
    }

    void internalError(RuntimeException e) {
        lastInternalError = e;
    }

    /** A snapshot of the live connections (allocates; for diagnostics and tests). */
    public List<TcpConnection> connections() {
        List<TcpConnection> out = new ArrayList<>();
        connections.forEachValue(out::add);
        return out;
    }

    /** Live connections (including TIME-WAIT). */
    public int connectionCount() {
        return connections.size();
    }

    // ------------------------------------------------------------------ API

    /**
     * Opens a connection (RFC 9293 §3.10.1). {@code localPort} 0 picks an ephemeral port: the
     * NIC's choice where it holds ports outside the stack (so the kernel, which shares the
     * address, chooses one no kernel socket has), else RFC 6056 algorithm 3.
     *
     * @throws IllegalArgumentException bad address or port
     * @throws AddressInUseException the 4-tuple is in use, the port is held outside the stack,
     *     or no ephemeral port is free
     * @throws TcpException UNREACHABLE when there is no route
     */
    public TcpConnection connect(int remoteAddress, int remotePort, int localPort, TcpConnectOptions options) {
        assert lockHeld() : "stack lock not held";
        if (remotePort < 1 || remotePort > 65535 || localPort < 0 || localPort > 65535) {
            throw new IllegalArgumentException("ports must be 1..65535 (local 0 = ephemeral): "
                    + remotePort + ", " + localPort);
        }
        if (remoteAddress == 0 || remoteAddress == -1) {
            throw new IllegalArgumentException("cannot connect to 0.0.0.0 or the broadcast address");
        }
        if (!output.routable(remoteAddress)) {
            throw new TcpException(TcpError.UNREACHABLE, "no route to " + Ipv4Address.format(remoteAddress));
        }
        int local = output.sourceAddress(remoteAddress);
        // Held from here until the connection is removed
        int port = localPort == 0 ? holdEphemeral(local, remoteAddress, remotePort)
                : holdFixed(local, localPort, remoteAddress, remotePort);
        TcpConnection c;
        try {
            c = new TcpConnection(this, local, port, remoteAddress, remotePort, options);
            // Before the SYN leaves, so the SYN-ACK already reaches the stack.
            steering.addConnection(FlowSteering.PROTO_TCP, local, port, remoteAddress, remotePort);
        } catch (RuntimeException e) {
            steering.release(FlowSteering.PROTO_TCP, local, port);
            throw e;
        }
        c.steered = true;
        c.holdsPort = true;
        connections.put(c.key, c);
        c.openActive();
        return c;
    }

    /** Holds a fixed local port for a connection, which must not be connected to the remote already. */
    private int holdFixed(int local, int port, int remoteAddress, int remotePort) {
        TcpConnection existing = connections.get(key(remoteAddress, remotePort, port));
        if (existing != null && !reusableTimeWait(existing)) {
            throw new AddressInUseException("local port " + port + " is already connected to "
                    + Ipv4Address.format(remoteAddress) + ":" + remotePort);
        }
        if (steering.hold(FlowSteering.PROTO_TCP, local, port) == FlowSteering.IN_USE) {
            throw heldOutside(local, port);
        }
        if (existing != null) {
            existing.reuse(); // after the hold, so the port is never free in between
        }
        return port;
    }

    /**
     * Holds an ephemeral port: the one the NIC chooses where it holds ports outside the stack,
     * or one of the stack's own choice. Every port the stack uses is held, so the NIC's choice is
     * free in the stack too, except a port an accepted connection kept without a hold (see
     * {@link #adoptAccepted}): such a choice is kept held while the NIC chooses again.
     */
    private int holdEphemeral(int local, int remoteAddress, int remotePort) {
        int chosen = steering.hold(FlowSteering.PROTO_TCP, local, 0);
        if (chosen == 0) {
            return pickEphemeral(local, remoteAddress, remotePort);
        }
        int[] busy = null;
        int busyCount = 0;
        try {
            while (chosen != FlowSteering.IN_USE
                    && (listeners.containsKey(chosen) || connections.containsKey(key(remoteAddress, remotePort, chosen)))) {
                if (busy == null) {
                    busy = new int[EPHEMERAL_RECHOOSE];
                }
                if (busyCount == busy.length) {
                    steering.release(FlowSteering.PROTO_TCP, local, chosen);
                    chosen = FlowSteering.IN_USE;
                    break;
                }
                busy[busyCount++] = chosen;
                chosen = steering.hold(FlowSteering.PROTO_TCP, local, 0);
            }
        } finally {
            for (int i = 0; i < busyCount; i++) {
                steering.release(FlowSteering.PROTO_TCP, local, busy[i]);
            }
        }
        if (chosen == FlowSteering.IN_USE) {
            throw new AddressInUseException("no free ephemeral port on " + Ipv4Address.format(local)
                    + ": the kernel, which shares the address and chooses the port, has none left");
        }
        return chosen;
    }

    private static AddressInUseException heldOutside(int local, int port) {
        return new AddressInUseException("TCP port " + port + " of " + Ipv4Address.format(local)
                + " is held outside the stack: another program's kernel socket has it");
    }

    public TcpConnection connect(int remoteAddress, int remotePort) {
        return connect(remoteAddress, remotePort, 0, TcpConnectOptions.DEFAULT);
    }

    /**
     * Listens on {@code localPort} with an accept queue of {@code backlog} connections, holding
     * the port outside the stack.
     *
     * @throws AddressInUseException the port has a listener, or is held outside the stack
     */
    public TcpListener listen(int localPort, int backlog, TcpConnectOptions options) {
        return listen(localPort, backlog, options, false);
    }

    /**
     * As {@link #listen(int, int, TcpConnectOptions)}; {@code portHeldByCaller}: the caller
     * already holds the port where the NIC would (a wildcard listener's own kernel socket, bound
     * to every address, the stack's included), so the NIC steers the port without holding it
     * again, which the caller's socket would refuse.
     */
    public TcpListener listen(int localPort, int backlog, TcpConnectOptions options, boolean portHeldByCaller) {
        assert lockHeld() : "stack lock not held";
        if (localPort < 1 || localPort > 65535) {
            throw new IllegalArgumentException("listen port must be 1..65535, got " + localPort);
        }
        if (backlog < 1) {
            throw new IllegalArgumentException("backlog must be positive, got " + backlog);
        }
        if (listeners.containsKey(localPort)) {
            throw new AddressInUseException("port " + localPort + " already has a listener");
        }
        if (!portHeldByCaller
                && steering.hold(FlowSteering.PROTO_TCP, steeringAddress, localPort) == FlowSteering.IN_USE) {
            throw heldOutside(steeringAddress, localPort);
        }
        TcpListener l = new TcpListener(this, localPort, backlog, options);
        l.holdsPort = !portHeldByCaller;
        try {
            steering.addListener(FlowSteering.PROTO_TCP, steeringAddress, localPort);
        } catch (RuntimeException e) {
            if (l.holdsPort) {
                steering.release(FlowSteering.PROTO_TCP, steeringAddress, localPort);
            }
            throw e;
        }
        listeners.put(localPort, l);
        return l;
    }

    public TcpListener listen(int localPort, int backlog) {
        return listen(localPort, backlog, TcpConnectOptions.DEFAULT);
    }

    /**
     * RFC 6056 §3.3.3 (algorithm 3): a keyed-hash offset per destination plus a counter; a port
     * held outside the stack is passed over as one in use (the chosen one is held on return).
     */
    private int pickEphemeral(int local, int remoteAddress, int remotePort) {
        int min = config.ephemeralMin();
        int range = config.ephemeralMax() - min + 1;
        long offset = portHash.hash(((long) local << 32) | (remoteAddress & 0xFFFF_FFFFL), remotePort);
        for (int i = 0; i < range; i++) {
            int port = min + (int) Long.remainderUnsigned(offset + nextEphemeral + i, range);
            if (listeners.containsKey(port)) {
                continue;
            }
            TcpConnection existing = connections.get(key(remoteAddress, remotePort, port));
            if ((existing == null || reusableTimeWait(existing))
                    && steering.hold(FlowSteering.PROTO_TCP, local, port) != FlowSteering.IN_USE) {
                if (existing != null) {
                    existing.reuse();
                }
                // RFC 6056 §3.3.5 (algorithm 5): a random increment, so that successive ports
                // towards one destination are not sequential
                nextEphemeral += i + 1 + (int) ((portHash.hash(nextEphemeral, ++portDraws) >>> 33) % 500);
                return port;
            }
        }
        throw new AddressInUseException("no free ephemeral port towards "
                + Ipv4Address.format(remoteAddress) + ":" + remotePort);
    }

    /**
     * TIME-WAIT reuse for outgoing connects: with timestamps on the old connection, a new one
     * is safe once the clock has moved at least a second past its last timestamp, since PAWS
     * on the peer rejects old duplicates (RFC 7323 Appendix B.2, as Linux tcp_tw_reuse).
     */
    private boolean reusableTimeWait(TcpConnection c) {
        return c.state() == TcpState.TIME_WAIT && c.timestampsOk
                && clock.nanoTime() - c.tsRecentAge() >= 1_000_000_000L;
    }

    void removeConnection(TcpConnection c) {
        if (connections.get(c.key) == c) {
            connections.remove(c.key);
            if (c.steered) {
                steering.removeConnection(FlowSteering.PROTO_TCP, c.localAddress(), c.localPort(), c.remoteAddress(),
                        c.remotePort());
            }
            if (c.holdsPort) {
                steering.release(FlowSteering.PROTO_TCP, c.localAddress(), c.localPort());
            }
        }
    }

    void removeListener(TcpListener l) {
        if (listeners.get(l.localPort()) == l) {
            listeners.remove(l.localPort());
            adoptAccepted(l);
            steering.removeListener(FlowSteering.PROTO_TCP, steeringAddress, l.localPort());
            if (l.holdsPort) {
                steering.release(FlowSteering.PROTO_TCP, steeringAddress, l.localPort());
            }
        }
    }

    /**
     * Connections accepted from a closing listener rode on its steering entry and its hold; they
     * outlive it (as on Linux), so each is steered by its own 4-tuple from now on and holds the
     * port itself, before the listener's entry and hold go. The hold is shared with the
     * listener's; where the caller held the listener's port (a wildcard listener's kernel socket)
     * it is new, and if something outside the stack took the port meanwhile the connection keeps
     * its steering without a hold. A failure here is recorded, never thrown into the close.
     */
    private void adoptAccepted(TcpListener l) {
        connections.forEachValue(c -> {
            if (c.steered || c.parent != null || c.localPort() != l.localPort()) {
                return; // not accepted from it: outgoing, already adopted, or in its queues (reset next)
            }
            try {
                c.holdsPort = steering.hold(FlowSteering.PROTO_TCP, c.localAddress(), c.localPort())
                        != FlowSteering.IN_USE;
                steering.addConnection(FlowSteering.PROTO_TCP, c.localAddress(), c.localPort(), c.remoteAddress(),
                        c.remotePort());
                c.steered = true;
            } catch (RuntimeException e) {
                internalError(e);
            }
        });
    }

    void abortHalfOpen(TcpListener l) {
        List<TcpConnection> doomed = new ArrayList<>();
        connections.forEachValue(c -> {
            if (c.parent == l) {
                doomed.add(c);
            }
        });
        for (TcpConnection c : doomed) {
            c.parent = null;
            c.abort();
        }
    }

    /** RFC 6528: ISN = M + F(4-tuple, secret), M a 4 µs clock. */
    int initialSequence(int localAddress, int localPort, int remoteAddress, int remotePort) {
        if (hasIsnOverride) {
            hasIsnOverride = false;
            return isnOverride;
        }
        long h = isnHash.hash(((long) localAddress << 32) | (remoteAddress & 0xFFFF_FFFFL),
                ((long) localPort << 16) | remotePort);
        return (int) (clock.nanoTime() / 4000) + (int) h;
    }

    /** A per-connection random offset for timestamps, so they reveal no uptime (RFC 7323 §7.1). */
    int timestampOffset(int localAddress, int localPort, int remoteAddress, int remotePort) {
        return (int) (isnHash.hash(((long) remoteAddress << 32) | (localAddress & 0xFFFF_FFFFL),
                ((long) remotePort << 16) | localPort | (1L << 40)) >>> 32);
    }

    /** RFC 5961 §7: a layer-wide budget of challenge ACKs per second. */
    boolean allowChallengeAck() {
        long now = clock.nanoTime();
        if (challengeWindowStart == Long.MIN_VALUE || now - challengeWindowStart >= 1_000_000_000L) {
            challengeWindowStart = now;
            challengeAcksInWindow = 0;
        }
        if (challengeAcksInWindow >= config.challengeAckLimit()) {
            return false;
        }
        challengeAcksInWindow++;
        return true;
    }

    // ------------------------------------------------------------------ receive

    /** See {@link HeldAcks}: the ACKs held during a batch go at its end. */
    @Override
    public void receiveBatch(boolean begins) {
        assert lockHeld();
        inBatch = begins;
        synsThisBatch = 0;
        if (begins) {
            heldAcks.batchBegins();
        } else {
            heldAcks.batchEnds();
        }
    }

    @Override
    public int receive(PacketBuffer buffer, BufferOwner from, int source, int destination, int tos) {
        try {
            receiveSegment(buffer.segment(), buffer.offset(), buffer.length(), source, destination);
        } catch (RuntimeException e) {
            counters.increment(TcpCounter.DROP_INTERNAL_ERROR);
            lastInternalError = e;
        }
        // Data is copied into the connection's ring, and a segment for no socket is answered
        // with a RST here (RFC 9293 §3.10.7.1), never an ICMP error: the IP layer frees the buffer.
        return ReceiveVerdict.DROPPED;
    }

    private void receiveSegment(MemorySegment s, long off, int len, int source, int destination) {
        assert lockHeld() : "stack lock not held";
        counters.increment(TcpCounter.SEGMENTS_RECEIVED);
        WireError err = Tcp.validate(s, off, len, source, destination);
        if (err != null) {
            if (err == WireError.TCP_BAD_CHECKSUM) {
                counters.increment(TcpCounter.DROP_BAD_CHECKSUM);
            } else {
                counters.increment(TcpCounter.DROP_MALFORMED);
            }
            return;
        }
        TcpOptions o = rxOptions;
        o.parse(s, off);
        int sport = Tcp.sourcePort(s, off);
        int dport = Tcp.destinationPort(s, off);
        int hl = Tcp.headerLength(s, off);
        int seq = Tcp.sequence(s, off);
        int ack = Tcp.acknowledgment(s, off);
        int flags = Tcp.flags(s, off);
        int window = Tcp.window(s, off);
        int urgent = Tcp.urgentPointer(s, off);
        int dataLen = len - hl;
        if (sport == 0 || dport == 0 || source == 0 || source == -1) {
            counters.increment(TcpCounter.DROP_MALFORMED);
            return;
        }
        TcpConnection c = connections.get(key(source, sport, dport));
        if (c != null && c.state() == TcpState.TIME_WAIT && (flags & (Tcp.SYN | Tcp.ACK | Tcp.RST)) == Tcp.SYN
                && listeners.containsKey(dport) && newerThanTimeWait(c, seq, o)) {
            // RFC 6191 / RFC 9293 §3.6.1: a new SYN may end TIME-WAIT early
            c.reuse();
            c = null;
        }
        if (c != null) {
            c.segmentArrives(rxSegment.set(s, off + hl, dataLen, seq, ack, flags, window, urgent));
            return;
        }
        TcpListener l = listeners.get(dport);
        if (l != null) {
            listenArrives(l, s, off, hl, dataLen, source, destination, sport, dport, seq, ack, flags, window, o);
            return;
        }
        counters.increment(TcpCounter.DROP_NO_SOCKET);
        resetForNoSocket(destination, dport, source, sport, seq, ack, flags, dataLen);
    }

    private static boolean newerThanTimeWait(TcpConnection c, int seq, TcpOptions o) {
        if (c.timestampsOk && o.hasTimestamps) {
            return Seq.gt(o.tsVal, c.tsRecent());
        }
        return Seq.gt(seq, c.rcvNxt);
    }

    /** RFC 9293 §3.10.7.1: a segment for no connection draws a RST unless it is one. */
    private void resetForNoSocket(int local, int localPort, int remote, int remotePort, int seq, int ack,
                                  int flags, int dataLen) {
        if ((flags & Tcp.RST) != 0) {
            return;
        }
        if ((flags & Tcp.ACK) != 0) {
            sendReset(local, localPort, remote, remotePort, ack, 0, false);
        } else {
            int segLen = dataLen + ((flags & Tcp.SYN) != 0 ? 1 : 0) + ((flags & Tcp.FIN) != 0 ? 1 : 0);
            sendReset(local, localPort, remote, remotePort, 0, seq + segLen, true);
        }
    }

    /** RFC 9293 §3.10.7.2, with SYN cookies when the SYN backlog is full. */
    private void listenArrives(TcpListener l, MemorySegment s, long off, int hl, int dataLen, int source,
                               int destination, int sport, int dport, int seq, int ack, int flags, int window,
                               TcpOptions o) {
        if ((flags & Tcp.RST) != 0) {
            return;
        }
        if ((flags & Tcp.ACK) != 0) {
            if ((flags & Tcp.SYN) == 0 && l.cookiesOutstanding(clock.nanoTime(), COOKIE_VALIDITY_NANOS)) {
                // Either a cookie's ACK or, when it fails the check, dropped rather than reset:
                // a client whose handshake ACK and first segment were lost sends its next
                // segment with a sequence number the cookie does not cover, and its
                // retransmission of the first will (RFC 4987 §3.6; Linux discards it too).
                if (!acceptCookie(l, destination, dport, source, sport, seq, ack, window, s, off + hl, dataLen,
                        flags, o)) {
                    counters.increment(l.acceptQueueFull() ? TcpCounter.DROP_LISTEN_OVERFLOW
                            : TcpCounter.DROP_COOKIE_CHECK);
                }
                return;
            }
            sendReset(destination, dport, source, sport, ack, 0, false);
            return;
        }
        if ((flags & Tcp.SYN) == 0) {
            return;
        }
        if ((flags & Tcp.FIN) != 0) {
            // SYN+FIN opens nothing real (scanners, evasion): Linux discards it, so Slipstream
            // does too, rather than keep the FIN for after the handshake (RFC 9293 §3.10.7.2)
            counters.increment(TcpCounter.DROP_SYN_FIN);
            return;
        }
        if (l.acceptQueueFull()) {
            counters.increment(TcpCounter.DROP_LISTEN_OVERFLOW);
            return;
        }
        if (l.synQueueFull()) {
            if (inBatch && ++synsThisBatch > config.synPerPoll()) {
                // a SYN flood (the half-open queue is full, every SYN would cost a cookie): the
                // rest of this pass's frames, established connections' segments, go first; the
                // SYN is dropped unanswered and its client retries. A burst of real clients within
                // the listen backlog is never cut: each half-open connection is cheap (no rings).
                counters.increment(TcpCounter.DROP_SYN_BUDGET);
                return;
            }
            l.cookieSent(clock.nanoTime());
            sendCookie(destination, dport, source, sport, seq, o, ConnectionBuffers.receiveBytesFor(l.options, config),
                    ConnectionBuffers.receiveMaxBytesFor(l.options, config));
            return;
        }
        TcpConnection c = new TcpConnection(this, destination, dport, source, sport, l.options);
        c.parent = l;
        c.halfOpen = true;
        l.halfOpen++;
        connections.put(c.key, c);
        c.openPassive(rxSegment.set(s, off + hl, dataLen, seq, ack, flags, window, 0),
                initialSequence(destination, dport, source, sport));
    }

    // ------------------------------------------------------------------ SYN cookies

    /**
     * The cookie ISN: 5 bits of time counter, 24 bits of keyed hash over the 4-tuple, the
     * counter and the peer's ISN, and 3 bits of MSS index. Options other than MSS are not kept.
     */
    private int cookie(int local, int localPort, int remote, int remotePort, int peerIsn, int t, int mssIndex) {
        long h = cookieHash.hash(((long) local << 32) | (remote & 0xFFFF_FFFFL),
                ((long) localPort << 48) | ((long) remotePort << 32) | (peerIsn & 0xFFFF_FFFFL)) ^ t;
        h = cookieHash.hash(h, t);
        return ((t & 0x1F) << 27) | ((int) (h & 0xFFFFFF) << 3) | mssIndex;
    }

    private int cookieTime() {
        return (int) (clock.nanoTime() / COOKIE_PERIOD_NANOS);
    }

    private void sendCookie(int local, int localPort, int remote, int remotePort, int peerIsn, TcpOptions o,
                            int rcvbuf, int rcvbufMax) {
        int peerMss = o.mss > 0 ? o.mss : TcpConnection.DEFAULT_MSS;
        int idx = 0;
        for (int i = COOKIE_MSS.length - 1; i >= 0; i--) {
            if (COOKIE_MSS[i] <= peerMss) {
                idx = i;
                break;
            }
        }
        int isn = cookie(local, localPort, remote, remotePort, peerIsn, cookieTime() & 0x1F, idx);
        TcpOptions out = cookieOptions;
        out.clear();
        out.mss = Math.min(65535, Math.max(64, output.mtu(remote) - 40));
        if (config.timestamps() && o.hasTimestamps) {
            boolean ws = config.windowScaling() && o.windowScale >= 0;
            boolean sack = config.sack() && o.sackPermitted;
            int bits = (ws ? o.windowScale : COOKIE_NO_WSCALE) | (sack ? COOKIE_SACK_BIT : 0);
            int now = (int) (clock.nanoTime() / 1_000_000L) + timestampOffset(local, localPort, remote, remotePort);
            int ts = (now & ~COOKIE_TS_BITS) | bits;
            if (Seq.gt(ts, now)) {
                ts -= COOKIE_TS_BITS + 1; // never ahead of the connection's later timestamps (PAWS)
            }
            out.hasTimestamps = true;
            out.tsVal = ts;
            out.tsEcr = o.tsVal;
            out.sackPermitted = sack;
            out.windowScale = ws ? TcpConnection.scaleFor(rcvbufMax) : -1; // as the connection will
        }
        counters.increment(TcpCounter.SYN_COOKIES_SENT);
        sendBare(local, localPort, remote, remotePort, isn, peerIsn + 1, Tcp.SYN | Tcp.ACK, Math.min(65535, rcvbuf),
                out);
    }

    private boolean acceptCookie(TcpListener l, int local, int localPort, int remote, int remotePort, int seq,
                                 int ack, int window, MemorySegment s, long dataOff, int dataLen, int flags,
                                 TcpOptions o) {
        if (l.acceptQueueFull()) {
            return false;
        }
        int isn = ack - 1;
        int t = isn >>> 27;
        int now = cookieTime();
        int peerIsn = seq - 1;
        for (int age = 0; age < 2; age++) {
            int tt = (now - age) & 0x1F;
            if (tt == t && cookie(local, localPort, remote, remotePort, peerIsn, tt, isn & 7) == isn) {
                counters.increment(TcpCounter.SYN_COOKIES_ACCEPTED);
                TcpConnection c = new TcpConnection(this, local, localPort, remote, remotePort, l.options);
                c.parent = l;
                connections.put(c.key, c);
                c.openFromCookie(seq, ack, window, COOKIE_MSS[isn & 7], o);
                l.addEstablished(c);
                if (dataLen > 0 || (flags & Tcp.FIN) != 0) {
                    c.segmentArrives(rxSegment.set(s, dataOff, dataLen, seq, ack, flags, window, 0));
                }
                return true;
            }
        }
        counters.increment(TcpCounter.SYN_COOKIES_REJECTED);
        return false;
    }

    // ------------------------------------------------------------------ stateless output

    /** A RST for a segment that has no (acceptable) connection (RFC 9293 §3.10.7.1). */
    void sendReset(int local, int localPort, int remote, int remotePort, int seq, int ack, boolean withAck) {
        counters.increment(TcpCounter.RESETS_SENT);
        sendBare(local, localPort, remote, remotePort, seq, ack, Tcp.RST | (withAck ? Tcp.ACK : 0), 0, null);
    }

    private void sendBare(int local, int localPort, int remote, int remotePort, int seq, int ack, int flags,
                          int window, TcpOptions options) {
        int hl = Tcp.MIN_HEADER_LENGTH + (options == null ? 0 : options.encodedLength());
        PacketBuffer b = output.allocate(owner, hl);
        if (b == null) {
            counters.increment(TcpCounter.DROP_NO_BUFFER);
            return;
        }
        MemorySegment s = b.segment();
        int off = b.offset();
        if (options != null) {
            options.write(s, off + Tcp.MIN_HEADER_LENGTH);
        }
        Tcp.writeHeader(s, off, localPort, remotePort, seq, ack, hl, flags, window, 0);
        Tcp.writeChecksum(s, off, hl, local, remote);
        b.setRange(off, hl);
        output.send(b, owner, local, remote, Ipv4.PROTO_TCP, 0, true);
        counters.increment(TcpCounter.SEGMENTS_SENT);
    }

    // ------------------------------------------------------------------ ICMP

    /**
     * ICMP errors (RFC 1122 §4.2.3.9, RFC 5927): hard errors abort a connection still in
     * SYN-SENT; in synchronized states they are soft (reported only if it then times out).
     */
    @Override
    public void icmpError(int type, int code, int info, MemorySegment quoted, long quotedOffset, int quotedLength) {
        assert lockHeld() : "stack lock not held";
        try {
            int ihl = Ipv4.headerLength(quoted, quotedOffset);
            int src = Ipv4.source(quoted, quotedOffset);
            int dst = Ipv4.destination(quoted, quotedOffset);
            long t = quotedOffset + ihl;
            int sport = Tcp.sourcePort(quoted, t);
            int dport = Tcp.destinationPort(quoted, t);
            int seq = Tcp.sequence(quoted, t);
            TcpConnection c = connections.get(key(dst, dport, sport));
            if (c == null || c.localAddress != src) {
                return;
            }
            // RFC 5927 §4.1: the quoted sequence number must be in flight
            if (!Seq.inRange(seq, c.sndUna, c.sndMax + 1)) {
                return;
            }
            if (type == 3 && code == 4 && info >= 68) {
                c.pathMtu(info);
            } else if (type == 3 && c.state() == TcpState.SYN_SENT && code <= 3) {
                c.unreachable();
            }
            c.notifyReadiness();
        } catch (RuntimeException e) {
            counters.increment(TcpCounter.DROP_INTERNAL_ERROR);
            lastInternalError = e;
        }
    }
}
