package io.slipstream.tcp;

import io.slipstream.buffer.PacketBuffer;
import io.slipstream.ip.Ipv4Output;
import io.slipstream.stats.Counters;
import io.slipstream.time.Clock;
import io.slipstream.time.Timer;
import io.slipstream.time.Timers;
import io.slipstream.wire.Ipv4;
import io.slipstream.wire.Tcp;
import io.slipstream.wire.TcpOptions;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;

/**
 * One TCP connection: the RFC 9293 state machine with its send and receive buffers,
 * retransmission (RFC 6298), congestion control and loss recovery (RFC 5681, 6582, 6675),
 * RFC 7323 options, delayed ACKs, Nagle, keepalive, persist and TIME-WAIT.
 *
 * <p>Not thread-safe: every method runs under the stack lock, and every field is guarded by it
 * (the entry points assert it when assertions are on). The data path (send, receive,
 * segment arrival, timers) allocates nothing; the buffers are off-heap rings from the layer's
 * {@link RingMemory}, taken once the connection can carry data (not while half-open) and given
 * back when it reaches CLOSED ({@link ConnectionBuffers}).
 */
public final class TcpConnection implements TcpSocket, Timer.Target {
    /** RFC 9293 §3.7.1: the MSS assumed when the peer sends no MSS option. */
    static final int DEFAULT_MSS = 536;
    private static final int TCP_IP_HEADERS = Ipv4.MIN_HEADER_LENGTH + Tcp.MIN_HEADER_LENGTH;
    private static final int TS_OPTION_SPACE = 12;
    private static final int MAX_OOO_RANGES = 32;
    /** Where receive-window auto-tuning starts. */
    static final int INITIAL_WINDOW_LIMIT = ReceiveWindow.INITIAL_LIMIT_BYTES;

    final TcpLayer layer;
    /** The stack's timer heap and clock, kept here rather than asked of the layer at every use. */
    final Timers timers;
    private final Clock clock;
    final Counters<TcpCounter> counters;
    final TcpConfig config;
    final long key;
    final int localAddress;
    final int remoteAddress;
    final int localPort;
    final int remotePort;

    // Every field below is guarded by the stack lock. The package-private ones are also read
    // and written by TcpInput and TcpOutput, which hold this connection's two halves of work.
    TcpState state = TcpState.CLOSED;
    /** The listener that created it until accepted, for passive opens. */
    TcpListener parent;
    /**
     * Steered to the stack by its own 4-tuple: an outgoing connection, or an accepted one whose
     * listener closed (until then accepted ones ride on their listener's entry).
     */
    boolean steered;
    /** Holds its local port outside the stack ({@code FlowSteering.hold}): released when it is removed. */
    boolean holdsPort;
    /** Counted in its listener's SYN backlog (half-open). */
    boolean halfOpen;
    private TcpError pendingError;
    private ReadinessListener readinessListener;
    private int lastReadiness = -1;
    /** Records every state change when set (tests check them against RFC 9293's diagram). */
    private StateObserver stateObserver;

    // send sequence space (RFC 9293 §3.3.1)
    int iss;
    int sndUna;
    int sndNxt;
    /** Highest sequence sent so far; SND.NXT goes back to SND.UNA after a timeout. */
    int sndMax;
    long sndWnd;
    long maxSndWnd;
    int sndWl1;
    int sndWl2;
    int sndScale;
    /** Sequence number of the first byte in the send buffer. */
    int sendBufferSeq;
    boolean finQueued;
    private boolean outputShutdown;

    // receive sequence space
    int irs;
    int rcvNxt;
    /** The window offered: its right edge, SWS avoidance and auto-tuning. */
    final ReceiveWindow rcvWindow;
    int rcvScale;
    final SeqRanges outOfOrder = new SeqRanges(MAX_OOO_RANGES);
    boolean finReceived;
    boolean pendingFin;
    int pendingFinSeq;
    boolean inputShutdown;
    /** Urgent pointer received (RFC 9293 §3.8.5); the data stays in line. */
    int rcvUp;
    boolean urgentSeen;

    // options
    int mss = DEFAULT_MSS;
    int advertisedMss;
    boolean timestampsOk;
    boolean sackOk;
    boolean windowScaleOk;
    int tsRecent;
    /** When TS.Recent was last set (RFC 7323 §5.5: PAWS ignores it after 24 days idle). */
    long tsRecentNanos;
    private int tsOffset;
    int lastAckSent;
    final TcpOptions txOptions = new TcpOptions();
    final int[] sackLeft = new int[TcpOptions.MAX_SACK_BLOCKS];
    final int[] sackRight = new int[TcpOptions.MAX_SACK_BLOCKS];
    /** RFC 2883: a duplicate received, to report as the first SACK block of the next segment. */
    boolean dsackPending;
    int dsackLeft;
    int dsackRight;

    // retransmission (RFC 6298)
    final RttEstimator rtt;
    /** Expiries of the retransmission (or persist) timer since the last ACK of new data. */
    int backoffCount;
    /** When the timer whose expiry began the current run of timeouts was started (the give-up clock). */
    long retransmitStartNs;
    boolean persisting;

    // congestion control and recovery
    CongestionControl cc;
    final LossRecovery recovery = new LossRecovery();
    final SackScoreboard scoreboard = new SackScoreboard(MAX_OOO_RANGES);
    /** RFC 8985 RACK on SACK connections: per-segment send times; sized with the send buffer. */
    Rack rack;
    final TailLossProbe tlp = new TailLossProbe();
    final ProportionalRateReduction prr = new ProportionalRateReduction();
    final CongestionUndo undo = new CongestionUndo();

    // ACK generation
    final DelayedAcks acks;
    boolean ackPending;
    /** The pending ACK waits for the end of the receive batch ({@link HeldAcks}). */
    boolean ackHeld;

    // socket options
    boolean noDelay;
    /** IP TOS byte of every segment sent (IP_TOS); its ECN bits stay 0, TCP owns them (RFC 3168 §6.1.1). */
    int tos;
    boolean keepAlive;
    long keepAliveIdleNanos;
    long keepAliveIntervalNanos;
    int keepAliveCount;
    int keepAliveProbes;
    long lastReceiveNanos;
    int lingerSeconds = -1;
    /** close() or abort() was called: nobody reads or writes any more, it finishes on its own. */
    boolean closedByApp;
    /** The send and receive rings (and their sizes). */
    final ConnectionBuffers buffers;

    /** Segment arrival and sending, each in a file of its own; they work on this connection's state. */
    final TcpInput in = new TcpInput(this);
    final TcpOutput out = new TcpOutput(this);

    final Timer retransmitTimer = new Timer(this);
    /** RFC 8985 §6.3: RACK's reordering window of an outstanding segment runs out. */
    final Timer reorderTimer = new Timer(this);
    /** RFC 8985 §7.2: the tail loss probe timeout (PTO). */
    final Timer probeTimer = new Timer(this);
    final Timer delayedAckTimer = new Timer(this);
    final Timer keepAliveTimer = new Timer(this);
    /** TIME-WAIT, orphaned FIN-WAIT-2 and SO_LINGER deadline. */
    final Timer closeTimer = new Timer(this);

    /** Observes state changes (for tests and tracing). */
    @FunctionalInterface
    public interface StateObserver {
        void changed(TcpConnection c, TcpState from, TcpState to);
    }

    TcpConnection(TcpLayer layer, int localAddress, int localPort, int remoteAddress, int remotePort,
                  TcpConnectOptions options) {
        this.layer = layer;
        this.timers = layer.timers();
        this.clock = layer.clock();
        this.counters = layer.counters();
        this.config = layer.config();
        this.localAddress = localAddress;
        this.localPort = localPort;
        this.remoteAddress = remoteAddress;
        this.remotePort = remotePort;
        this.key = TcpLayer.key(remoteAddress, remotePort, localPort);
        this.buffers = new ConnectionBuffers(layer.rings(), options, config);
        this.rcvWindow = new ReceiveWindow(options.receiveBuffer() == 0);
        this.noDelay = options.noDelay();
        this.keepAlive = options.keepAlive();
        this.keepAliveIdleNanos = config.keepAliveIdleMs() * 1_000_000L;
        this.keepAliveIntervalNanos = config.keepAliveIntervalMs() * 1_000_000L;
        this.keepAliveCount = config.keepAliveCount();
        this.stateObserver = layer.stateObserver();
        this.rtt = new RttEstimator(config.rtoInitialMs() * 1_000_000L, config.rtoMinMs() * 1_000_000L,
                config.rtoMaxMs() * 1_000_000L);
        this.acks = new DelayedAcks(config.delayedAckMs() * 1_000_000L, config.quickAckSegments());
        int mtu = layer.output().mtu(remoteAddress);
        this.advertisedMss = Math.max(64, Math.min(65535, mtu - TCP_IP_HEADERS));
    }

    /** The rings, and RACK's records sized with the send ring, once data can flow (after ISS is chosen). */
    void takeBuffers() {
        if (buffers.take()) {
            rcvWindow.start(buffers.receiveBytes(), buffers.receiveMaxBytes());
            // a record per segment: a full buffer of 512-byte segments; beyond, records coarsen
            rack = new Rack(Math.max(64, Math.min(buffers.sendBytes() / 512, 1 << 16)));
            rack.reset(iss);
        }
    }

    // ------------------------------------------------------------------ opening

    /** Active open (RFC 9293 §3.10.1): sends the SYN. */
    void openActive() {
        iss = layer.initialSequence(localAddress, localPort, remoteAddress, remotePort);
        takeBuffers();
        tsOffset = layer.timestampOffset(localAddress, localPort, remoteAddress, remotePort);
        sndUna = iss;
        sndNxt = iss + 1;
        sndMax = sndNxt;
        sendBufferSeq = iss + 1;
        recovery.start(iss);
        scoreboard.reset(iss);
        rcvScale = config.windowScaling() ? scaleFor(buffers.receiveMaxBytes()) : 0;
        setState(TcpState.SYN_SENT);
        out.sendSyn(false);
        timers.scheduleIn(retransmitTimer, rtt.rtoNs());
        counters.increment(TcpCounter.CONNECTIONS_OPENED);
    }

    /** Passive open from a listener's SYN (RFC 9293 §3.10.7.2). */
    void openPassive(Segment seg, int isn) {
        // no rings while half-open (a SYN flood must cost little): the SYN-ACK's window comes
        // from the configured size, the rings when the handshake completes (TcpInput)
        rcvWindow.start(buffers.receiveBytes(), buffers.receiveMaxBytes());
        state = TcpState.LISTEN; // conceptually forked from the listener
        irs = seg.seq;
        rcvNxt = seg.seq + 1;
        iss = isn;
        tsOffset = layer.timestampOffset(localAddress, localPort, remoteAddress, remotePort);
        sndUna = iss;
        sndNxt = iss + 1;
        sndMax = sndNxt;
        sendBufferSeq = iss + 1;
        recovery.start(iss);
        scoreboard.reset(iss);
        negotiate(seg.options, true);
        sndWnd = seg.window; // never scaled in a SYN (RFC 7323 §2.2)
        maxSndWnd = sndWnd;
        sndWl1 = seg.seq;
        sndWl2 = iss;
        if (seg.options.hasTimestamps) {
            tsRecent = seg.options.tsVal;
            tsRecentNanos = now();
        }
        lastReceiveNanos = now();
        setState(TcpState.SYN_RECEIVED);
        if (seg.dataLength > 0) {
            // RFC 9293 §3.10.7.2: data on a SYN is queued for delivery after the handshake;
            // the SYN-ACK acknowledges what fits the initial window (rare: the rings now)
            takeBuffers();
            int n = Math.min(seg.dataLength, (int) Math.min(rcvWindow.spaceBytes(buffers.receive), 65535));
            buffers.receive.put(0, seg.data, seg.dataOffset, n);
            buffers.receive.commit(n);
            rcvNxt += n;
        }
        out.sendSyn(true);
        timers.scheduleIn(retransmitTimer, rtt.rtoNs());
    }

    /** A connection already established by a valid SYN cookie (no options beyond MSS). */
    void openFromCookie(int seq, int ack, int window, int cookieMss, TcpOptions ackOptions) {
        tsOffset = layer.timestampOffset(localAddress, localPort, remoteAddress, remotePort);
        // options the SYN offered travel in the low bits of our SYN-ACK's timestamp, which the
        // ACK echoes (as Linux does); without timestamps only the MSS survives
        if (config.timestamps() && ackOptions.hasTimestamps) {
            int wscale = ackOptions.tsEcr & TcpLayer.COOKIE_WSCALE_MASK;
            timestampsOk = true;
            sackOk = config.sack() && (ackOptions.tsEcr & TcpLayer.COOKIE_SACK_BIT) != 0;
            windowScaleOk = config.windowScaling() && wscale != TcpLayer.COOKIE_NO_WSCALE;
            sndScale = windowScaleOk ? Math.min(wscale, TcpOptions.MAX_WINDOW_SCALE) : 0;
            rcvScale = windowScaleOk ? scaleFor(buffers.receiveMaxBytes()) : 0;
            tsRecent = ackOptions.tsVal;
            tsRecentNanos = now();
        }
        state = TcpState.LISTEN;
        irs = seq - 1;
        rcvNxt = seq;
        iss = ack - 1;
        sndUna = ack;
        sndNxt = ack;
        sndMax = ack;
        sendBufferSeq = ack;
        recovery.start(iss);
        scoreboard.reset(iss);
        takeBuffers();
        mss = Math.max(64, Math.min(cookieMss, advertisedMss) - (timestampsOk ? TS_OPTION_SPACE : 0));
        cc = CongestionControl.create(config.congestionControl(), mss);
        sndWnd = (long) window << sndScale; // the ACK's window is scaled
        maxSndWnd = sndWnd;
        sndWl1 = seq;
        sndWl2 = ack;
        rcvWindow.rightEdge(rcvNxt + Math.min(buffers.receive.free(), 65535));
        lastReceiveNanos = now();
        setState(TcpState.SYN_RECEIVED);
        setState(TcpState.ESTABLISHED);
        armKeepAlive();
    }

    /** Settles the options from the peer's SYN (RFC 7323 §1.3, RFC 2018 §2, RFC 9293 §3.7.1). */
    void negotiate(TcpOptions o, boolean weAreResponding) {
        int peerMss = o.mss > 0 ? o.mss : DEFAULT_MSS;
        timestampsOk = config.timestamps() && o.hasTimestamps;
        sackOk = config.sack() && o.sackPermitted;
        windowScaleOk = config.windowScaling() && o.windowScale >= 0;
        sndScale = windowScaleOk ? o.windowScale : 0;
        if (weAreResponding) {
            rcvScale = windowScaleOk ? scaleFor(buffers.receiveMaxBytes()) : 0;
        } else if (!windowScaleOk) {
            rcvScale = 0;
        }
        mss = Math.max(64, Math.min(peerMss, advertisedMss) - (timestampsOk ? TS_OPTION_SPACE : 0));
        cc = CongestionControl.create(config.congestionControl(), mss);
    }

    static int scaleFor(int bufferBytes) {
        int s = 0;
        while (s < TcpOptions.MAX_WINDOW_SCALE && (bufferBytes >> s) > 65535) {
            s++;
        }
        return s;
    }

    // ------------------------------------------------------------------ application API

    public TcpState state() {
        return state;
    }

    @Override
    public int localPort() {
        return localPort;
    }

    public int localAddress() {
        return localAddress;
    }

    public int remoteAddress() {
        return remoteAddress;
    }

    public int remotePort() {
        return remotePort;
    }

    /** The error that ended the connection, if any; stays set once set. */
    public TcpError pendingError() {
        return pendingError;
    }

    @Override
    public void readinessListener(ReadinessListener listener) {
        this.readinessListener = listener;
        this.lastReadiness = -1;
    }

    public void stateObserver(StateObserver observer) {
        this.stateObserver = observer;
    }

    /** Whether the three-way handshake completed (also true after it closed normally). */
    public boolean connected() {
        return state.ordinal() >= TcpState.ESTABLISHED.ordinal()
                || (state == TcpState.CLOSED && pendingError == null && sndUna != iss);
    }

    /** Whether {@link #receive} would return data, EOF or fail (never 0). */
    public boolean readable() {
        return (buffers.receive != null && buffers.receive.size() > 0) || finReceived || inputShutdown
                || pendingError != null || (state == TcpState.CLOSED && connected());
    }

    /** Whether {@link #send} would accept bytes (or fail). */
    public boolean writable() {
        if (pendingError != null) {
            return true;
        }
        return (state == TcpState.ESTABLISHED || state == TcpState.CLOSE_WAIT) && !outputShutdown
                && buffers.send.free() > 0;
    }

    /** Bytes buffered for the application to read. */
    public int available() {
        return buffers.receive == null ? 0 : buffers.receive.size();
    }

    /** Bytes queued but not yet acknowledged by the peer. */
    public int unacknowledged() {
        return buffers.send == null ? 0 : buffers.send.size();
    }

    /** Whether an urgent pointer was received (RFC 9293 §3.8.5); urgent data stays in line. */
    public boolean urgentDataReceived() {
        return urgentSeen;
    }

    /** The sequence number after the last urgent byte received (RCV.UP). */
    public int urgentPointer() {
        return rcvUp;
    }

    /** Queues bytes from {@code src}; returns how many fit (0 when the send buffer is full). */
    public int send(ByteBuffer src) {
        assert layer.lockHeld() : "stack lock not held";
        checkSendable();
        return queued(append(src));
    }

    /**
     * Gathering send (a writev): queues what fits of {@code srcs[offset, offset + length)}, in
     * order, all of it before anything is sent, so that the gather leaves in full-sized
     * segments as one writev does on Linux, under TCP_NODELAY too; returns the bytes queued.
     */
    public long send(ByteBuffer[] srcs, int offset, int length) {
        assert layer.lockHeld() : "stack lock not held";
        checkSendable();
        int total = 0;
        for (int i = offset; i < offset + length; i++) {
            total += append(srcs[i]);
            if (srcs[i].hasRemaining()) {
                break; // the send buffer is full
            }
        }
        return queued(total);
    }

    private int append(ByteBuffer src) {
        int pos = src.position();
        int n = buffers.send.append(src, pos, src.limit() - pos); // any buffer: heap, direct or read-only
        src.position(pos + n);
        return n;
    }

    /** Queues {@code len} bytes of {@code src} at {@code offset}; returns how many fit. */
    public int send(MemorySegment src, long offset, int len) {
        assert layer.lockHeld() : "stack lock not held";
        checkSendable();
        return queued(buffers.send.append(src, offset, len));
    }

    /** {@code n} bytes joined the send buffer: send what the windows allow. */
    private int queued(int n) {
        if (n > 0 && state.isSynchronized()) {
            out.output(false);
        }
        notifyReadiness();
        return n;
    }

    private void checkSendable() {
        if (pendingError != null) {
            throw new TcpException(pendingError, "connection failed: " + pendingError);
        }
        if (outputShutdown) {
            throw new IllegalStateException("output is shut down");
        }
        if (!state.sendsData()) {
            throw new IllegalStateException("cannot send in state " + state);
        }
    }

    /** Moves up to {@code dst.remaining()} received bytes; 0 when none, -1 at end of stream. */
    public int receive(ByteBuffer dst) {
        assert layer.lockHeld() : "stack lock not held";
        if (buffers.receive != null && buffers.receive.size() > 0 && dst.hasRemaining()) {
            int n = Math.min(dst.remaining(), buffers.receive.size());
            int pos = dst.position();
            buffers.receive.get(0, dst, pos, n);
            buffers.receive.consume(n);
            dst.position(pos + n);
            afterRead(n);
            return n;
        }
        return endOfInput();
    }

    /** Moves up to {@code len} received bytes into {@code dst}; 0 when none, -1 at end of stream. */
    public int receive(MemorySegment dst, long offset, int len) {
        assert layer.lockHeld() : "stack lock not held";
        if (buffers.receive != null && buffers.receive.size() > 0 && len > 0) {
            int n = Math.min(len, buffers.receive.size());
            buffers.receive.get(0, dst, offset, n);
            buffers.receive.consume(n);
            afterRead(n);
            return n;
        }
        return endOfInput();
    }

    private int endOfInput() {
        if (pendingError != null && !finReceived && !inputShutdown) {
            throw new TcpException(pendingError, "connection failed: " + pendingError);
        }
        if (finReceived || inputShutdown) {
            return -1;
        }
        if (state == TcpState.CLOSED) {
            return -1;
        }
        return 0;
    }

    /** Receiver SWS avoidance (RFC 9293 §3.8.6.2.2): announce a window opened by a useful amount. */
    private void afterRead(int n) {
        rcvWindow.read(n, now(), rtt.srttNs());
        buffers.growReceive(rcvWindow.limitBytes()); // the reader keeps up with a window beyond the ring
        if (state.isSynchronized() && !finReceived && rcvWindow.worthAnnouncing(buffers.receive, rcvNxt, advertisedMss)) {
            out.sendAck();
        }
        notifyReadiness();
    }

    /** The current auto-tuned limit of the receive window (the buffer size when not tuning). */
    public int receiveWindowLimit() {
        return rcvWindow.limitBytes();
    }

    /** Half-close (RFC 9293 §3.10.4): queue a FIN after the buffered data. */
    public void shutdownOutput() {
        assert layer.lockHeld() : "stack lock not held";
        if (outputShutdown) {
            return;
        }
        outputShutdown = true;
        switch (state) {
            case SYN_SENT -> toClosed();
            case SYN_RECEIVED, ESTABLISHED -> {
                finQueued = true;
                if (state == TcpState.ESTABLISHED) {
                    setState(TcpState.FIN_WAIT_1);
                    out.output(false);
                }
            }
            case CLOSE_WAIT -> {
                finQueued = true;
                setState(TcpState.LAST_ACK);
                out.output(false);
            }
            default -> { /* FIN already queued or nothing to close */ }
        }
        notifyReadiness();
    }

    /** Stops reading: buffered and later data is discarded, receive returns -1. */
    public void shutdownInput() {
        assert layer.lockHeld() : "stack lock not held";
        inputShutdown = true;
        if (buffers.receive != null && buffers.receive.size() > 0) {
            buffers.receive.consume(buffers.receive.size());
        }
        notifyReadiness();
    }

    /**
     * Closes the socket (RFC 9293 §3.10.4). SO_LINGER 0 aborts with a RST; unread data also
     * aborts (RFC 2525 §2.17); otherwise a FIN follows the buffered data and the connection
     * finishes in the background, bounded by SO_LINGER seconds when set.
     */
    public void close() {
        assert layer.lockHeld() : "stack lock not held";
        if (closedByApp) {
            return;
        }
        closedByApp = true;
        if (state == TcpState.CLOSED || state == TcpState.TIME_WAIT) {
            release();
            return;
        }
        boolean unread = buffers.receive != null && buffers.receive.size() > 0;
        if (lingerSeconds == 0 || unread) {
            abort();
            return;
        }
        inputShutdown = true;
        shutdownOutput();
        if (lingerSeconds > 0 && state != TcpState.CLOSED && state != TcpState.TIME_WAIT) {
            timers.scheduleIn(closeTimer, lingerSeconds * 1_000_000_000L);
        } else if (state == TcpState.FIN_WAIT_2) {
            // an orphan cannot wait forever for the peer's FIN (as Linux's tcp_fin_timeout)
            timers.scheduleIn(closeTimer, 2 * config.mslMs() * 1_000_000L);
        }
    }

    /** Aborts (RFC 9293 §3.10.5): a RST to the peer in synchronized states, then CLOSED. */
    public void abort() {
        assert layer.lockHeld() : "stack lock not held";
        closedByApp = true;
        if (state.isSynchronized() && state != TcpState.TIME_WAIT) {
            out.sendReset(sndMax);
        }
        toClosed();
    }

    public boolean noDelay() {
        return noDelay;
    }

    public int tos() {
        return tos;
    }

    /** IP_TOS: the TOS byte of every segment sent from now on; the ECN bits are ignored, as Linux does for TCP. */
    public void tos(int value) {
        if (value < 0 || value > 255) {
            throw new IllegalArgumentException("TOS out of range: " + value);
        }
        tos = value & ~0x3;
    }

    /** Whether ACKs go out at once (TCP_QUICKACK as Linux reports it: not in delayed-ACK mode). */
    public boolean quickAck() {
        return acks.quickAck();
    }

    /**
     * TCP_QUICKACK, as on Linux not a permanent setting: true re-enters the quick-ACK start
     * (the next quickack.segments ACKs go out at once) and ACKs what is pending now; false
     * delays ACKs (RFC 1122 §4.2.3.2) until the stack leaves that mode (see {@link DelayedAcks}).
     */
    public void quickAck(boolean on) {
        assert layer.lockHeld() : "stack lock not held";
        acks.quickAck(on);
        if (on && state.isSynchronized() && acks.pending()) {
            out.sendAck();
        }
    }

    /** TCP_NODELAY: disables Nagle's algorithm (RFC 1122 §4.2.3.4). */
    public void noDelay(boolean on) {
        assert layer.lockHeld() : "stack lock not held";
        noDelay = on;
        if (on && state.isSynchronized()) {
            out.output(false);
        }
    }

    public int receiveBufferSize() {
        return buffers.receiveBytes();
    }

    /** SO_RCVBUF: effective before the connection exchanges SYNs (the window scale depends on it). */
    public void receiveBufferSize(int bytes) {
        if (state != TcpState.CLOSED || buffers.held()) {
            throw new IllegalStateException("SO_RCVBUF can only change before connecting");
        }
        buffers.receiveBytes(bytes);
    }

    public int sendBufferSize() {
        return buffers.sendBytes();
    }

    public void sendBufferSize(int bytes) {
        if (state != TcpState.CLOSED || buffers.held()) {
            throw new IllegalStateException("SO_SNDBUF can only change before connecting");
        }
        buffers.sendBytes(bytes);
    }

    public boolean keepAlive() {
        return keepAlive;
    }

    /** SO_KEEPALIVE with idle, interval (ms) and probe count (RFC 1122 §4.2.3.6). */
    public void keepAlive(boolean on, long idleMs, long intervalMs, int count) {
        assert layer.lockHeld() : "stack lock not held";
        if (idleMs < 1 || intervalMs < 1 || count < 1) {
            throw new IllegalArgumentException("keepalive idle, interval and count must be positive");
        }
        keepAlive = on;
        keepAliveIdleNanos = idleMs * 1_000_000L;
        keepAliveIntervalNanos = intervalMs * 1_000_000L;
        keepAliveCount = count;
        if (on) {
            armKeepAlive();
        } else {
            timers.cancel(keepAliveTimer);
        }
    }

    public void keepAlive(boolean on) {
        keepAlive(on, keepAliveIdleNanos / 1_000_000L, keepAliveIntervalNanos / 1_000_000L, keepAliveCount);
    }

    /** SO_LINGER in seconds; -1 turns it off. */
    public void linger(int seconds) {
        if (seconds < -1) {
            throw new IllegalArgumentException("linger must be -1 (off) or >= 0 seconds, got " + seconds);
        }
        lingerSeconds = seconds;
    }

    public int linger() {
        return lingerSeconds;
    }

    /** The effective send MSS (payload bytes per segment). */
    public int mss() {
        return mss;
    }

    public long congestionWindow() {
        return cc == null ? 0 : cc.cwnd();
    }

    public long retransmissionTimeoutNanos() {
        return rtt.rtoNs();
    }

    public long smoothedRttNanos() {
        return rtt.srttNs();
    }

    public int sendWindowScale() {
        return sndScale;
    }

    public int receiveWindowScale() {
        return rcvScale;
    }

    /** The bytes of receive window currently offered to the peer. */
    public int receiveWindow() {
        return rcvWindow.rightEdge() - rcvNxt;
    }

    // ------------------------------------------------------------------ segment arrival

    /**
     * A validated segment for this connection (RFC 9293 §3.10.7). The data is {@code dataLen}
     * bytes at {@code dataOff} in {@code s}; options were parsed into {@code o}.
     */
    void segmentArrives(Segment seg) {
        assert layer.lockHeld() : "stack lock not held";
        switch (state) {
            case SYN_SENT -> in.synSentArrives(seg);
            case CLOSED, LISTEN -> { /* handled by the layer */ }
            default -> in.synchronizedArrives(seg);
        }
        notifyReadiness();
    }

    // ------------------------------------------------------------------ RTT and timers

    @Override
    public void onTimer(Timer timer, long nowNanos) {
        assert layer.lockHeld() : "stack lock not held";
        try {
            if (timer == retransmitTimer) {
                out.retransmitTimeout();
            } else if (timer == reorderTimer) {
                in.detectLosses(nowNanos);
                out.output(false);
            } else if (timer == probeTimer) {
                out.probeTimeout();
            } else if (timer == delayedAckTimer) {
                if (state.isSynchronized() && acks.pending()) {
                    acks.timerFired();
                    out.sendAck();
                }
            } else if (timer == keepAliveTimer) {
                out.keepAliveTimeout(nowNanos);
            } else if (timer == closeTimer) {
                if (state == TcpState.TIME_WAIT) {
                    toClosed();
                } else if (state != TcpState.CLOSED) {
                    abort(); // SO_LINGER expired or an orphan waited too long in FIN-WAIT-2
                }
            }
        } catch (RuntimeException e) {
            counters.increment(TcpCounter.DROP_INTERNAL_ERROR);
            layer.internalError(e);
        }
        notifyReadiness();
    }

    void armKeepAlive() {
        if (keepAlive && state.isSynchronized()) {
            timers.schedule(keepAliveTimer, lastReceiveNanos + keepAliveIdleNanos);
        }
    }

    // ------------------------------------------------------------------ output

    int tsNow() {
        return (int) (now() / 1_000_000L) + tsOffset;
    }

    long now() {
        return clock.nanoTime();
    }

    // ------------------------------------------------------------------ teardown and state

    void fail(TcpError error) {
        if (pendingError == null) {
            pendingError = error;
        }
        toClosed();
    }

    /** Enters CLOSED: timers cancelled, removed from the demux, buffers freed once the app is done. */
    void toClosed() {
        if (state != TcpState.CLOSED) {
            setState(TcpState.CLOSED);
        }
        cancelTimers();
        layer.removeConnection(this);
        if (parent != null) {
            parent.forget(this);
        }
        if (closedByApp || parent != null) {
            release();
        }
        notifyReadiness();
    }

    private void cancelTimers() {
        timers.cancel(retransmitTimer);
        timers.cancel(reorderTimer);
        timers.cancel(probeTimer);
        timers.cancel(delayedAckTimer);
        timers.cancel(keepAliveTimer);
        timers.cancel(closeTimer);
    }

    void release() {
        if (state == TcpState.CLOSED || state == TcpState.TIME_WAIT) {
            buffers.release();
        }
    }

    void setState(TcpState next) {
        TcpState prev = state;
        if (prev == next) {
            return;
        }
        state = next;
        if (stateObserver != null) {
            stateObserver.changed(this, prev, next);
        }
    }

    /** Readiness as a bit set, compared to tell listeners only about changes. */
    private int readinessBits() {
        int bits = 0;
        if (readable()) {
            bits |= 1;
        }
        if (writable()) {
            bits |= 2;
        }
        if (connected()) {
            bits |= 4;
        }
        if (pendingError != null) {
            bits |= 8;
        }
        return bits;
    }

    void notifyReadiness() {
        ReadinessListener l = readinessListener;
        if (l == null) {
            return;
        }
        int bits = readinessBits();
        if (bits != lastReadiness) {
            lastReadiness = bits;
            l.readinessChanged(this);
        }
    }

    /**
     * ICMP fragmentation needed (RFC 1191 §6.3 / RFC 9293 §3.7.2): the path takes smaller
     * datagrams; shrink the MSS and resend what is outstanding at the new size.
     */
    void pathMtu(int nextHopMtu) {
        int newMss = Math.max(68 - TCP_IP_HEADERS, nextHopMtu - TCP_IP_HEADERS - (timestampsOk ? TS_OPTION_SPACE : 0));
        newMss = Math.max(newMss, 64);
        if (newMss >= mss || !state.isSynchronized() || state == TcpState.TIME_WAIT) {
            return;
        }
        mss = newMss;
        if (sndUna != sndMax && state != TcpState.SYN_RECEIVED) { // only the SYN-ACK is out, no data
            // not a congestion signal: no window reduction (RFC 1191); everything goes again
            rtt.stopTiming();
            if (out.racking()) {
                rack.markLostOnTimeout(now(), 0, true);
            } else {
                sndNxt = sndUna;
                scoreboard.reset(sndUna);
            }
            out.output(true);
        }
    }

    /** A hard ICMP error during connection setup. */
    void unreachable() {
        fail(TcpError.UNREACHABLE);
    }

    /** Destroys a TIME-WAIT connection whose 4-tuple is being reused. */
    void reuse() {
        counters.increment(TcpCounter.TIME_WAIT_REUSED);
        toClosed();
    }

    int tsRecent() {
        return tsRecent;
    }

    long tsRecentAge() {
        return tsRecentNanos;
    }

    // views for tests and diagnostics
    public int sndUna() {
        return sndUna;
    }

    public int sndNxt() {
        return sndNxt;
    }

    public int sndMax() {
        return sndMax;
    }

    public long sndWnd() {
        return sndWnd;
    }

    public int rcvNxt() {
        return rcvNxt;
    }

    public int iss() {
        return iss;
    }

    /** Whether the retransmission (or persist) timer is running. */
    boolean retransmitTimerArmed() {
        return retransmitTimer.isScheduled();
    }

    public boolean timestampsEnabled() {
        return timestampsOk;
    }

    public boolean sackEnabled() {
        return sackOk;
    }

    /** The sequence-space variables, for test failure messages. */
    public String debugState() {
        return "una=" + Integer.toUnsignedString(sndUna) + " nxt=" + Integer.toUnsignedString(sndNxt) + " max="
                + Integer.toUnsignedString(sndMax) + " wnd=" + sndWnd + " wl1=" + Integer.toUnsignedString(sndWl1)
                + " wl2=" + Integer.toUnsignedString(sndWl2) + " rcvNxt=" + Integer.toUnsignedString(rcvNxt)
                + " adv=" + Integer.toUnsignedString(rcvWindow.rightEdge()) + " cwnd=" + (cc == null ? 0 : cc.cwnd())
                + " recovery=" + recovery.inRecovery() + " persist=" + persisting
                + " dupAcks=" + recovery.dupAcks();
    }

    @Override
    public String toString() {
        return "TcpConnection[" + io.slipstream.wire.Ipv4Address.format(localAddress) + ":" + localPort + " -> "
                + io.slipstream.wire.Ipv4Address.format(remoteAddress) + ":" + remotePort + " " + state + "]";
    }
}
