package io.slipstream.tcp;

import io.slipstream.buffer.PacketBuffer;
import io.slipstream.ip.Ipv4Output;
import io.slipstream.wire.Ipv4;
import io.slipstream.wire.Tcp;
import io.slipstream.wire.TcpOptions;
import java.lang.foreign.MemorySegment;

/**
 * The sending side of one connection: what the windows let out (RFC 9293 §3.8.6, RFC 5681,
 * RFC 6675 §5), Nagle and sender SWS avoidance, the segments themselves with their options,
 * and what the retransmission, persist and keepalive timers send when they expire (RFC 6298
 * §5, RFC 9293 §3.8.6.1, RFC 1122 §4.2.3.6). The state is its {@link TcpConnection}'s.
 *
 * <p>Runs under the stack lock, as its connection.
 */
final class TcpOutput {
    private final TcpConnection c;
    /** Bytes a tail loss probe of new data may send beyond the congestion window (RFC 8985 §7.3). */
    private long probeAllowanceBytes;

    TcpOutput(TcpConnection c) {
        this.c = c;
    }

    void retransmitTimeout() {
        switch (c.state) {
            case SYN_SENT, SYN_RECEIVED -> {
                if (timedOut(c.config.rtoInitialMs(), c.config.synRetries())) {
                    c.counters.increment(TcpCounter.CONNECTIONS_TIMED_OUT);
                    if (c.state == TcpState.SYN_RECEIVED && c.parent != null) {
                        c.toClosed();
                    } else {
                        c.fail(TcpError.TIMED_OUT);
                    }
                    return;
                }
                c.counters.increment(TcpCounter.RTO_EXPIRIES);
                c.counters.increment(TcpCounter.RETRANSMITS);
                c.rtt.synRetransmitted();
                sendSyn(c.state == TcpState.SYN_RECEIVED);
                c.timers.scheduleIn(c.retransmitTimer, c.rtt.backedOffNs(c.backoffCount));
            }
            case CLOSED, LISTEN, TIME_WAIT -> { }
            default -> {
                if (c.persisting && c.sndWnd > 0) {
                    c.persisting = false;
                    if (c.sndUna == c.sndMax) {
                        // the SWS override timeout (RFC 9293 §3.8.6.2.1): send what the window takes
                        output(true);
                        return;
                    }
                    c.backoffCount = 0; // a shrunken window opened again: an ordinary timeout below
                }
                // RFC 9293 §3.8.6: the window can also shrink to zero under data in flight (a
                // receiver shrinking it, or a reordered older window update passing the SND.WL1
                // test); nothing in the window can be resent, so probe it like any zero window
                // (MUST-35) and do not time the connection out over data beyond it (SHLD-17);
                // the retransmission follows when the window opens (processAck)
                if (c.persisting || (c.sndWnd == 0 && c.sndUna != c.sndMax)) {
                    // persist timer (RFC 9293 §3.8.6.1): probe the zero window, no give-up
                    c.persisting = true;
                    c.counters.increment(TcpCounter.ZERO_WINDOW_PROBES);
                    c.backoffCount = Math.min(c.backoffCount + 1, 16);
                    sendProbe();
                    c.timers.scheduleIn(c.retransmitTimer, c.rtt.backedOffNs(c.backoffCount));
                    return;
                }
                if (c.sndUna == c.sndMax) {
                    return;
                }
                if (timedOut(c.config.rtoMinMs(), c.config.retries())) {
                    c.counters.increment(TcpCounter.CONNECTIONS_TIMED_OUT);
                    sendReset(c.sndMax);
                    c.fail(TcpError.TIMED_OUT);
                    return;
                }
                c.counters.increment(TcpCounter.RTO_EXPIRIES);
                retransmitAfterTimeout();
            }
        }
    }

    /**
     * Counts one more expiry of the retransmission timer; true when the connection has
     * retransmitted for as long as {@code retries} timeouts doubling from {@code rtoBaseMs}
     * take (RFC 1122 §4.2.3.5 R2 as a time, as Linux measures it), counted from when the first
     * timer of this run of timeouts was started.
     */
    private boolean timedOut(long rtoBaseMs, int retries) {
        long nowNs = c.now();
        if (c.backoffCount == 0) {
            c.retransmitStartNs = nowNs - c.rtt.rtoNs();
        }
        c.backoffCount++;
        long limitNs = RttEstimator.giveUpNs(retries, rtoBaseMs * 1_000_000L, c.config.rtoMaxMs() * 1_000_000L);
        return nowNs - c.retransmitStartNs >= limitNs;
    }

    /**
     * RFC 6298 §5.4–5.6, RFC 5681 §3.1: resend after a timeout, restart the timer. With RACK
     * (RFC 8985 §6.3) the segments sent long enough ago are marked lost and resent as the window
     * opens again, SACKed ones not (all of them, SACKs forgotten, when the RTO expires again:
     * the receiver may have reneged); without, everything from SND.UNA goes again.
     */
    void retransmitAfterTimeout() {
        long flight = (c.sndMax - c.sndUna) & 0xFFFF_FFFFL;
        if (c.backoffCount <= 1 && !c.recovery.inRecovery()) {
            c.undo.begin(c.cc.cwnd(), c.cc.ssthresh()); // a recovery under way keeps its own
        }
        c.cc.onTimeout(flight, c.mss, c.now());
        c.recovery.timeout(c.sndMax); // RFC 5681 §3.1: the loss window is one segment, nothing more
        c.rtt.stopTiming(); // Karn: no samples from retransmissions
        c.tlp.cancel();
        c.timers.cancel(c.probeTimer);
        c.timers.cancel(c.reorderTimer);
        if (racking()) {
            boolean again = c.backoffCount > 1;
            if (again) {
                c.rack.forgetSacks();
                c.scoreboard.reset(c.sndUna);
            }
            c.rack.markLostOnTimeout(c.now(), c.rack.reoWndNs(true, c.rtt.srttNs()), again);
            c.rack.watchOriginals(c.sndMax); // F-RTO (RFC 5682 §3.1): was it spurious?
            retransmitFirstLost(); // the loss window: one segment, whatever the pipe says
        } else {
            c.sndNxt = c.sndUna;
            c.scoreboard.reset(c.sndUna); // RFC 6675 §5.1: after a timeout, rely on cumulative ACKs
        }
        output(true);
        c.timers.scheduleIn(c.retransmitTimer, c.rtt.backedOffNs(c.backoffCount));
    }

    /**
     * Whether RACK drives this connection's retransmissions: SACK, and every outstanding segment
     * on record (not resending from SND.UNA after a timeout on a connection without RACK).
     */
    boolean racking() {
        return c.sackOk && c.sndNxt == c.sndMax && c.rack.count() > 0 && c.rack.start(0) == c.sndUna;
    }

    /**
     * RFC 6675 §4 SetPipe with RACK's marks (RFC 8985 §6): the bytes outstanding, less those
     * SACKed and those deemed lost and not sent again.
     */
    long pipe() {
        long flight = (c.sndMax - c.sndUna) & 0xFFFF_FFFFL;
        return Math.max(0, flight - c.rack.sackedBytes() - c.rack.lostBytes());
    }

    /** RFC 8985 §7.3: the probe timeout fired; a new segment, or the last one again, draws an ACK. */
    void probeTimeout() {
        if (!racking() || !c.state.isSynchronized() || c.persisting) {
            return;
        }
        int before = c.sndMax;
        probeAllowanceBytes = maxPayload();
        output(true);
        probeAllowanceBytes = 0;
        boolean retransmission = c.sndMax == before;
        if (retransmission && !retransmitLast()) {
            return;
        }
        c.counters.increment(TcpCounter.TAIL_LOSS_PROBES);
        c.recovery.probeSent();
        // in a fast recovery the probe needs no verdict of its own (§7.4): the recovery's
        // window reduction covers whatever it repairs
        c.tlp.sent(c.sndMax, retransmission && !c.recovery.inRecovery());
        c.timers.scheduleIn(c.retransmitTimer, c.rtt.backedOffNs(c.backoffCount)); // §7.3: the RTO after the probe
    }

    /**
     * RFC 8985 §7.3: the highest segment sent so far and not SACKed leaves again (at most one
     * MSS of it). The highest one SACKed would draw only a D-SACK, which shows RACK nothing
     * delivered after a lost retransmission; this one, sent last, does when it arrives.
     */
    private boolean retransmitLast() {
        int i = c.rack.count() - 1;
        while (i > 0 && c.rack.sacked(i)) {
            i--;
        }
        int lastDataEnd = Seq.min(c.rack.end(i), c.sendBufferSeq + c.buffers.send.size());
        return resendFrom(i, Seq.max(c.rack.start(i), lastDataEnd - maxPayload()));
    }

    /** Sends the first segment RACK deems lost, if any, regardless of the window (a fast retransmit). */
    void retransmitFirstLost() {
        int i = c.rack.firstLost();
        if (i >= 0) {
            retransmitRecord(i);
        }
    }

    /**
     * RFC 8985 §6.2 with RFC 6675 §4 NextSeg rule 1: resend what RACK deems lost, in order, as
     * the window allows; true if anything left.
     */
    private boolean retransmitLost(long cwnd) {
        boolean sent = false;
        for (int guard = 0; guard < 1000 && pipe() + c.mss <= cwnd; guard++) {
            int i = c.rack.firstLost();
            if (i < 0 || !retransmitRecord(i)) {
                break;
            }
            sent = true;
        }
        return sent;
    }

    /** Resends record {@code i} of RACK, at most one segment of it (the rest stays lost, split off). */
    private boolean retransmitRecord(int i) {
        return resendFrom(i, c.rack.start(i));
    }

    /**
     * Resends at most one segment of RACK record {@code i} from {@code seq}, never past the data,
     * with the FIN when the record holds it and the segment reaches the data's end.
     */
    private boolean resendFrom(int i, int seq) {
        int end = c.rack.end(i);
        int dataEnd = c.sendBufferSeq + c.buffers.send.size();
        boolean fin = c.finQueued && end == dataEnd + 1;
        int len = Math.max(0, Math.min(maxPayload(), Seq.min(end, dataEnd) - seq));
        return resend(seq, seq + len, fin && seq + len == dataEnd);
    }

    /** Sends [seq, end) again (with the FIN after it if {@code fin}) and tells RACK and the RTT timing. */
    private boolean resend(int seq, int end, boolean fin) {
        if (!sendData(seq, end - seq, fin)) {
            return false;
        }
        c.counters.increment(TcpCounter.RETRANSMITS);
        c.rtt.retransmitted(seq, end + 1);
        c.rack.retransmitted(seq, end + (fin ? 1 : 0), c.now());
        c.undo.retransmitted(end - seq);
        return true;
    }

    /**
     * RFC 8985 §7.2: (re)arms the probe timeout after new data left or was acknowledged, unless
     * the connection is in RTO recovery, has segments deemed lost still to send, has a probe
     * out, or has nothing in flight. Unlike §7.2, a fast recovery is probed too, once
     * ({@link LossRecovery#mayProbe}): when the ACKs after its retransmissions are lost, nothing
     * sent later is delivered for RACK to judge by, and only the RTO would act.
     */
    void armProbe() {
        boolean rtoRecovery = !c.recovery.inRecovery() && !c.recovery.mayEnter(c.sndUna);
        if (!racking() || rtoRecovery || c.rack.lostBytes() > 0 || c.tlp.outstanding() || !c.recovery.mayProbe()
                || c.persisting || !c.state.isSynchronized()) {
            if (c.probeTimer.isScheduled()) {
                c.timers.cancel(c.probeTimer);
            }
            return;
        }
        long nowNs = c.now();
        long rtoRemainingNs = c.retransmitTimer.isScheduled() ? c.retransmitTimer.deadline() - nowNs : c.rtt.rtoNs();
        boolean ackMayBeDelayed = ((c.sndMax - c.sndUna) & 0xFFFF_FFFFL) < 2L * c.mss;
        long ptoNs = TailLossProbe.ptoNs(c.rtt.srttNs(), ackMayBeDelayed, rtoRemainingNs);
        if (ptoNs >= rtoRemainingNs) {
            if (c.probeTimer.isScheduled()) {
                c.timers.cancel(c.probeTimer); // the RTO comes first
            }
            return;
        }
        c.timers.scheduleIn(c.probeTimer, ptoNs);
    }

    void keepAliveTimeout(long nowNanos) {
        if (!c.keepAlive || !(c.state == TcpState.ESTABLISHED || c.state == TcpState.CLOSE_WAIT)) {
            return;
        }
        long idle = nowNanos - c.lastReceiveNanos;
        if (c.keepAliveProbes == 0 && idle < c.keepAliveIdleNanos) {
            c.timers.schedule(c.keepAliveTimer, c.lastReceiveNanos + c.keepAliveIdleNanos);
            return;
        }
        if (c.keepAliveProbes >= c.keepAliveCount) {
            c.counters.increment(TcpCounter.CONNECTIONS_TIMED_OUT);
            sendReset(c.sndMax);
            c.fail(TcpError.TIMED_OUT);
            return;
        }
        c.keepAliveProbes++;
        c.counters.increment(TcpCounter.KEEP_ALIVE_PROBES);
        sendProbe();
        c.timers.scheduleIn(c.keepAliveTimer, c.keepAliveIntervalNanos);
    }

    /**
     * Sends what the windows allow (RFC 9293 §3.8.6.2.1, RFC 5681, RFC 6675 §5 step 4): in SACK
     * recovery the holes first, then new data, subject to Nagle (RFC 1122 §4.2.3.4) and sender
     * SWS avoidance. {@code force} lets one segment go regardless of Nagle (after a timeout).
     */
    void output(boolean force) {
        if (!(c.state == TcpState.ESTABLISHED || c.state == TcpState.CLOSE_WAIT || c.state == TcpState.FIN_WAIT_1
                || c.state == TcpState.CLOSING || c.state == TcpState.LAST_ACK)) {
            return;
        }
        long cwnd = c.cc.cwnd() + c.recovery.limitedTransmitBytes() + probeAllowanceBytes;
        boolean racking = racking();
        boolean resent = racking && retransmitLost(cwnd);
        boolean sentNew = false;
        int dataEnd = c.sendBufferSeq + c.buffers.send.size();
        int segment = maxPayload();
        for (int guard = 0; guard < 100_000; guard++) {
            if (c.sackOk && Seq.lt(c.sndNxt, c.sndMax)) {
                c.sndNxt = Seq.min(c.scoreboard.skipSacked(c.sndNxt), c.sndMax);
            }
            boolean retransmission = Seq.lt(c.sndNxt, c.sndMax);
            long inFlight = racking ? pipe() : (c.sndNxt - c.sndUna) & 0xFFFF_FFFFL;
            long cwndRoom = cwnd - inFlight;
            long wndRoom = c.sndWnd - ((c.sndNxt - c.sndUna) & 0xFFFF_FFFFL);
            int avail = Math.max(0, dataEnd - c.sndNxt);
            long len = Math.min(Math.min(avail, segment), Math.min(cwndRoom, wndRoom));
            if (retransmission && c.sackOk) {
                len = Math.min(len, c.scoreboard.holeEnd(c.sndNxt, c.sndMax) - c.sndNxt);
            }
            if (retransmission) {
                len = Math.min(len, c.sndMax - c.sndNxt);
            }
            boolean finPending = c.finQueued && Seq.le(c.sndNxt, dataEnd)
                    && (!retransmission || Seq.gt(c.sndMax, dataEnd));
            boolean withFin = finPending && len >= 0 && c.sndNxt + len == dataEnd && wndRoom > len && cwndRoom > len;
            if (len <= 0 && !withFin) {
                break;
            }
            if (!retransmission && !withFin && len < segment && !force) {
                if (len < avail) {
                    // cwnd-limited: wait for ACKs; window-limited: silly window avoidance
                    // (RFC 9293 §3.8.6.2.1), the persist timer overrides it
                    if (cwndRoom < Math.min(avail, segment) || len < c.maxSndWnd / 2) {
                        break;
                    }
                } else if (!c.noDelay && c.sndMax != c.sndUna) {
                    break; // Nagle: one small segment in flight at a time
                }
            }
            if (!retransmission && len > 0) {
                c.acks.sending(c.now()); // an answer soon after receiving makes the exchange interactive
            }
            if (!sendData(c.sndNxt, (int) len, withFin)) {
                break;
            }
            int end = c.sndNxt + (int) len + (withFin ? 1 : 0);
            if (retransmission) {
                c.counters.increment(TcpCounter.RETRANSMITS);
                c.rtt.retransmitted(c.sndNxt, c.sndNxt + (int) len + 1);
                if (c.sackOk) {
                    c.rack.retransmitted(c.sndNxt, end, c.now());
                    c.undo.retransmitted(len);
                }
            } else {
                if (!c.timestampsOk && len > 0) {
                    c.rtt.startTiming(c.sndNxt, c.now());
                }
                if (c.sackOk) {
                    c.rack.sentNew(c.sndNxt, end, c.now());
                }
                sentNew = true;
            }
            c.sndNxt = end;
            if (Seq.gt(c.sndNxt, c.sndMax)) {
                c.sndMax = c.sndNxt;
            }
            c.recovery.sent(len);
            if (!c.retransmitTimer.isScheduled()) {
                c.timers.scheduleIn(c.retransmitTimer, c.rtt.rtoNs());
            }
            force = false;
        }
        if ((sentNew && probeAllowanceBytes == 0) || (resent && c.recovery.inRecovery())) {
            armProbe(); // a recovery's retransmissions are a tail too: their ACKs may all be lost
        }
        // persist (RFC 9293 §3.8.6.1): data waits behind a zero window and nothing is in flight
        boolean waiting = Seq.lt(c.sndNxt, dataEnd) || (c.finQueued && Seq.le(c.sndNxt, dataEnd));
        if (waiting && c.sndUna == c.sndMax && !c.retransmitTimer.isScheduled()) {
            c.persisting = true;
            c.timers.scheduleIn(c.retransmitTimer, c.rtt.backedOffNs(c.backoffCount));
        }
    }

    /**
     * Payload bytes one data segment may carry now. {@link #mss} already leaves room for the
     * timestamp option; while out-of-order data waits, every segment also carries SACK blocks
     * (RFC 2018 §4), and those come out of the payload too: the effective send MSS counts
     * every TCP option (RFC 9293 §3.7.1, RFC 6691), or the datagram exceeds the path MTU.
     */
    int maxPayload() {
        int blocks = c.sackOk ? Math.min(c.outOfOrder.count() + (c.dsackPending ? 1 : 0), c.timestampsOk ? 3 : 4) : 0;
        return blocks == 0 ? c.mss : Math.max(1, c.mss - (4 + 8 * blocks)); // NOP NOP kind len + blocks
    }

    /** Sends {@code len} bytes from the send buffer at {@code seq}, with FIN if asked. */
    boolean sendData(int seq, int len, boolean fin) {
        int flags = Tcp.ACK | (fin ? Tcp.FIN : 0);
        if (len > 0 && seq + len == c.sendBufferSeq + c.buffers.send.size()) {
            flags |= Tcp.PSH;
        }
        return emit(seq, flags, len, seq - c.sendBufferSeq);
    }

    void sendSyn(boolean withAck) {
        emit(c.iss, Tcp.SYN | (withAck ? Tcp.ACK : 0), 0, 0);
        c.rtt.synSent(c.now());
    }

    /** An ACK with the current window; the delayed ACK, if pending, is satisfied. */
    void sendAck() {
        if (c.state == TcpState.CLOSED || c.state == TcpState.SYN_SENT) {
            return;
        }
        // SND.MAX, not SND.NXT: after a timeout SND.NXT goes back, and a pure ACK with an old
        // sequence number would fail the peer's acceptability test and be dropped
        emit(c.sndMax, Tcp.ACK, 0, 0);
    }

    /** Keepalive and zero-window probe: an old sequence number draws an ACK (RFC 9293 §3.8.4). */
    private void sendProbe() {
        emit(c.sndUna - 1, Tcp.ACK, 0, 0);
    }

    void sendReset(int seq) {
        emit(seq, Tcp.RST | Tcp.ACK, 0, 0);
        c.counters.increment(TcpCounter.RESETS_SENT);
    }

    private boolean emit(int seq, int flags, int len, int ringOffset) {
        Ipv4Output out = c.layer.output();
        boolean syn = (flags & Tcp.SYN) != 0;
        TcpOptions opt = c.txOptions;
        opt.clear();
        if (syn) {
            opt.mss = c.advertisedMss;
            if (c.config.windowScaling() && (c.state == TcpState.SYN_SENT || c.windowScaleOk)) {
                opt.windowScale = c.rcvScale;
            }
            opt.sackPermitted = c.config.sack() && (c.state == TcpState.SYN_SENT || c.sackOk);
            opt.hasTimestamps = c.config.timestamps() && (c.state == TcpState.SYN_SENT || c.timestampsOk);
        } else {
            opt.hasTimestamps = c.timestampsOk;
        }
        if (opt.hasTimestamps) {
            opt.tsVal = c.tsNow();
            opt.tsEcr = (flags & Tcp.ACK) != 0 ? c.tsRecent : 0;
        }
        if (!syn && c.sackOk && (c.outOfOrder.count() > 0 || c.dsackPending) && (flags & Tcp.RST) == 0) {
            int max = c.timestampsOk ? 3 : 4;
            if (c.dsackPending) {
                opt.addSackBlock(c.dsackLeft, c.dsackRight); // RFC 2883 §4: the D-SACK block first
                c.dsackPending = false;
                c.counters.increment(TcpCounter.DSACKS_SENT);
                max--;
            }
            int n = c.outOfOrder.sackBlocks(c.sackLeft, c.sackRight, max);
            for (int i = 0; i < n; i++) {
                opt.addSackBlock(c.sackLeft[i], c.sackRight[i]);
            }
        }
        int optLen = opt.encodedLength();
        int hl = Tcp.MIN_HEADER_LENGTH + optLen;
        PacketBuffer b = out.allocate(c.layer.owner(), hl + len);
        if (b == null) {
            c.counters.increment(TcpCounter.DROP_NO_BUFFER);
            return false;
        }
        MemorySegment s = b.segment();
        int off = b.offset();
        opt.write(s, off + Tcp.MIN_HEADER_LENGTH);
        if (len > 0) {
            c.buffers.send.get(ringOffset, s, off + hl, len);
        }
        int windowField = 0;
        boolean hasAck = (flags & Tcp.ACK) != 0;
        if ((flags & Tcp.RST) == 0) {
            windowField = c.rcvWindow.advertise(c.buffers.receive, c.rcvNxt, c.rcvScale, c.advertisedMss, syn);
        }
        Tcp.writeHeader(s, off, c.localPort, c.remotePort, seq, hasAck ? c.rcvNxt : 0, hl, flags, windowField, 0);
        Tcp.writeChecksum(s, off, hl + len, c.localAddress, c.remoteAddress);
        b.setRange(off, hl + len);
        out.send(b, c.layer.owner(), c.localAddress, c.remoteAddress, Ipv4.PROTO_TCP, c.tos, true);
        c.counters.increment(TcpCounter.SEGMENTS_SENT);
        if (len > 0) {
            c.counters.increment(TcpCounter.DATA_SEGMENTS_SENT);
            if (c.recovery.inRecovery()) {
                c.prr.sent(len); // RFC 6937 prr_out
            }
        }
        if (hasAck) {
            c.lastAckSent = c.rcvNxt;
            c.acks.acked();
            c.ackPending = false;
            if (c.delayedAckTimer.isScheduled()) {
                c.timers.cancel(c.delayedAckTimer);
            }
        }
        return true;
    }
}
