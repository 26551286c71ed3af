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
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;

/**
 * One TCP connection: the RFC 9293 state machine with its send and receive buffers,
 * retransmission (RFC 6298), congestion control and loss recovery (RFC 5681, 6582, 6675),
 * RFC 7323 options, delayed ACKs, Nagle, keepalive, persist and TIME-WAIT.
 *
 * <p>Not thread-safe: every method runs under the stack lock. The data path (send, receive,
 * segment arrival, timers) allocates nothing; the buffers are off-heap rings allocated when
 * the connection is created and freed when it reaches CLOSED.
 */
public final class TcpConnection implements TcpSocket, Timer.Target {
    /** RFC 9293 §3.7.1: the MSS assumed when the peer sends no MSS option. */
    static final int DEFAULT_MSS = 536;
    private static final int TCP_IP_HEADERS = Ipv4.MIN_HEADER_LENGTH + Tcp.MIN_HEADER_LENGTH;
    private static final int TS_OPTION_SPACE = 12;
    /** RFC 7323 §5.5: timestamps older than 24 days are no longer compared. */
    private static final long PAWS_IDLE_NANOS = 24L * 24 * 3600 * 1_000_000_000L;
    private static final int MAX_OOO_RANGES = 32;
    /** Where receive-window auto-tuning starts. */
    static final int INITIAL_WINDOW_LIMIT = ReceiveWindow.INITIAL_LIMIT_BYTES;

    private final TcpLayer layer;
    /** The stack's timer heap and clock, kept here rather than asked of the layer at every use. */
    private final Timers timers;
    private final Clock clock;
    private final Counters<TcpCounter> counters;
    private final TcpConfig config;
    final long key;
    final int localAddress;
    final int remoteAddress;
    final int localPort;
    final int remotePort;

    private TcpState state = TcpState.CLOSED;
    /** The listener that created it until accepted, for passive opens. */
    TcpListener parent;
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
    private int sndWl1;
    private int sndWl2;
    private int sndScale;
    private ByteRing sendBuffer;
    /** Sequence number of the first byte in the send buffer. */
    private int sendBufferSeq;
    private boolean finQueued;
    private boolean outputShutdown;

    // receive sequence space
    int irs;
    int rcvNxt;
    /** The window offered: its right edge, SWS avoidance and auto-tuning. */
    private final ReceiveWindow rcvWindow;
    private int rcvScale;
    private ByteRing receiveBuffer;
    private final SeqRanges outOfOrder = new SeqRanges(MAX_OOO_RANGES);
    private boolean finReceived;
    private boolean pendingFin;
    private int pendingFinSeq;
    private boolean inputShutdown;
    /** Urgent pointer received (RFC 9293 §3.8.5); the data stays in line. */
    private int rcvUp;
    private boolean urgentSeen;

    // options
    int mss = DEFAULT_MSS;
    private int advertisedMss;
    boolean timestampsOk;
    boolean sackOk;
    private boolean windowScaleOk;
    private int tsRecent;
    private long tsRecentAge;
    private int tsOffset;
    private int lastAckSent;
    private final TcpOptions txOptions = new TcpOptions();
    private final int[] sackLeft = new int[TcpOptions.MAX_SACK_BLOCKS];
    private final int[] sackRight = new int[TcpOptions.MAX_SACK_BLOCKS];

    // retransmission (RFC 6298)
    private final RttEstimator rtt;
    /** Expiries of the retransmission (or persist) timer since the last ACK of new data. */
    int backoffCount;
    private boolean persisting;

    // congestion control and recovery
    CongestionControl cc;
    private final LossRecovery recovery = new LossRecovery();
    private final SackScoreboard scoreboard = new SackScoreboard(MAX_OOO_RANGES);

    // ACK generation
    private final DelayedAcks acks;
    private boolean ackPending;

    // socket options
    private boolean noDelay;
    /** IP TOS byte of every segment sent (IP_TOS); its ECN bits stay 0, TCP owns them (RFC 3168 §6.1.1). */
    private int tos;
    private boolean keepAlive;
    private long keepAliveIdleNanos;
    private long keepAliveIntervalNanos;
    private int keepAliveCount;
    private int keepAliveProbes;
    private long lastReceiveNanos;
    private int lingerSeconds = -1;
    private boolean closedByApp;
    private int receiveBufferSize;
    private int sendBufferSize;

    private final Timer retransmitTimer = new Timer(this);
    private final Timer delayedAckTimer = new Timer(this);
    private final Timer keepAliveTimer = new Timer(this);
    /** TIME-WAIT, orphaned FIN-WAIT-2 and SO_LINGER deadline. */
    private final Timer closeTimer = new Timer(this);
    private Arena arena;

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
        this.receiveBufferSize = receiveBufferFor(options, config);
        this.rcvWindow = new ReceiveWindow(options.receiveBuffer() == 0);
        this.sendBufferSize = options.sendBuffer() > 0 ? options.sendBuffer() : config.sendBuffer();
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

    private void allocateBuffers() {
        if (arena == null) {
            rcvWindow.start(receiveBufferSize);
            arena = Arena.ofShared();
            sendBuffer = new ByteRing(arena.allocate(sendBufferSize, 64));
            receiveBuffer = new ByteRing(arena.allocate(receiveBufferSize, 64));
        }
    }

    // ------------------------------------------------------------------ opening

    /** Active open (RFC 9293 §3.10.1): sends the SYN. */
    void openActive() {
        allocateBuffers();
        iss = layer.initialSequence(localAddress, localPort, remoteAddress, remotePort);
        tsOffset = layer.timestampOffset(localAddress, localPort, remoteAddress, remotePort);
        sndUna = iss;
        sndNxt = iss + 1;
        sndMax = sndNxt;
        sendBufferSeq = iss + 1;
        recovery.start(iss);
        scoreboard.reset(iss);
        rcvScale = config.windowScaling() ? scaleFor(receiveBufferSize) : 0;
        setState(TcpState.SYN_SENT);
        sendSyn(false);
        timers.scheduleIn(retransmitTimer, rtt.rtoNs());
        counters.increment(TcpCounter.CONNECTIONS_OPENED);
    }

    /** Passive open from a listener's SYN (RFC 9293 §3.10.7.2). */
    void openPassive(Segment seg, int isn) {
        allocateBuffers();
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
            tsRecentAge = now();
        }
        lastReceiveNanos = now();
        setState(TcpState.SYN_RECEIVED);
        if (seg.dataLength > 0) {
            // RFC 9293 §3.10.7.2: data on a SYN is queued for delivery after the handshake;
            // the SYN-ACK acknowledges what fits the initial window
            int n = Math.min(seg.dataLength, (int) Math.min(rcvWindow.spaceBytes(receiveBuffer), 65535));
            receiveBuffer.put(0, seg.data, seg.dataOffset, n);
            receiveBuffer.commit(n);
            rcvNxt += n;
        }
        sendSyn(true);
        timers.scheduleIn(retransmitTimer, rtt.rtoNs());
    }

    /** A connection already established by a valid SYN cookie (no options beyond MSS). */
    void openFromCookie(int seq, int ack, int window, int cookieMss, TcpOptions ackOptions) {
        allocateBuffers();
        tsOffset = layer.timestampOffset(localAddress, localPort, remoteAddress, remotePort);
        // options the SYN offered travel in the low bits of our SYN-ACK's timestamp, which the
        // ACK echoes (as Linux does); without timestamps only the MSS survives
        if (config.timestamps() && ackOptions.hasTimestamps) {
            int wscale = ackOptions.tsEcr & TcpLayer.COOKIE_WSCALE_MASK;
            timestampsOk = true;
            sackOk = config.sack() && (ackOptions.tsEcr & TcpLayer.COOKIE_SACK_BIT) != 0;
            windowScaleOk = config.windowScaling() && wscale != TcpLayer.COOKIE_NO_WSCALE;
            sndScale = windowScaleOk ? Math.min(wscale, TcpOptions.MAX_WINDOW_SCALE) : 0;
            rcvScale = windowScaleOk ? scaleFor(receiveBufferSize) : 0;
            tsRecent = ackOptions.tsVal;
            tsRecentAge = now();
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
        mss = Math.max(64, Math.min(cookieMss, advertisedMss) - (timestampsOk ? TS_OPTION_SPACE : 0));
        cc = CongestionControl.create(config.congestionControl(), mss);
        sndWnd = (long) window << sndScale; // the ACK's window is scaled
        maxSndWnd = sndWnd;
        sndWl1 = seq;
        sndWl2 = ack;
        rcvWindow.rightEdge(rcvNxt + Math.min(receiveBuffer.free(), 65535));
        lastReceiveNanos = now();
        setState(TcpState.SYN_RECEIVED);
        setState(TcpState.ESTABLISHED);
        armKeepAlive();
    }

    /** Settles the options from the peer's SYN (RFC 7323 §1.3, RFC 2018 §2, RFC 9293 §3.7.1). */
    private void negotiate(TcpOptions o, boolean weAreResponding) {
        int peerMss = o.mss > 0 ? o.mss : DEFAULT_MSS;
        timestampsOk = config.timestamps() && o.hasTimestamps;
        sackOk = config.sack() && o.sackPermitted;
        windowScaleOk = config.windowScaling() && o.windowScale >= 0;
        sndScale = windowScaleOk ? o.windowScale : 0;
        if (weAreResponding) {
            rcvScale = windowScaleOk ? scaleFor(receiveBufferSize) : 0;
        } else if (!windowScaleOk) {
            rcvScale = 0;
        }
        mss = Math.max(64, Math.min(peerMss, advertisedMss) - (timestampsOk ? TS_OPTION_SPACE : 0));
        cc = CongestionControl.create(config.congestionControl(), mss);
    }

    /** The receive buffer a connection made with these options gets. */
    static int receiveBufferFor(TcpConnectOptions options, TcpConfig config) {
        return options.receiveBuffer() > 0 ? options.receiveBuffer() : config.receiveBuffer();
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
        return (receiveBuffer != null && receiveBuffer.size() > 0) || finReceived || inputShutdown
                || pendingError != null || (state == TcpState.CLOSED && connected());
    }

    /** Whether {@link #send} would accept bytes (or fail). */
    public boolean writable() {
        if (pendingError != null) {
            return true;
        }
        return (state == TcpState.ESTABLISHED || state == TcpState.CLOSE_WAIT) && !outputShutdown
                && sendBuffer.free() > 0;
    }

    /** Bytes buffered for the application to read. */
    public int available() {
        return receiveBuffer == null ? 0 : receiveBuffer.size();
    }

    /** Bytes queued but not yet acknowledged by the peer. */
    public int unacknowledged() {
        return sendBuffer == null ? 0 : sendBuffer.size();
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
        checkSendable();
        return queued(append(src));
    }

    /**
     * Gathering send (a writev): queues what fits of {@code srcs[offset, offset + length)}, in
     * order, all of it before anything is sent, so that the gather leaves in full-sized
     * segments as one writev does on Linux, under TCP_NODELAY too; returns the bytes queued.
     */
    public long send(ByteBuffer[] srcs, int offset, int length) {
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
        int n = sendBuffer.append(src, pos, src.limit() - pos); // any buffer: heap, direct or read-only
        src.position(pos + n);
        return n;
    }

    /** Queues {@code len} bytes of {@code src} at {@code offset}; returns how many fit. */
    public int send(MemorySegment src, long offset, int len) {
        checkSendable();
        return queued(sendBuffer.append(src, offset, len));
    }

    /** {@code n} bytes joined the send buffer: send what the windows allow. */
    private int queued(int n) {
        if (n > 0 && state.isSynchronized()) {
            output(false);
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
        if (receiveBuffer != null && receiveBuffer.size() > 0 && dst.hasRemaining()) {
            int n = Math.min(dst.remaining(), receiveBuffer.size());
            int pos = dst.position();
            receiveBuffer.get(0, dst, pos, n);
            receiveBuffer.consume(n);
            dst.position(pos + n);
            afterRead(n);
            return n;
        }
        return endOfInput();
    }

    /** Moves up to {@code len} received bytes into {@code dst}; 0 when none, -1 at end of stream. */
    public int receive(MemorySegment dst, long offset, int len) {
        if (receiveBuffer != null && receiveBuffer.size() > 0 && len > 0) {
            int n = Math.min(len, receiveBuffer.size());
            receiveBuffer.get(0, dst, offset, n);
            receiveBuffer.consume(n);
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
        if (state.isSynchronized() && !finReceived && rcvWindow.worthAnnouncing(receiveBuffer, rcvNxt, advertisedMss)) {
            sendAck();
        }
        notifyReadiness();
    }

    /** The current auto-tuned limit of the receive window (the buffer size when not tuning). */
    public int receiveWindowLimit() {
        return rcvWindow.limitBytes();
    }

    /** Half-close (RFC 9293 §3.10.4): queue a FIN after the buffered data. */
    public void shutdownOutput() {
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
                    output(false);
                }
            }
            case CLOSE_WAIT -> {
                finQueued = true;
                setState(TcpState.LAST_ACK);
                output(false);
            }
            default -> { /* FIN already queued or nothing to close */ }
        }
        notifyReadiness();
    }

    /** Stops reading: buffered and later data is discarded, receive returns -1. */
    public void shutdownInput() {
        inputShutdown = true;
        if (receiveBuffer != null && receiveBuffer.size() > 0) {
            receiveBuffer.consume(receiveBuffer.size());
        }
        notifyReadiness();
    }

    /**
     * Closes the socket (RFC 9293 §3.10.4). SO_LINGER 0 aborts with a RST; unread data also
     * aborts (RFC 2525 §2.17); otherwise a FIN follows the buffered data and the connection
     * finishes in the background, bounded by SO_LINGER seconds when set.
     */
    public void close() {
        if (closedByApp) {
            return;
        }
        closedByApp = true;
        if (state == TcpState.CLOSED || state == TcpState.TIME_WAIT) {
            release();
            return;
        }
        boolean unread = receiveBuffer != null && receiveBuffer.size() > 0;
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
        closedByApp = true;
        if (state.isSynchronized() && state != TcpState.TIME_WAIT) {
            sendReset(sndMax);
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
        acks.quickAck(on);
        if (on && state.isSynchronized() && acks.pending()) {
            sendAck();
        }
    }

    /** TCP_NODELAY: disables Nagle's algorithm (RFC 1122 §4.2.3.4). */
    public void noDelay(boolean on) {
        noDelay = on;
        if (on && state.isSynchronized()) {
            output(false);
        }
    }

    public int receiveBufferSize() {
        return receiveBufferSize;
    }

    /** SO_RCVBUF: effective before the connection exchanges SYNs (the window scale depends on it). */
    public void receiveBufferSize(int bytes) {
        checkBufferSize(bytes);
        if (state != TcpState.CLOSED || arena != null) {
            throw new IllegalStateException("SO_RCVBUF can only change before connecting");
        }
        receiveBufferSize = bytes;
    }

    public int sendBufferSize() {
        return sendBufferSize;
    }

    public void sendBufferSize(int bytes) {
        checkBufferSize(bytes);
        if (arena != null) {
            throw new IllegalStateException("SO_SNDBUF can only change before connecting");
        }
        sendBufferSize = bytes;
    }

    private static void checkBufferSize(int bytes) {
        if (bytes < 1024) {
            throw new IllegalArgumentException("buffer size must be at least 1024 bytes, got " + bytes);
        }
    }

    public boolean keepAlive() {
        return keepAlive;
    }

    /** SO_KEEPALIVE with idle, interval (ms) and probe count (RFC 1122 §4.2.3.6). */
    public void keepAlive(boolean on, long idleMs, long intervalMs, int count) {
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
        switch (state) {
            case SYN_SENT -> synSentArrives(seg);
            case CLOSED, LISTEN -> { /* handled by the layer */ }
            default -> synchronizedArrives(seg);
        }
        notifyReadiness();
    }

    /** RFC 9293 §3.10.7.3. */
    private void synSentArrives(Segment seg) {
        boolean hasAck = (seg.flags & Tcp.ACK) != 0;
        if (hasAck && (Seq.le(seg.ack, iss) || Seq.gt(seg.ack, sndMax))) {
            if ((seg.flags & Tcp.RST) == 0) {
                layer.sendReset(localAddress, localPort, remoteAddress, remotePort, seg.ack, 0, false);
            }
            counters.increment(TcpCounter.DROP_BAD_ACK);
            return;
        }
        if ((seg.flags & Tcp.RST) != 0) {
            if (hasAck) {
                counters.increment(TcpCounter.RESETS_RECEIVED);
                fail(TcpError.REFUSED);
            } else {
                counters.increment(TcpCounter.DROP_OUT_OF_WINDOW_RST);
            }
            return;
        }
        if ((seg.flags & Tcp.SYN) == 0) {
            counters.increment(TcpCounter.DROP_UNACCEPTABLE);
            return;
        }
        irs = seg.seq;
        rcvNxt = seg.seq + 1;
        rcvWindow.rightEdge(rcvNxt);
        negotiate(seg.options, false);
        if (seg.options.hasTimestamps && timestampsOk) {
            tsRecent = seg.options.tsVal;
            tsRecentAge = now();
        }
        lastReceiveNanos = now();
        if (hasAck) {
            sndUna = seg.ack;
            sndWnd = seg.window; // unscaled in a SYN
            maxSndWnd = sndWnd;
            sndWl1 = seg.seq;
            sndWl2 = seg.ack;
            rttSample(seg.options);
            rtt.handshakeDone(now(), backoffCount);
            backoffCount = 0;
            timers.cancel(retransmitTimer);
            setState(TcpState.ESTABLISHED);
            armKeepAlive();
            // data on the SYN-ACK is unusual but legal; take it like any other
            if (seg.dataLength > 0) {
                acceptData(seg.data, seg.dataOffset, seg.dataLength, seg.seq + 1);
            }
            sendAck();
            if (finQueued) {
                setState(TcpState.FIN_WAIT_1);
            }
            output(false);
        } else {
            // simultaneous open (RFC 9293 §3.5, figure 8)
            setState(TcpState.SYN_RECEIVED);
            sendSyn(true);
        }
    }

    /** RFC 9293 §3.10.7.4, with RFC 5961 and RFC 7323 checks. */
    private void synchronizedArrives(Segment seg) {
        // trimmed to the window below
        int seq = seg.seq;
        long dataOff = seg.dataOffset;
        int dataLen = seg.dataLength;
        boolean rst = (seg.flags & Tcp.RST) != 0;
        boolean syn = (seg.flags & Tcp.SYN) != 0;
        boolean fin = (seg.flags & Tcp.FIN) != 0;
        long nowNanos = now();
        // RFC 7323 §5.3 PAWS, before the sequence check
        if (timestampsOk && seg.options.hasTimestamps && !rst && Seq.lt(seg.options.tsVal, tsRecent)
                && nowNanos - tsRecentAge < PAWS_IDLE_NANOS) {
            counters.increment(TcpCounter.DROP_PAWS);
            sendAck();
            return;
        }
        if (state == TcpState.SYN_RECEIVED && (seg.flags & (Tcp.SYN | Tcp.ACK | Tcp.RST)) == Tcp.SYN && seq == irs) {
            sendSyn(true); // our SYN-ACK was lost and the peer repeats its SYN
            return;
        }
        int segLen = dataLen + (syn ? 1 : 0) + (fin ? 1 : 0);
        int rcvWnd = Math.max(0, rcvWindow.rightEdge() - rcvNxt);
        if (!acceptable(seq, segLen, rcvWnd)) {
            counters.increment(TcpCounter.DROP_UNACCEPTABLE);
            if (!rst) {
                sendAck();
            }
            return;
        }
        // RFC 5961 §3.2: only an exact RCV.NXT match resets; others in window get a challenge
        if (rst) {
            if (seq == rcvNxt) {
                counters.increment(TcpCounter.RESETS_RECEIVED);
                resetReceived();
            } else {
                challengeAck();
            }
            return;
        }
        // RFC 5961 §4: any SYN in a synchronized state gets a challenge ACK
        if (syn) {
            challengeAck();
            return;
        }
        if ((seg.flags & Tcp.ACK) == 0) {
            counters.increment(TcpCounter.DROP_BAD_ACK);
            return;
        }
        lastReceiveNanos = nowNanos;
        keepAliveProbes = 0;
        if (state == TcpState.SYN_RECEIVED) {
            if (Seq.gt(seg.ack, sndUna) && Seq.le(seg.ack, sndMax)) {
                sndWnd = (long) seg.window << sndScale;
                maxSndWnd = Math.max(maxSndWnd, sndWnd);
                sndWl1 = seq;
                sndWl2 = seg.ack;
                sndUna = seg.ack;
                sndNxt = Seq.max(sndNxt, seg.ack);
                rttSample(seg.options);
                rtt.handshakeDone(nowNanos, backoffCount);
                backoffCount = 0;
                timers.cancel(retransmitTimer);
                setState(finQueued ? TcpState.FIN_WAIT_1 : TcpState.ESTABLISHED);
                armKeepAlive();
                if (parent != null) {
                    parent.established(this);
                }
            } else {
                layer.sendReset(localAddress, localPort, remoteAddress, remotePort, seg.ack, 0, false);
                return;
            }
        }
        if (!ackAcceptable(seg.ack)) {
            return;
        }
        // RFC 7323 §4.3: remember the timestamp of the segment that covers Last.ACK.sent. Only
        // once the segment is known acceptable, ACK included (as Linux does): a forged
        // in-window segment with an impossible ACK must not move TS.Recent, or every genuine
        // segment after it would fail PAWS and the connection could never finish.
        TcpOptions o = seg.options;
        if (timestampsOk && o.hasTimestamps && Seq.ge(o.tsVal, tsRecent) && Seq.le(seq, lastAckSent)) {
            tsRecent = seg.options.tsVal;
            tsRecentAge = nowNanos;
        }
        processAck(seg, nowNanos);
        if (state == TcpState.CLOSED) {
            return;
        }
        // urgent pointer (RFC 9293 §3.8.5): noted; the bytes stay in line in the stream
        if ((seg.flags & Tcp.URG) != 0 && state.receivesData()) {
            int up = seq + seg.urgent;
            if (!urgentSeen || Seq.gt(up, rcvUp)) {
                rcvUp = up;
            }
            urgentSeen = true;
        }
        // trim to the window (RFC 9293 §3.10.7.4 "first")
        if (Seq.lt(seq, rcvNxt)) {
            int d = rcvNxt - seq;
            if (d > dataLen) {
                fin = false; // all old, and its FIN (before RCV.NXT) a duplicate
                dataLen = 0;
            } else {
                dataOff += d;
                dataLen -= d;
            }
            seq = rcvNxt;
        }
        if (dataLen > 0 && closedByApp && state.receivesData()) {
            // RFC 1122 §4.2.2.13, RFC 2525 §2.17: nobody will read new data after close(); a RST
            // at the peer's RCV.NXT (our SEG.ACK) tells it the data was lost, as Linux does
            counters.increment(TcpCounter.DROP_DATA_AFTER_CLOSE);
            sendReset(seg.ack);
            toClosed();
            return;
        }
        if (dataLen > 0 && state.receivesData()) {
            int room = Math.min(rcvWindow.rightEdge() - seq, receiveBuffer.free() - (seq - rcvNxt));
            if (dataLen > room) {
                // beyond the window (a zero-window probe with a new byte): not acceptable, so
                // answered with an ACK (§3.10.7.4), or the sender's probes go unanswered
                counters.increment(TcpCounter.DROP_BEYOND_WINDOW);
                ackPending = true;
                dataLen = Math.max(room, 0);
                fin = false;
            }
            if (dataLen > 0) {
                acceptData(seg.data, dataOff, dataLen, seq);
            }
        } else if (dataLen > 0) {
            dataLen = 0; // data after the peer's FIN cannot be accepted
        }
        if (fin && state.ordinal() >= TcpState.SYN_RECEIVED.ordinal()) {
            int finSeq = seq + dataLen;
            if (finSeq == rcvNxt) {
                finArrives();
            } else if (Seq.gt(finSeq, rcvNxt)) {
                pendingFin = true;
                pendingFinSeq = finSeq;
                ackPending = true;
            }
        }
        output(false); // data segments carry the ACK
        if (ackPending) {
            sendAck();
        }
    }

    /** The acceptability test of RFC 9293 §3.10.7.4 (table 6). */
    private boolean acceptable(int seq, int segLen, int rcvWnd) {
        if (segLen == 0) {
            return rcvWnd == 0 ? seq == rcvNxt : Seq.inRange(seq, rcvNxt, rcvNxt + rcvWnd);
        }
        if (rcvWnd == 0) {
            // RFC 9293: with a zero window still take ACKs, URGs and RSTs at RCV.NXT
            return seq == rcvNxt;
        }
        return Seq.inRange(seq, rcvNxt, rcvNxt + rcvWnd) || Seq.inRange(seq + segLen - 1, rcvNxt, rcvNxt + rcvWnd);
    }

    /** Returns false when the segment must be dropped. */
    /**
     * RFC 9293 §3.10.7.4 "fifth" with RFC 5961 §5.2: an ACK of something not yet sent, or too
     * old to be genuine, drops the segment (answered with an ACK or a challenge ACK).
     */
    private boolean ackAcceptable(int ack) {
        if (Seq.gt(ack, sndMax)) {
            counters.increment(TcpCounter.DROP_BAD_ACK);
            sendAck(); // RFC 9293: an ACK for something not yet sent
            return false;
        }
        // RFC 5961 §5.2: too old an ACK is dropped (with an ACK) so blind injection fails
        if (Seq.lt(ack, sndUna - (int) Math.min(maxSndWnd, Integer.MAX_VALUE))) {
            counters.increment(TcpCounter.DROP_BAD_ACK);
            challengeAck();
            return false;
        }
        return true;
    }

    /** Processes an acceptable ACK: acknowledged data, duplicate ACKs, SACK, the send window. */
    private void processAck(Segment seg, long nowNanos) {
        long newWnd = (long) seg.window << sndScale;
        boolean duplicate = seg.ack == sndUna && seg.dataLength == 0 && !seg.has(Tcp.FIN) && newWnd == sndWnd
                && sndMax != sndUna;
        if (sackOk) {
            scoreboard.update(seg.options, seg.ack, sndMax);
        }
        if (Seq.gt(seg.ack, sndUna)) {
            newDataAcked(seg.ack, seg.options, nowNanos);
        } else if (duplicate) {
            duplicateAck(nowNanos);
        }
        checkSackLoss(nowNanos);
        // RFC 9293 §3.10.7.4: SND.WL1 < SEG.SEQ, or SND.WL1 = SEG.SEQ and SND.WL2 ≤ SEG.ACK; equal
        // values update too, so a pure ACK closing the window is heeded. A window that shrinks
        // under data in flight is coped with (§3.8.6): probed, see retransmitTimeout
        if (Seq.lt(sndWl1, seg.seq) || (sndWl1 == seg.seq && Seq.le(sndWl2, seg.ack))) {
            boolean opened = newWnd > sndWnd;
            sndWnd = newWnd;
            maxSndWnd = Math.max(maxSndWnd, sndWnd);
            sndWl1 = seg.seq;
            sndWl2 = seg.ack;
            if (opened && persisting && sndWnd > 0) {
                persisting = false;
                backoffCount = 0;
                if (sndUna == sndMax) {
                    timers.cancel(retransmitTimer);
                } else {
                    // the window had shrunk to zero under data in flight and its RTO expired
                    // (see retransmitTimeout): the retransmission it deferred goes now
                    retransmitAfterTimeout();
                }
            }
        } else if (Seq.gt(sndUna, sndWl2)) {
            // the window is an offset from the ACK that carried it (SND.WL2); an older segment's
            // ACK moved SND.UNA without a window, so keep the same right edge
            sndWnd = Math.max(0, sndWnd - ((sndUna - sndWl2) & 0xFFFF_FFFFL));
            sndWl2 = sndUna;
        }
    }

    private void newDataAcked(int ack, TcpOptions o, long nowNanos) {
        int acked = ack - sndUna;
        // bytes of data (not SYN/FIN) now acknowledged leave the send buffer
        int dataEnd = sendBufferSeq + sendBuffer.size();
        int dataAcked = Seq.min(ack, dataEnd) - sendBufferSeq;
        if (dataAcked > 0) {
            sendBuffer.consume(dataAcked);
            sendBufferSeq += dataAcked;
        }
        sndUna = ack;
        if (Seq.lt(sndNxt, ack)) {
            sndNxt = ack;
        }
        scoreboard.cumulativeAck(ack);
        // RTT: timestamps (RFC 7323 §4) or one timed segment (RFC 6298 §3, Karn)
        if (!rttSample(o)) {
            rtt.acked(ack, nowNanos);
        }
        backoffCount = 0;
        persisting = false;
        long flight = (sndMax - sndUna) & 0xFFFF_FFFFL;
        boolean wasInRecovery = recovery.inRecovery();
        if (recovery.newAck(ack)) {
            cc.onRecoveryEnd(flight, mss);
        } else if (wasInRecovery) {
            if (!sackOk) {
                // RFC 6582 §3.2 step 5: partial ACK, resend the next hole and deflate
                sendData(sndUna, Math.min(maxPayload(), Seq.min(dataEnd, sndMax) - sndUna), false);
                counters.increment(TcpCounter.RETRANSMITS);
                cc.setCwnd(cc.cwnd() - acked + mss);
            }
        } else {
            cc.onAck(acked, mss, nowNanos, rtt.srttNs());
        }
        if (sndUna == sndMax) {
            timers.cancel(retransmitTimer);
        } else {
            timers.scheduleIn(retransmitTimer, rtt.rtoNs()); // RFC 6298 §5.3
        }
        // our FIN acknowledged?
        if (finQueued && sndUna == dataEnd + 1) {
            finAcked();
        }
    }

    private void duplicateAck(long nowNanos) {
        switch (recovery.duplicateAck(sndUna, mss)) {
            case INFLATE -> {
                if (!sackOk) {
                    cc.setCwnd(cc.cwnd() + mss); // RFC 5681 §3.2 step 4
                }
            }
            case FAST_RETRANSMIT -> enterRecovery(nowNanos);
            case NONE -> { }
        }
    }

    /** RFC 6675 §4: IsLost(SND.UNA) starts recovery without DupThresh duplicate ACKs. */
    private void checkSackLoss(long nowNanos) {
        if (sackOk && sndUna != sndMax && recovery.mayEnter(sndUna) && scoreboard.isLost(sndUna, sndMax, mss)) {
            enterRecovery(nowNanos);
        }
    }

    /** RFC 6582 §3.2 step 2 / RFC 6675 §5: fast retransmit and enter recovery. */
    private void enterRecovery(long nowNanos) {
        long flight = (sndMax - sndUna) & 0xFFFF_FFFFL;
        recovery.enter(sndMax);
        scoreboard.retransmitted(sndUna);
        cc.onFastRecovery(flight, mss, nowNanos);
        counters.increment(TcpCounter.FAST_RETRANSMITS);
        rtt.stopTiming();
        int dataEnd = sendBufferSeq + sendBuffer.size();
        // a retransmission never reaches past what was sent (SND.MAX)
        int len = Math.min(maxPayload(), Seq.max(Seq.min(dataEnd, sndMax) - sndUna, 0));
        if (sackOk) {
            counters.increment(TcpCounter.SACK_RECOVERIES);
            len = Math.min(len, scoreboard.holeEnd(sndUna, sndUna + len) - sndUna);
            scoreboard.retransmitted(sndUna + Math.max(len, 0));
        } else {
            cc.setCwnd(cc.ssthresh() + 3L * mss);
        }
        boolean withFin = finQueued && sndUna + len == dataEnd && Seq.gt(sndMax, dataEnd);
        if (len > 0 || withFin) {
            sendData(sndUna, len, withFin);
            counters.increment(TcpCounter.RETRANSMITS);
        }
        timers.scheduleIn(retransmitTimer, rtt.rtoNs());
    }

    private void finAcked() {
        switch (state) {
            case FIN_WAIT_1 -> {
                setState(TcpState.FIN_WAIT_2);
                if (closedByApp && lingerSeconds < 0) {
                    // an orphan cannot wait forever for the peer's FIN
                    timers.scheduleIn(closeTimer, 2 * config.mslMs() * 1_000_000L);
                }
            }
            case CLOSING -> enterTimeWait();
            case LAST_ACK -> toClosed();
            default -> { }
        }
    }

    private void finArrives() {
        rcvNxt++;
        finReceived = true;
        pendingFin = false;
        ackPending = true;
        switch (state) {
            case SYN_RECEIVED, ESTABLISHED -> setState(TcpState.CLOSE_WAIT);
            case FIN_WAIT_1 -> {
                if (finQueued && sndUna == sendBufferSeq + sendBuffer.size() + 1) {
                    enterTimeWait();
                } else {
                    setState(TcpState.CLOSING);
                }
            }
            case FIN_WAIT_2 -> enterTimeWait();
            case TIME_WAIT -> timers.scheduleIn(closeTimer, 2 * config.mslMs() * 1_000_000L);
            default -> { }
        }
    }

    private void enterTimeWait() {
        setState(TcpState.TIME_WAIT);
        if (closedByApp) {
            release(); // nothing more to read or send: the 2·MSL wait keeps only the state
        }
        timers.cancel(retransmitTimer);
        timers.cancel(keepAliveTimer);
        timers.scheduleIn(closeTimer, 2 * config.mslMs() * 1_000_000L);
        ackPending = true;
    }

    /** In-window data at {@code seq} (≥ RCV.NXT, fits the buffer): in order or out of order. */
    private void acceptData(MemorySegment s, long dataOff, int dataLen, int seq) {
        if (inputShutdown) {
            if (seq == rcvNxt) {
                rcvNxt += dataLen; // discarded, but acknowledged
                rcvWindow.atLeast(rcvNxt);
                scheduleAck(dataLen, false);
            }
            return;
        }
        int offset = receiveBuffer.size() + (seq - rcvNxt);
        if (seq == rcvNxt) {
            receiveBuffer.put(offset, s, dataOff, dataLen);
            receiveBuffer.commit(dataLen);
            rcvNxt += dataLen;
            boolean filledHole = outOfOrder.count() > 0;
            // merge out-of-order data that is now contiguous
            outOfOrder.removeBelow(rcvNxt);
            int r = outOfOrder.takeFrom(rcvNxt);
            while (r != rcvNxt) {
                receiveBuffer.commit(r - rcvNxt);
                rcvNxt = r;
                r = outOfOrder.takeFrom(rcvNxt);
            }
            if (pendingFin && rcvNxt == pendingFinSeq) {
                finArrives();
            }
            scheduleAck(dataLen, filledHole); // RFC 5681 §4.2: ACK at once when a hole fills
        } else {
            if (outOfOrder.covers(seq, seq + dataLen)) {
                counters.increment(TcpCounter.DUPLICATE_SEGMENTS);
            } else if (outOfOrder.add(seq, seq + dataLen)) {
                receiveBuffer.put(offset, s, dataOff, dataLen);
                counters.increment(TcpCounter.OUT_OF_ORDER_SEGMENTS);
            } else {
                counters.increment(TcpCounter.DROP_OUT_OF_ORDER_FULL);
            }
            ackPending = true; // RFC 5681 §4.2: out-of-order data is ACKed at once (a dup ACK)
        }
    }

    /** In-order data: ACK now or start the delayed-ACK timer, as {@link DelayedAcks} decides. */
    private void scheduleAck(int bytes, boolean now) {
        if (acks.received(bytes, advertisedMss, now()) || now) {
            ackPending = true;
        } else if (!delayedAckTimer.isScheduled()) {
            timers.scheduleIn(delayedAckTimer, acks.timeoutNanos());
        }
    }

    private void resetReceived() {
        if (state == TcpState.SYN_RECEIVED) {
            if (parent != null) {
                // RFC 9293 §3.10.7.4: a passive open returns to LISTEN; the listener forgets it
                toClosed();
            } else {
                fail(TcpError.REFUSED); // an active open met a reset during simultaneous open
            }
            return;
        }
        switch (state) {
            case CLOSING, LAST_ACK, TIME_WAIT -> toClosed();
            default -> fail(TcpError.RESET);
        }
    }

    private void challengeAck() {
        if (layer.allowChallengeAck()) {
            counters.increment(TcpCounter.CHALLENGE_ACKS);
            sendAck();
        } else {
            counters.increment(TcpCounter.CHALLENGE_ACKS_THROTTLED);
        }
    }

    // ------------------------------------------------------------------ RTT and timers

    /** An RTT sample from the echoed timestamp (RFC 7323 §4.1); false if none. */
    private boolean rttSample(TcpOptions o) {
        if (timestampsOk && o.hasTimestamps && o.tsEcr != 0) {
            int nowTs = tsNow();
            int rttMs = nowTs - o.tsEcr;
            if (rttMs >= 0 && rttMs < 3_600_000) {
                rtt.sample(Math.max(rttMs, 0) * 1_000_000L + 1);
                return true;
            }
        }
        return false;
    }

    @Override
    public void onTimer(Timer timer, long nowNanos) {
        try {
            if (timer == retransmitTimer) {
                retransmitTimeout();
            } else if (timer == delayedAckTimer) {
                if (state.isSynchronized() && acks.pending()) {
                    acks.timerFired();
                    sendAck();
                }
            } else if (timer == keepAliveTimer) {
                keepAliveTimeout(nowNanos);
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

    private void retransmitTimeout() {
        switch (state) {
            case SYN_SENT, SYN_RECEIVED -> {
                if (++backoffCount > config.synRetries()) {
                    counters.increment(TcpCounter.CONNECTIONS_TIMED_OUT);
                    if (state == TcpState.SYN_RECEIVED && parent != null) {
                        toClosed();
                    } else {
                        fail(TcpError.TIMED_OUT);
                    }
                    return;
                }
                counters.increment(TcpCounter.RTO_EXPIRIES);
                counters.increment(TcpCounter.RETRANSMITS);
                rtt.synRetransmitted();
                sendSyn(state == TcpState.SYN_RECEIVED);
                timers.scheduleIn(retransmitTimer, rtt.backedOffNs(backoffCount));
            }
            case CLOSED, LISTEN, TIME_WAIT -> { }
            default -> {
                if (persisting && sndWnd > 0) {
                    persisting = false;
                    if (sndUna == sndMax) {
                        // the SWS override timeout (RFC 9293 §3.8.6.2.1): send what the window takes
                        output(true);
                        return;
                    }
                    backoffCount = 0; // a shrunken window opened again: an ordinary timeout below
                }
                // RFC 9293 §3.8.6: the window can also shrink to zero under data in flight (a
                // receiver shrinking it, or a reordered older window update passing the SND.WL1
                // test); nothing in the window can be resent, so probe it like any zero window
                // (MUST-35) and do not time the connection out over data beyond it (SHLD-17);
                // the retransmission follows when the window opens (processAck)
                if (persisting || (sndWnd == 0 && sndUna != sndMax)) {
                    // persist timer (RFC 9293 §3.8.6.1): probe the zero window, no give-up
                    persisting = true;
                    counters.increment(TcpCounter.ZERO_WINDOW_PROBES);
                    backoffCount = Math.min(backoffCount + 1, 16);
                    sendProbe();
                    timers.scheduleIn(retransmitTimer, rtt.backedOffNs(backoffCount));
                    return;
                }
                if (sndUna == sndMax) {
                    return;
                }
                if (++backoffCount > config.retries()) {
                    counters.increment(TcpCounter.CONNECTIONS_TIMED_OUT);
                    sendReset(sndMax);
                    fail(TcpError.TIMED_OUT);
                    return;
                }
                counters.increment(TcpCounter.RTO_EXPIRIES);
                retransmitAfterTimeout();
            }
        }
    }

    /** RFC 6298 §5.4–5.6, RFC 5681 §3.1: resend from SND.UNA after a timeout, restart the timer. */
    private void retransmitAfterTimeout() {
        long flight = (sndMax - sndUna) & 0xFFFF_FFFFL;
        cc.onTimeout(flight, mss, now());
        recovery.timeout(sndMax); // RFC 5681 §3.1: the loss window is one segment, nothing more
        rtt.stopTiming(); // Karn: no samples from retransmissions
        sndNxt = sndUna;
        scoreboard.reset(sndUna); // RFC 6675 §5.1: after a timeout, rely on cumulative ACKs
        output(true);
        timers.scheduleIn(retransmitTimer, rtt.backedOffNs(backoffCount));
    }

    private void keepAliveTimeout(long nowNanos) {
        if (!keepAlive || !(state == TcpState.ESTABLISHED || state == TcpState.CLOSE_WAIT)) {
            return;
        }
        long idle = nowNanos - lastReceiveNanos;
        if (keepAliveProbes == 0 && idle < keepAliveIdleNanos) {
            timers.schedule(keepAliveTimer, lastReceiveNanos + keepAliveIdleNanos);
            return;
        }
        if (keepAliveProbes >= keepAliveCount) {
            counters.increment(TcpCounter.CONNECTIONS_TIMED_OUT);
            sendReset(sndMax);
            fail(TcpError.TIMED_OUT);
            return;
        }
        keepAliveProbes++;
        counters.increment(TcpCounter.KEEP_ALIVE_PROBES);
        sendProbe();
        timers.scheduleIn(keepAliveTimer, keepAliveIntervalNanos);
    }

    private void armKeepAlive() {
        if (keepAlive && state.isSynchronized()) {
            timers.schedule(keepAliveTimer, lastReceiveNanos + keepAliveIdleNanos);
        }
    }

    // ------------------------------------------------------------------ output

    /**
     * Sends what the windows allow (RFC 9293 §3.8.6.2.1, RFC 5681, RFC 6675 §5 step 4): in SACK
     * recovery the holes first, then new data, subject to Nagle (RFC 1122 §4.2.3.4) and sender
     * SWS avoidance. {@code force} lets one segment go regardless of Nagle (after a timeout).
     */
    void output(boolean force) {
        if (!(state == TcpState.ESTABLISHED || state == TcpState.CLOSE_WAIT || state == TcpState.FIN_WAIT_1
                || state == TcpState.CLOSING || state == TcpState.LAST_ACK)) {
            return;
        }
        long cwnd = cc.cwnd() + recovery.limitedTransmitBytes();
        if (recovery.inRecovery() && sackOk) {
            retransmitHoles(cwnd);
        }
        int dataEnd = sendBufferSeq + sendBuffer.size();
        int segment = maxPayload();
        for (int guard = 0; guard < 100_000; guard++) {
            if (sackOk && Seq.lt(sndNxt, sndMax)) {
                sndNxt = Seq.min(scoreboard.skipSacked(sndNxt), sndMax);
            }
            boolean retransmission = Seq.lt(sndNxt, sndMax);
            long inFlight = recovery.inRecovery() && sackOk ? scoreboard.pipe(sndUna, sndMax)
                    : (sndNxt - sndUna) & 0xFFFF_FFFFL;
            long cwndRoom = cwnd - inFlight;
            long wndRoom = sndWnd - ((sndNxt - sndUna) & 0xFFFF_FFFFL);
            int avail = Math.max(0, dataEnd - sndNxt);
            long len = Math.min(Math.min(avail, segment), Math.min(cwndRoom, wndRoom));
            if (retransmission && sackOk) {
                len = Math.min(len, scoreboard.holeEnd(sndNxt, sndMax) - sndNxt);
            }
            if (retransmission) {
                len = Math.min(len, sndMax - sndNxt);
            }
            boolean finPending = finQueued && Seq.le(sndNxt, dataEnd) && (!retransmission || Seq.gt(sndMax, dataEnd));
            boolean withFin = finPending && len >= 0 && sndNxt + len == dataEnd && wndRoom > len && cwndRoom > len;
            if (len <= 0 && !withFin) {
                break;
            }
            if (!retransmission && !withFin && len < segment && !force) {
                if (len < avail) {
                    // cwnd-limited: wait for ACKs; window-limited: silly window avoidance
                    // (RFC 9293 §3.8.6.2.1), the persist timer overrides it
                    if (cwndRoom < Math.min(avail, segment) || len < maxSndWnd / 2) {
                        break;
                    }
                } else if (!noDelay && sndMax != sndUna) {
                    break; // Nagle: one small segment in flight at a time
                }
            }
            if (!retransmission && len > 0) {
                acks.sending(now()); // an answer soon after receiving makes the exchange interactive
            }
            if (!sendData(sndNxt, (int) len, withFin)) {
                break;
            }
            if (retransmission) {
                counters.increment(TcpCounter.RETRANSMITS);
                rtt.retransmitted(sndNxt, sndNxt + (int) len + 1);
            } else if (!timestampsOk && len > 0) {
                rtt.startTiming(sndNxt, now());
            }
            sndNxt += (int) len + (withFin ? 1 : 0);
            if (Seq.gt(sndNxt, sndMax)) {
                sndMax = sndNxt;
            }
            recovery.sent(len);
            if (!retransmitTimer.isScheduled()) {
                timers.scheduleIn(retransmitTimer, rtt.rtoNs());
            }
            force = false;
        }
        // persist (RFC 9293 §3.8.6.1): data waits behind a zero window and nothing is in flight
        boolean waiting = Seq.lt(sndNxt, dataEnd) || (finQueued && Seq.le(sndNxt, dataEnd));
        if (waiting && sndUna == sndMax && !retransmitTimer.isScheduled()) {
            persisting = true;
            timers.scheduleIn(retransmitTimer, rtt.backedOffNs(backoffCount));
        }
    }

    /** RFC 6675 §4 NextSeg rule 1: resend unSACKed holes below the highest SACKed byte. */
    private void retransmitHoles(long cwnd) {
        int highSacked = scoreboard.highestSacked(sndUna);
        int dataEnd = sendBufferSeq + sendBuffer.size();
        for (int guard = 0; guard < 1000 && scoreboard.pipe(sndUna, sndMax) + mss <= cwnd; guard++) {
            int hole = scoreboard.nextHole(sndUna);
            if (!Seq.lt(hole, highSacked)) {
                return;
            }
            int len = Math.min(maxPayload(), scoreboard.holeEnd(hole, highSacked) - hole);
            len = Math.min(len, dataEnd - hole);
            if (len <= 0 || !sendData(hole, len, false)) {
                return;
            }
            counters.increment(TcpCounter.RETRANSMITS);
            scoreboard.retransmitted(hole + len);
        }
    }

    /**
     * Payload bytes one data segment may carry now. {@link #mss} already leaves room for the
     * timestamp option; while out-of-order data waits, every segment also carries SACK blocks
     * (RFC 2018 §4), and those come out of the payload too: the effective send MSS counts
     * every TCP option (RFC 9293 §3.7.1, RFC 6691), or the datagram exceeds the path MTU.
     */
    private int maxPayload() {
        int blocks = sackOk ? Math.min(outOfOrder.count(), timestampsOk ? 3 : 4) : 0;
        return blocks == 0 ? mss : Math.max(1, mss - (4 + 8 * blocks)); // NOP NOP kind len + blocks
    }

    /** Sends {@code len} bytes from the send buffer at {@code seq}, with FIN if asked. */
    private boolean sendData(int seq, int len, boolean fin) {
        int flags = Tcp.ACK | (fin ? Tcp.FIN : 0);
        if (len > 0 && seq + len == sendBufferSeq + sendBuffer.size()) {
            flags |= Tcp.PSH;
        }
        return emit(seq, flags, len, seq - sendBufferSeq);
    }

    private void sendSyn(boolean withAck) {
        emit(iss, Tcp.SYN | (withAck ? Tcp.ACK : 0), 0, 0);
        rtt.synSent(now());
    }

    /** An ACK with the current window; the delayed ACK, if pending, is satisfied. */
    void sendAck() {
        if (state == TcpState.CLOSED || state == TcpState.SYN_SENT) {
            return;
        }
        // SND.MAX, not SND.NXT: after a timeout SND.NXT goes back, and a pure ACK with an old
        // sequence number would fail the peer's acceptability test and be dropped
        emit(sndMax, Tcp.ACK, 0, 0);
    }

    /** Keepalive and zero-window probe: an old sequence number draws an ACK (RFC 9293 §3.8.4). */
    private void sendProbe() {
        emit(sndUna - 1, Tcp.ACK, 0, 0);
    }

    private void sendReset(int seq) {
        emit(seq, Tcp.RST | Tcp.ACK, 0, 0);
        counters.increment(TcpCounter.RESETS_SENT);
    }

    private boolean emit(int seq, int flags, int len, int ringOffset) {
        Ipv4Output out = layer.output();
        boolean syn = (flags & Tcp.SYN) != 0;
        TcpOptions opt = txOptions;
        opt.clear();
        if (syn) {
            opt.mss = advertisedMss;
            if (config.windowScaling() && (state == TcpState.SYN_SENT || windowScaleOk)) {
                opt.windowScale = rcvScale;
            }
            opt.sackPermitted = config.sack() && (state == TcpState.SYN_SENT || sackOk);
            opt.hasTimestamps = config.timestamps() && (state == TcpState.SYN_SENT || timestampsOk);
        } else {
            opt.hasTimestamps = timestampsOk;
        }
        if (opt.hasTimestamps) {
            opt.tsVal = tsNow();
            opt.tsEcr = (flags & Tcp.ACK) != 0 ? tsRecent : 0;
        }
        if (!syn && sackOk && outOfOrder.count() > 0 && (flags & Tcp.RST) == 0) {
            int max = timestampsOk ? 3 : 4;
            int n = outOfOrder.sackBlocks(sackLeft, sackRight, max);
            for (int i = 0; i < n; i++) {
                opt.addSackBlock(sackLeft[i], sackRight[i]);
            }
        }
        int optLen = opt.encodedLength();
        int hl = Tcp.MIN_HEADER_LENGTH + optLen;
        PacketBuffer b = out.allocate(layer.owner(), hl + len);
        if (b == null) {
            counters.increment(TcpCounter.DROP_NO_BUFFER);
            return false;
        }
        MemorySegment s = b.segment();
        int off = b.offset();
        opt.write(s, off + Tcp.MIN_HEADER_LENGTH);
        if (len > 0) {
            sendBuffer.get(ringOffset, s, off + hl, len);
        }
        int windowField = 0;
        boolean hasAck = (flags & Tcp.ACK) != 0;
        if ((flags & Tcp.RST) == 0) {
            windowField = rcvWindow.advertise(receiveBuffer, rcvNxt, rcvScale, advertisedMss, syn);
        }
        Tcp.writeHeader(s, off, localPort, remotePort, seq, hasAck ? rcvNxt : 0, hl, flags, windowField, 0);
        Tcp.writeChecksum(s, off, hl + len, localAddress, remoteAddress);
        b.setRange(off, hl + len);
        out.send(b, layer.owner(), localAddress, remoteAddress, Ipv4.PROTO_TCP, tos, true);
        counters.increment(TcpCounter.SEGMENTS_SENT);
        if (len > 0) {
            counters.increment(TcpCounter.DATA_SEGMENTS_SENT);
        }
        if (hasAck) {
            lastAckSent = rcvNxt;
            acks.acked();
            ackPending = false;
            if (delayedAckTimer.isScheduled()) {
                timers.cancel(delayedAckTimer);
            }
        }
        return true;
    }

    private int tsNow() {
        return (int) (now() / 1_000_000L) + tsOffset;
    }

    private long now() {
        return clock.nanoTime();
    }

    // ------------------------------------------------------------------ teardown and state

    private void fail(TcpError error) {
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
        timers.cancel(delayedAckTimer);
        timers.cancel(keepAliveTimer);
        timers.cancel(closeTimer);
    }

    private void release() {
        if (arena != null && (state == TcpState.CLOSED || state == TcpState.TIME_WAIT)) {
            arena.close();
            arena = null;
            receiveBuffer = null;
            sendBuffer = null;
        }
    }

    private void setState(TcpState next) {
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

    /** Whether the application has closed it (it then finishes on its own). */
    boolean closedByApplication() {
        return closedByApp;
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
        if (sndUna != sndMax) {
            sndNxt = sndUna; // not a congestion signal: no window reduction (RFC 1191)
            scoreboard.reset(sndUna);
            rtt.stopTiming();
            output(true);
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
        return tsRecentAge;
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
