package io.slipstream.tcp;

import io.slipstream.wire.Tcp;
import io.slipstream.wire.TcpOptions;
import java.lang.foreign.MemorySegment;

/**
 * The arrival side of one connection (RFC 9293 §3.10.7): the SYN-SENT and synchronized-state
 * segment processing, with RFC 5961 and RFC 7323 checks, ACK processing and loss detection
 * (RFC 5681, 6582, 6675), in-order and out-of-order data, FIN handling. The state it works on
 * is its {@link TcpConnection}'s; kept apart so that each file reads as one concern.
 *
 * <p>Runs under the stack lock, as its connection.
 */
final class TcpInput {
    /** RFC 7323 §5.5: timestamps older than 24 days are no longer compared. */
    private static final long PAWS_IDLE_NANOS = 24L * 24 * 3600 * 1_000_000_000L;

    private final TcpConnection c;

    TcpInput(TcpConnection c) {
        this.c = c;
    }

    /** RFC 9293 §3.10.7.3. */
    void synSentArrives(Segment seg) {
        boolean hasAck = (seg.flags & Tcp.ACK) != 0;
        if (hasAck && (Seq.le(seg.ack, c.iss) || Seq.gt(seg.ack, c.sndMax))) {
            if ((seg.flags & Tcp.RST) == 0) {
                c.layer.sendReset(c.localAddress, c.localPort, c.remoteAddress, c.remotePort, seg.ack, 0, false);
            }
            c.counters.increment(TcpCounter.DROP_BAD_ACK);
            return;
        }
        if ((seg.flags & Tcp.RST) != 0) {
            if (hasAck) {
                c.counters.increment(TcpCounter.RESETS_RECEIVED);
                c.fail(TcpError.REFUSED);
            } else {
                c.counters.increment(TcpCounter.DROP_OUT_OF_WINDOW_RST);
            }
            return;
        }
        if ((seg.flags & Tcp.SYN) == 0) {
            c.counters.increment(TcpCounter.DROP_UNACCEPTABLE);
            return;
        }
        c.irs = seg.seq;
        c.rcvNxt = seg.seq + 1;
        c.rcvWindow.rightEdge(c.rcvNxt);
        c.negotiate(seg.options, false);
        if (seg.options.hasTimestamps && c.timestampsOk) {
            c.tsRecent = seg.options.tsVal;
            c.tsRecentNanos = c.now();
        }
        c.lastReceiveNanos = c.now();
        if (hasAck) {
            c.sndUna = seg.ack;
            c.sndWnd = seg.window; // unscaled in a SYN
            c.maxSndWnd = c.sndWnd;
            c.sndWl1 = seg.seq;
            c.sndWl2 = seg.ack;
            rttSample(seg.options);
            c.rtt.handshakeDone(c.now(), c.backoffCount);
            c.backoffCount = 0;
            c.timers.cancel(c.retransmitTimer);
            c.setState(TcpState.ESTABLISHED);
            c.armKeepAlive();
            // data on the SYN-ACK is unusual but legal; take it like any other
            if (seg.dataLength > 0) {
                acceptData(seg.data, seg.dataOffset, seg.dataLength, seg.seq + 1, c.now());
            }
            c.out.sendAck();
            if (c.finQueued) {
                c.setState(TcpState.FIN_WAIT_1);
            }
            c.out.output(false);
        } else {
            // simultaneous open (RFC 9293 §3.5, figure 8)
            c.setState(TcpState.SYN_RECEIVED);
            c.out.sendSyn(true);
        }
    }

    /** RFC 9293 §3.10.7.4, with RFC 5961 and RFC 7323 checks. */
    void synchronizedArrives(Segment seg) {
        // trimmed to the window below
        int seq = seg.seq;
        long dataOff = seg.dataOffset;
        int dataLen = seg.dataLength;
        boolean rst = (seg.flags & Tcp.RST) != 0;
        boolean syn = (seg.flags & Tcp.SYN) != 0;
        boolean fin = (seg.flags & Tcp.FIN) != 0;
        long nowNanos = c.now();
        // whether this segment's data went in order, whole: only its ACK may wait for the batch's end
        boolean inOrder = false;
        // RFC 7323 §5.3 PAWS, before the sequence check
        if (c.timestampsOk && seg.options.hasTimestamps && !rst && Seq.lt(seg.options.tsVal, c.tsRecent)
                && nowNanos - c.tsRecentNanos < PAWS_IDLE_NANOS) {
            c.counters.increment(TcpCounter.DROP_PAWS);
            if (seg.dataLength > 0 && Seq.lt(seg.seq, c.rcvNxt)) {
                // an old copy of data already here (a reordered original after its
                // retransmission): reported as a duplicate, as Linux's tcp_send_dupack does
                duplicateReceived(seg.seq, Seq.min(seg.seq + seg.dataLength, c.rcvNxt));
            }
            c.out.sendAck();
            return;
        }
        if (c.state == TcpState.SYN_RECEIVED && (seg.flags & (Tcp.SYN | Tcp.ACK | Tcp.RST)) == Tcp.SYN
                && seq == c.irs) {
            c.out.sendSyn(true); // our SYN-ACK was lost and the peer repeats its SYN
            return;
        }
        int segLen = dataLen + (syn ? 1 : 0) + (fin ? 1 : 0);
        int rcvWnd = Math.max(0, c.rcvWindow.rightEdge() - c.rcvNxt);
        if (!acceptable(seq, segLen, rcvWnd)) {
            c.counters.increment(TcpCounter.DROP_UNACCEPTABLE);
            if (!rst) {
                if (dataLen > 0 && Seq.le(seq + dataLen, c.rcvNxt)) {
                    duplicateReceived(seq, seq + dataLen); // all of it arrived before
                }
                c.out.sendAck();
            }
            return;
        }
        // RFC 5961 §3.2: only an exact RCV.NXT match resets; others in window get a challenge
        if (rst) {
            if (seq == c.rcvNxt) {
                c.counters.increment(TcpCounter.RESETS_RECEIVED);
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
            c.counters.increment(TcpCounter.DROP_BAD_ACK);
            return;
        }
        c.lastReceiveNanos = nowNanos;
        c.keepAliveProbes = 0;
        if (c.state == TcpState.SYN_RECEIVED) {
            if (Seq.gt(seg.ack, c.sndUna) && Seq.le(seg.ack, c.sndMax)) {
                if (c.parent != null && c.parent.acceptQueueFull()) {
                    // Linux with tcp_abort_on_overflow=0: no room to accept it, so the ACK is
                    // dropped, never answered with a RST; the SYN-ACK's retransmission or the
                    // peer's next segment completes the handshake once the application accepts.
                    c.counters.increment(TcpCounter.DROP_LISTEN_OVERFLOW);
                    return;
                }
                c.sndWnd = (long) seg.window << c.sndScale;
                c.maxSndWnd = Math.max(c.maxSndWnd, c.sndWnd);
                c.sndWl1 = seq;
                c.sndWl2 = seg.ack;
                c.sndUna = seg.ack;
                c.sndNxt = Seq.max(c.sndNxt, seg.ack);
                rttSample(seg.options);
                c.rtt.handshakeDone(nowNanos, c.backoffCount);
                c.backoffCount = 0;
                c.timers.cancel(c.retransmitTimer);
                c.takeBuffers(); // a passive open's rings: not while it was half-open
                c.setState(c.finQueued ? TcpState.FIN_WAIT_1 : TcpState.ESTABLISHED);
                c.armKeepAlive();
                if (c.parent != null) {
                    c.parent.established(c);
                }
            } else {
                c.layer.sendReset(c.localAddress, c.localPort, c.remoteAddress, c.remotePort, seg.ack, 0, false);
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
        if (c.timestampsOk && o.hasTimestamps && Seq.ge(o.tsVal, c.tsRecent) && Seq.le(seq, c.lastAckSent)) {
            c.tsRecent = seg.options.tsVal;
            c.tsRecentNanos = nowNanos;
        }
        processAck(seg, nowNanos);
        if (c.state == TcpState.CLOSED) {
            return;
        }
        // urgent pointer (RFC 9293 §3.8.5): noted; the bytes stay in line in the stream
        if ((seg.flags & Tcp.URG) != 0 && c.state.receivesData()) {
            int up = seq + seg.urgent;
            if (!c.urgentSeen || Seq.gt(up, c.rcvUp)) {
                c.rcvUp = up;
            }
            c.urgentSeen = true;
        }
        // trim to the window (RFC 9293 §3.10.7.4 "first")
        if (Seq.lt(seq, c.rcvNxt)) {
            int d = c.rcvNxt - seq;
            if (dataLen > 0) {
                duplicateReceived(seq, seq + Math.min(d, dataLen)); // the part below RCV.NXT came before
            }
            if (d > dataLen) {
                fin = false; // all old, and its FIN (before RCV.NXT) a duplicate
                dataLen = 0;
            } else {
                dataOff += d;
                dataLen -= d;
            }
            seq = c.rcvNxt;
        }
        if (dataLen > 0 && c.closedByApp && c.state.receivesData()) {
            // RFC 1122 §4.2.2.13, RFC 2525 §2.17: nobody will read new data after close(); a RST
            // at the peer's RCV.NXT (our SEG.ACK) tells it the data was lost, as Linux does
            c.counters.increment(TcpCounter.DROP_DATA_AFTER_CLOSE);
            c.out.sendReset(seg.ack);
            c.toClosed();
            return;
        }
        if (dataLen > 0 && c.state.receivesData()) {
            int room = Math.min(c.rcvWindow.rightEdge() - seq, c.buffers.receive.free() - (seq - c.rcvNxt));
            inOrder = seq == c.rcvNxt && dataLen <= room;
            if (dataLen > room) {
                // beyond the window (a zero-window probe with a new byte): not acceptable, so
                // answered with an ACK (§3.10.7.4), or the sender's probes go unanswered
                c.counters.increment(TcpCounter.DROP_BEYOND_WINDOW);
                c.ackPending = true;
                dataLen = Math.max(room, 0);
                fin = false;
            }
            if (dataLen > 0) {
                acceptData(seg.data, dataOff, dataLen, seq, nowNanos);
            }
        } else if (dataLen > 0) {
            dataLen = 0; // data after the peer's FIN cannot be accepted
        }
        if (fin && c.state.ordinal() >= TcpState.SYN_RECEIVED.ordinal()) {
            int finSeq = seq + dataLen;
            if (finSeq == c.rcvNxt) {
                finArrives();
            } else if (Seq.gt(finSeq, c.rcvNxt)) {
                c.pendingFin = true;
                c.pendingFinSeq = finSeq;
                c.ackPending = true;
            }
        }
        c.out.output(false); // data segments carry the ACK
        if (c.ackPending && !(inOrder && c.outOfOrder.count() == 0 && !c.dsackPending && c.layer.heldAcks.hold(c))) {
            c.out.sendAck();
        }
    }

    /** The acceptability test of RFC 9293 §3.10.7.4 (table 6). */
    private boolean acceptable(int seq, int segLen, int rcvWnd) {
        if (segLen == 0) {
            // RCV.NXT =< SEG.SEQ =< RCV.NXT+RCV.WND: the right edge is taken too, as Linux's
            // tcp_sequence takes it. A peer whose data in flight fills our window exactly and is
            // lost sends its ACKs from that edge (its SND.NXT); refusing them refuses the window
            // updates they carry, and two such peers probed each other forever.
            return Seq.le(c.rcvNxt, seq) && Seq.le(seq, c.rcvNxt + rcvWnd);
        }
        if (rcvWnd == 0) {
            // RFC 9293: with a zero window still take ACKs, URGs and RSTs at RCV.NXT
            return seq == c.rcvNxt;
        }
        return Seq.inRange(seq, c.rcvNxt, c.rcvNxt + rcvWnd)
                || Seq.inRange(seq + segLen - 1, c.rcvNxt, c.rcvNxt + rcvWnd);
    }

    /**
     * RFC 9293 §3.10.7.4 "fifth" with RFC 5961 §5.2: an ACK of something not yet sent, or too
     * old to be genuine, drops the segment (answered with an ACK or a challenge ACK).
     */
    private boolean ackAcceptable(int ack) {
        if (Seq.gt(ack, c.sndMax)) {
            c.counters.increment(TcpCounter.DROP_BAD_ACK);
            c.out.sendAck(); // RFC 9293: an ACK for something not yet sent
            return false;
        }
        // RFC 5961 §5.2: too old an ACK is dropped (with an ACK) so blind injection fails
        if (Seq.lt(ack, c.sndUna - (int) Math.min(c.maxSndWnd, Integer.MAX_VALUE))) {
            c.counters.increment(TcpCounter.DROP_BAD_ACK);
            challengeAck();
            return false;
        }
        return true;
    }

    /** Processes an acceptable ACK: acknowledged data, duplicate ACKs, SACK, the send window. */
    private void processAck(Segment seg, long nowNanos) {
        long newWnd = (long) seg.window << c.sndScale;
        boolean duplicate = seg.ack == c.sndUna && seg.dataLength == 0 && !seg.has(Tcp.FIN) && newWnd == c.sndWnd
                && c.sndMax != c.sndUna;
        boolean advanced = Seq.gt(seg.ack, c.sndUna);
        int unaBefore = c.sndUna;
        long sackedBefore = c.sackOk ? c.rack.sackedBytes() : 0;
        boolean dsack = false;
        if (c.sackOk) {
            c.scoreboard.update(seg.options, seg.ack, c.sndMax);
            sacked(seg.options, seg.ack, nowNanos);
            dsack = dsack(seg.options, seg.ack);
        }
        if (advanced) {
            newDataAcked(seg.ack, seg.options, dsack, nowNanos);
        } else if (duplicate) {
            duplicateAck(nowNanos);
        }
        if (c.sackOk) {
            if (dsack) {
                duplicateReported(seg.options);
            }
            spuriousTimeoutCheck(seg.ack);
            tailLossProbeAcked(seg.ack, dsack, nowNanos);
            checkSackLoss();
            detectLosses(nowNanos);
            if (c.recovery.inRecovery() && c.out.racking()) {
                // RFC 6937 DeliveredData: the change in SND.UNA and in SACKed bytes
                long delivered = ((c.sndUna - unaBefore) & 0xFFFF_FFFFL) + c.rack.sackedBytes() - sackedBefore;
                long pipe = c.out.pipe();
                c.cc.setCwnd(pipe + c.prr.onAck(Math.max(delivered, 0), pipe, c.cc.ssthresh(), c.mss));
            }
            if (advanced || c.recovery.inRecovery()) {
                c.out.armProbe();
            }
        }
        // RFC 9293 §3.10.7.4: SND.WL1 < SEG.SEQ, or SND.WL1 = SEG.SEQ and SND.WL2 ≤ SEG.ACK; equal
        // values update too, so a pure ACK closing the window is heeded. A window that shrinks
        // under data in flight is coped with (§3.8.6): probed, see retransmitTimeout
        if (Seq.lt(c.sndWl1, seg.seq) || (c.sndWl1 == seg.seq && Seq.le(c.sndWl2, seg.ack))) {
            boolean opened = newWnd > c.sndWnd;
            c.sndWnd = newWnd;
            c.maxSndWnd = Math.max(c.maxSndWnd, c.sndWnd);
            c.sndWl1 = seg.seq;
            c.sndWl2 = seg.ack;
            if (opened && c.persisting && c.sndWnd > 0) {
                c.persisting = false;
                c.backoffCount = 0;
                if (c.sndUna == c.sndMax) {
                    c.timers.cancel(c.retransmitTimer);
                } else {
                    // the window had shrunk to zero under data in flight and its RTO expired
                    // (see retransmitTimeout): the retransmission it deferred goes now
                    c.out.retransmitAfterTimeout();
                }
            }
        } else if (Seq.gt(c.sndUna, c.sndWl2)) {
            // the window is an offset from the ACK that carried it (SND.WL2); an older segment's
            // ACK moved SND.UNA without a window, so keep the same right edge
            c.sndWnd = Math.max(0, c.sndWnd - ((c.sndUna - c.sndWl2) & 0xFFFF_FFFFL));
            c.sndWl2 = c.sndUna;
        }
    }

    private void newDataAcked(int ack, TcpOptions o, boolean dsack, long nowNanos) {
        int acked = ack - c.sndUna;
        // bytes of data (not SYN/FIN) now acknowledged leave the send buffer
        int dataEnd = c.sendBufferSeq + c.buffers.send.size();
        int dataAcked = Seq.min(ack, dataEnd) - c.sendBufferSeq;
        if (dataAcked > 0) {
            c.buffers.send.consume(dataAcked);
            c.sendBufferSeq += dataAcked;
        }
        c.sndUna = ack;
        if (Seq.lt(c.sndNxt, ack)) {
            c.sndNxt = ack;
        }
        c.scoreboard.cumulativeAck(ack);
        if (c.sackOk) {
            c.rack.cumulativeAck(ack, nowNanos);
        }
        // RTT: timestamps (RFC 7323 §4) or one timed segment (RFC 6298 §3, Karn)
        // An ACK with a D-SACK answers a duplicate, which did not update the peer's TS.Recent
        // (RFC 7323 §4.3, R2 before R3): its echo is an older segment's, and its sample would
        // span whole RTOs (docs/TCP.md, known limits). No sample then.
        if (dsack) {
            c.rtt.stopTiming();
        } else if (!rttSample(o)) {
            c.rtt.acked(ack, nowNanos);
        }
        c.backoffCount = 0;
        c.persisting = false;
        long flight = (c.sndMax - c.sndUna) & 0xFFFF_FFFFL;
        boolean wasInRecovery = c.recovery.inRecovery();
        if (c.recovery.newAck(ack)) {
            c.cc.onRecoveryEnd(flight, c.mss);
            c.rack.recoveryEnded();
        } else if (wasInRecovery) {
            if (!c.sackOk) {
                // RFC 6582 §3.2 step 5: partial ACK, resend the next hole and deflate
                c.out.sendData(c.sndUna, Math.min(c.out.maxPayload(), Seq.min(dataEnd, c.sndMax) - c.sndUna), false);
                c.counters.increment(TcpCounter.RETRANSMITS);
                c.cc.setCwnd(c.cc.cwnd() - acked + c.mss);
            }
        } else {
            c.cc.onAck(acked, c.mss, nowNanos, c.rtt.srttNs());
        }
        if (c.sndUna == c.sndMax) {
            c.timers.cancel(c.retransmitTimer);
        } else {
            c.timers.scheduleIn(c.retransmitTimer, c.rtt.rtoNs()); // RFC 6298 §5.3
        }
        // our FIN acknowledged?
        if (c.finQueued && c.sndUna == dataEnd + 1) {
            finAcked();
        }
    }

    private void duplicateAck(long nowNanos) {
        switch (c.recovery.duplicateAck(c.sndUna, c.mss)) {
            case INFLATE -> {
                if (!c.sackOk) {
                    c.cc.setCwnd(c.cc.cwnd() + c.mss); // RFC 5681 §3.2 step 4
                }
            }
            case FAST_RETRANSMIT -> {
                if (!c.sackOk) {
                    enterRecovery(nowNanos);
                } else if (!c.rack.reorderingSeen()) {
                    c.rack.markFirstLost(); // DupThresh, as Linux keeps it beside RACK; recovery follows
                }
            }
            case NONE -> { }
        }
    }

    /**
     * RFC 6675 §4: IsLost(SND.UNA), DupThresh segments' worth SACKed above it, marks it lost
     * before RACK's timer would, unless reordering was seen (then RACK alone decides).
     */
    private void checkSackLoss() {
        if (c.sndUna != c.sndMax && c.recovery.mayEnter(c.sndUna) && !c.rack.reorderingSeen()
                && c.scoreboard.isLost(c.sndUna, c.sndMax, c.mss)) {
            c.rack.markFirstLost();
        }
    }

    /** The SACK blocks of an ACK reach RACK; RFC 2018: blocks outside [ack, SND.MAX) are ignored. */
    private void sacked(TcpOptions o, int ack, long nowNanos) {
        for (int i = 0; i < o.sackBlockCount; i++) {
            int l = o.sackLeft[i];
            int r = o.sackRight[i];
            if (Seq.lt(l, r) && Seq.ge(l, ack) && Seq.le(r, c.sndMax)) {
                c.rack.sacked(l, r, nowNanos);
            }
        }
    }

    /**
     * RFC 2883 §4: the first SACK block reports a duplicate (a D-SACK) when it lies below the
     * cumulative ACK or inside the second block.
     */
    static boolean dsack(TcpOptions o, int ack) {
        if (o.sackBlockCount == 0 || !Seq.lt(o.sackLeft[0], o.sackRight[0])) {
            return false;
        }
        return Seq.le(o.sackRight[0], ack) || (o.sackBlockCount > 1 && Seq.ge(o.sackLeft[0], o.sackLeft[1])
                && Seq.le(o.sackRight[0], o.sackRight[1]));
    }

    /**
     * A D-SACK (RFC 2883): the peer got something twice. RACK widens its reordering window
     * (RFC 8985 §6.2 step 4); when the duplicates account for every byte retransmitted since
     * the window was last reduced, the reduction was needless and is undone (RFC 3708).
     */
    private void duplicateReported(TcpOptions o) {
        c.counters.increment(TcpCounter.DSACKS_RECEIVED);
        c.rack.dsackReceived();
        if (c.undo.duplicateReported((o.sackRight[0] - o.sackLeft[0]) & 0xFFFF_FFFFL)) {
            undoCongestionResponse();
        }
    }

    /**
     * F-RTO (RFC 5682 §3.1, the SACK version, as Linux applies it): after a timeout, an ACK or
     * SACK of data sent before it and never retransmitted shows not everything was lost, so
     * the timeout was spurious: the window comes back and nothing more is deemed lost. Once
     * everything outstanding at the timeout is acknowledged without that, it was real.
     */
    private void spuriousTimeoutCheck(int ack) {
        if (!c.rack.watchingOriginals()) {
            return;
        }
        if (c.rack.takeOriginalDelivered()) {
            c.counters.increment(TcpCounter.SPURIOUS_TIMEOUTS);
            c.rack.stopWatchingOriginals();
            c.rack.clearLost();
            c.recovery.timeoutUndone(c.sndUna);
            undoCongestionResponse();
            c.backoffCount = 0; // as Linux: the RTO's backoff goes with it
            if (c.sndUna != c.sndMax) {
                c.timers.scheduleIn(c.retransmitTimer, c.rtt.rtoNs());
            }
        } else if (Seq.ge(ack, c.rack.originalsEnd())) {
            c.rack.stopWatchingOriginals();
        }
    }

    private void undoCongestionResponse() {
        if (c.undo.armed()) {
            c.counters.increment(TcpCounter.CONGESTION_UNDOS);
            c.cc.undo(c.undo.priorCwndBytes(), c.undo.priorSsthreshBytes());
            c.undo.undone();
        }
    }

    /**
     * RFC 8985 §6.2: RACK marks what is lost; the first loss outside a recovery starts one (RFC
     * 6675 §5), and a segment whose reordering window has not run out yet arms the timer (§6.3).
     */
    void detectLosses(long nowNanos) {
        if (!c.out.racking()) {
            return;
        }
        boolean recovering = !c.recovery.mayEnter(c.sndUna);
        long waitNs = c.rack.detectLoss(nowNanos, c.rack.reoWndNs(recovering, c.rtt.srttNs()));
        if (waitNs > 0) {
            c.timers.scheduleIn(c.reorderTimer, waitNs);
        } else if (c.reorderTimer.isScheduled()) {
            c.timers.cancel(c.reorderTimer);
        }
        if (c.rack.lostBytes() > 0 && c.recovery.mayEnter(c.sndUna)) {
            enterRecovery(nowNanos);
        }
    }

    /**
     * RFC 8985 §7.4: the ACK after a probe. A retransmitted probe acknowledged with no D-SACK
     * repaired a loss: the congestion window is reduced as for one (it ends at once, with no
     * recovery episode).
     */
    private void tailLossProbeAcked(int ack, boolean dsack, long nowNanos) {
        boolean dsackForProbe = dsack && c.tlp.retransmission() && Seq.le(c.tlp.endSeq(), ack);
        if (c.tlp.acked(ack, dsackForProbe)) {
            c.counters.increment(TcpCounter.TAIL_LOSS_PROBE_RECOVERIES);
            long flight = (c.sndMax - c.sndUna) & 0xFFFF_FFFFL;
            c.cc.onFastRecovery(flight, c.mss, nowNanos);
        }
    }

    /**
     * RFC 6582 §3.2 step 2 / RFC 6675 §5: fast retransmit and enter recovery. With SACK, the
     * first segment RACK deems lost goes at once (the fast retransmit); the rest as the window
     * allows ({@link TcpOutput#output}).
     */
    private void enterRecovery(long nowNanos) {
        long flight = (c.sndMax - c.sndUna) & 0xFFFF_FFFFL;
        c.undo.begin(c.cc.cwnd(), c.cc.ssthresh());
        c.recovery.enter(c.sndMax);
        c.cc.onFastRecovery(flight, c.mss, nowNanos);
        c.counters.increment(TcpCounter.FAST_RETRANSMITS);
        c.rtt.stopTiming();
        c.tlp.cancel();
        if (c.probeTimer.isScheduled()) {
            c.timers.cancel(c.probeTimer);
        }
        if (c.sackOk) {
            c.counters.increment(TcpCounter.SACK_RECOVERIES);
            c.prr.start(flight);
            c.out.retransmitFirstLost();
            c.timers.scheduleIn(c.retransmitTimer, c.rtt.rtoNs());
            c.out.armProbe(); // the ACKs after the retransmission may all be lost
            return;
        }
        c.cc.setCwnd(c.cc.ssthresh() + 3L * c.mss);
        int dataEnd = c.sendBufferSeq + c.buffers.send.size();
        // a retransmission never reaches past what was sent (SND.MAX)
        int len = Math.min(c.out.maxPayload(), Seq.max(Seq.min(dataEnd, c.sndMax) - c.sndUna, 0));
        boolean withFin = c.finQueued && c.sndUna + len == dataEnd && Seq.gt(c.sndMax, dataEnd);
        if (len > 0 || withFin) {
            c.out.sendData(c.sndUna, len, withFin);
            c.counters.increment(TcpCounter.RETRANSMITS);
        }
        c.timers.scheduleIn(c.retransmitTimer, c.rtt.rtoNs());
    }

    private void finAcked() {
        switch (c.state) {
            case FIN_WAIT_1 -> {
                c.setState(TcpState.FIN_WAIT_2);
                if (c.closedByApp && c.lingerSeconds < 0) {
                    // an orphan cannot wait forever for the peer's FIN
                    c.timers.scheduleIn(c.closeTimer, 2 * c.config.mslMs() * 1_000_000L);
                }
            }
            case CLOSING -> enterTimeWait();
            case LAST_ACK -> c.toClosed();
            default -> { }
        }
    }

    private void finArrives() {
        c.rcvNxt++;
        c.finReceived = true;
        c.pendingFin = false;
        c.ackPending = true;
        switch (c.state) {
            case SYN_RECEIVED, ESTABLISHED -> c.setState(TcpState.CLOSE_WAIT);
            case FIN_WAIT_1 -> {
                if (c.finQueued && c.sndUna == c.sendBufferSeq + c.buffers.send.size() + 1) {
                    enterTimeWait();
                } else {
                    c.setState(TcpState.CLOSING);
                }
            }
            case FIN_WAIT_2 -> enterTimeWait();
            case TIME_WAIT -> c.timers.scheduleIn(c.closeTimer, 2 * c.config.mslMs() * 1_000_000L);
            default -> { }
        }
    }

    private void enterTimeWait() {
        c.setState(TcpState.TIME_WAIT);
        if (c.closedByApp) {
            c.release(); // nothing more to read or send: the 2·MSL wait keeps only the state
        }
        c.timers.cancel(c.retransmitTimer);
        c.timers.cancel(c.reorderTimer);
        c.timers.cancel(c.probeTimer);
        c.timers.cancel(c.keepAliveTimer);
        c.timers.scheduleIn(c.closeTimer, 2 * c.config.mslMs() * 1_000_000L);
        c.ackPending = true;
    }

    /**
     * In-window data at {@code seq} (≥ RCV.NXT, fits the buffer): in order or out of order.
     * The in-order case is the per-segment path and stays small enough for the JIT to inline
     * (under 325 bytecodes); the rarer cases are methods of their own.
     */
    private void acceptData(MemorySegment s, long dataOff, int dataLen, int seq, long nowNanos) {
        if (c.inputShutdown) {
            discardData(dataLen, seq, nowNanos);
            return;
        }
        if (seq != c.rcvNxt) {
            acceptOutOfOrder(s, dataOff, dataLen, seq);
            return;
        }
        c.buffers.receive.put(c.buffers.receive.size(), s, dataOff, dataLen);
        c.buffers.receive.commit(dataLen);
        c.rcvNxt += dataLen;
        boolean filledHole = c.outOfOrder.count() > 0;
        // merge out-of-order data that is now contiguous
        c.outOfOrder.removeBelow(c.rcvNxt);
        int r = c.outOfOrder.takeFrom(c.rcvNxt);
        while (r != c.rcvNxt) {
            c.buffers.receive.commit(r - c.rcvNxt);
            c.rcvNxt = r;
            r = c.outOfOrder.takeFrom(c.rcvNxt);
        }
        if (c.pendingFin && c.rcvNxt == c.pendingFinSeq) {
            finArrives();
        }
        scheduleAck(dataLen, filledHole, nowNanos); // RFC 5681 §4.2: ACK at once when a hole fills
    }

    /** Data after shutdownInput: nobody reads it, but in-order data is acknowledged. */
    private void discardData(int dataLen, int seq, long nowNanos) {
        if (seq == c.rcvNxt) {
            c.rcvNxt += dataLen;
            c.rcvWindow.atLeast(c.rcvNxt);
            scheduleAck(dataLen, false, nowNanos);
        }
    }

    /**
     * RFC 2883 §4: data received twice is reported in the first SACK block of the next segment
     * (a D-SACK), so the sender can tell a needless retransmission; the ACK goes at once.
     */
    private void duplicateReceived(int left, int right) {
        if (c.sackOk) {
            c.dsackPending = true;
            c.dsackLeft = left;
            c.dsackRight = right;
            c.ackPending = true;
        }
    }

    /** Data above RCV.NXT: kept in its place in the buffer, and ACKed at once (RFC 5681 §4.2: a dup ACK). */
    private void acceptOutOfOrder(MemorySegment s, long dataOff, int dataLen, int seq) {
        if (c.outOfOrder.covers(seq, seq + dataLen)) {
            c.counters.increment(TcpCounter.DUPLICATE_SEGMENTS);
            duplicateReceived(seq, seq + dataLen);
        } else if (c.outOfOrder.add(seq, seq + dataLen)) {
            c.buffers.receive.put(c.buffers.receive.size() + (seq - c.rcvNxt), s, dataOff, dataLen);
            c.counters.increment(TcpCounter.OUT_OF_ORDER_SEGMENTS);
        } else {
            c.counters.increment(TcpCounter.DROP_OUT_OF_ORDER_FULL);
        }
        c.ackPending = true;
    }

    /**
     * In-order data: ACK now or start the delayed-ACK timer, as {@link DelayedAcks} decides.
     * {@code nowNanos} is the arrival's own reading of the clock, not read again.
     */
    private void scheduleAck(int bytes, boolean now, long nowNanos) {
        if (c.acks.received(bytes, c.advertisedMss, nowNanos) || now) {
            c.ackPending = true;
        } else if (!c.delayedAckTimer.isScheduled()) {
            c.timers.schedule(c.delayedAckTimer, nowNanos + c.acks.timeoutNanos());
        }
    }

    private void resetReceived() {
        if (c.state == TcpState.SYN_RECEIVED) {
            if (c.parent != null) {
                // RFC 9293 §3.10.7.4: a passive open returns to LISTEN; the listener forgets it
                c.toClosed();
            } else {
                c.fail(TcpError.REFUSED); // an active open met a reset during simultaneous open
            }
            return;
        }
        switch (c.state) {
            case CLOSING, LAST_ACK, TIME_WAIT -> c.toClosed();
            default -> c.fail(TcpError.RESET);
        }
    }

    private void challengeAck() {
        if (c.layer.allowChallengeAck()) {
            c.counters.increment(TcpCounter.CHALLENGE_ACKS);
            c.out.sendAck();
        } else {
            c.counters.increment(TcpCounter.CHALLENGE_ACKS_THROTTLED);
        }
    }

    /** An RTT sample from the echoed timestamp (RFC 7323 §4.1); false if none. */
    private boolean rttSample(TcpOptions o) {
        if (c.timestampsOk && o.hasTimestamps && o.tsEcr != 0) {
            int nowTs = c.tsNow();
            int rttMs = nowTs - o.tsEcr;
            if (rttMs >= 0 && rttMs < 3_600_000) {
                c.rtt.sample(Math.max(rttMs, 0) * 1_000_000L + 1);
                return true;
            }
        }
        return false;
    }
}
