package io.slipstream.tcp;

import io.slipstream.testing.TcpTestNetwork;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * The invariants every property checks after every step: sequence-space ordering
 * (SND.UNA ≤ SND.NXT ≤ SND.MAX, and new data only up to SND.UNA + SND.WND with the slack
 * RFC 7323 scaling allows), a timer behind anything in flight, RCV.NXT never moving backwards,
 * legal state transitions, bounded memory, no internal errors.
 */
final class TcpInvariants {
    private final TcpTestNetwork net;
    private final List<String> violations = new ArrayList<>();
    private final Map<TcpConnection, Integer> lastRcvNxt = new IdentityHashMap<>();
    private final List<TcpConnection> tracked = new ArrayList<>();
    private final Map<TcpConnection, int[]> sent = new IdentityHashMap<>();

    TcpInvariants(TcpTestNetwork net) {
        this.net = net;
        TcpConnection.StateObserver obs = (c, from, to) -> {
            if (!from.canMoveTo(to)) {
                violations.add("illegal transition " + from + " -> " + to + " of " + c);
            }
            if (!tracked.contains(c)) {
                tracked.add(c);
            }
        };
        net.a.layer.stateObserver(obs);
        net.b.layer.stateObserver(obs);
        net.afterEachEvent = this::check;
    }

    /** Checks every connection seen so far; throws with the first violation. */
    void check() {
        for (TcpConnection c : tracked) {
            checkConnection(c);
        }
        if (net.a.layer.counters().get(TcpCounter.DROP_INTERNAL_ERROR)
                + net.b.layer.counters().get(TcpCounter.DROP_INTERNAL_ERROR) > 0) {
            RuntimeException e = net.a.layer.lastInternalError() != null ? net.a.layer.lastInternalError()
                    : net.b.layer.lastInternalError();
            throw new AssertionError("exception inside the TCP layer", e);
        }
        if (net.buffersOutstanding() != 0) {
            violations.add("packet buffers leaked: " + net.buffersOutstanding());
        }
        if (!violations.isEmpty()) {
            throw new AssertionError(String.join("\n", violations));
        }
    }

    private void checkConnection(TcpConnection c) {
        TcpState s = c.state();
        if (s == TcpState.CLOSED || s == TcpState.SYN_SENT || s == TcpState.LISTEN) {
            return;
        }
        int una = c.sndUna();
        int nxt = c.sndNxt();
        int max = c.sndMax();
        if (!Seq.le(una, nxt) || !Seq.le(nxt, max)) {
            violations.add("SND.UNA <= SND.NXT <= SND.MAX broken: " + una + " " + nxt + " " + max + " " + c);
        }
        checkWindow(c, s, una, max);
        if (una != max && s != TcpState.TIME_WAIT && !c.retransmitTimerArmed()) {
            // data or a FIN in flight always has a timer that resends or probes it
            violations.add("nothing in flight is timed: " + c + " " + c.debugState());
        }
        Integer prev = lastRcvNxt.put(c, c.rcvNxt());
        if (prev != null && !Seq.ge(c.rcvNxt(), prev)) {
            violations.add("RCV.NXT moved back from " + prev + " to " + c.rcvNxt() + " " + c);
        }
        if (c.available() > c.receiveBufferSize() || c.unacknowledged() > c.sendBufferSize()) {
            violations.add("buffers exceed their bounds " + c);
        }
    }

    /**
     * New data stays within the send window: SND.MAX may only grow up to SND.UNA + SND.WND as
     * the sender knew it when sending, that is at the previous check (an application send) or
     * now (a send caused by the last event). The window may later shrink under data already
     * sent, by a receiver shrinking it or by a reordered older window update that passes the
     * SND.WL1 test of §3.10.7.4: RFC 9293 §3.8.6 requires the sender to be robust against that
     * (MUST-34) and only forbids sending new data beyond it (SHLD-15), so outstanding data
     * beyond the current window is not by itself a violation.
     */
    private void checkWindow(TcpConnection c, TcpState s, int una, int max) {
        int edge = una + (int) Math.min(c.sndWnd(), Integer.MAX_VALUE);
        int[] last = sent.get(c); // {SND.MAX, right edge} at the previous check
        if (s != TcpState.SYN_RECEIVED && (last == null || Seq.gt(max, last[0]))) {
            int bound = last == null ? edge : Seq.max(edge, last[1]);
            long slack = (1L << c.sendWindowScale()) + 1; // scaled-window rounding, and the FIN
            long outstanding = (max - una) & 0xFFFF_FFFFL;
            if (max - bound > slack && outstanding > 1) {
                violations.add("new data sent beyond SND.UNA + SND.WND: outstanding " + outstanding + " wnd "
                        + c.sndWnd() + " " + c + " " + c.debugState());
            }
        }
        if (last == null) {
            sent.put(c, new int[] {max, edge});
        } else {
            last[0] = max;
            last[1] = edge;
        }
    }

    List<TcpConnection> connections() {
        return tracked;
    }
}
