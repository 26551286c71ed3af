package io.slipstream.tcp;

import io.slipstream.testing.TcpTestNetwork;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * The invariants every property checks after every step: sequence-space ordering
 * (SND.UNA ≤ SND.NXT ≤ SND.MAX ≤ SND.UNA + SND.WND, with the slack RFC 7323 scaling allows),
 * RCV.NXT never moving backwards, legal state transitions, bounded memory, no internal errors.
 */
final class TcpInvariants {
    private final TcpTestNetwork net;
    private final List<String> violations = new ArrayList<>();
    private final Map<TcpConnection, Integer> lastRcvNxt = new IdentityHashMap<>();
    private final List<TcpConnection> tracked = new ArrayList<>();

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
        if (net.a.layer.counters().dropInternalError + net.b.layer.counters().dropInternalError > 0) {
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
        if (s != TcpState.SYN_RECEIVED) {
            long slack = (1L << c.sendWindowScale()) + 1; // scaled-window rounding, and the FIN
            long outstanding = (max - una) & 0xFFFF_FFFFL;
            if (outstanding > c.sndWnd() + slack && outstanding > 1) {
                violations.add("SND.NXT beyond SND.UNA + SND.WND: outstanding " + outstanding + " wnd "
                        + c.sndWnd() + " " + c + " " + c.debugState());
            }
        }
        Integer prev = lastRcvNxt.put(c, c.rcvNxt());
        if (prev != null && !Seq.ge(c.rcvNxt(), prev)) {
            violations.add("RCV.NXT moved back from " + prev + " to " + c.rcvNxt() + " " + c);
        }
        if (c.available() > c.receiveBufferSize() || c.unacknowledged() > c.sendBufferSize()) {
            violations.add("buffers exceed their bounds " + c);
        }
    }

    List<TcpConnection> connections() {
        return tracked;
    }
}
