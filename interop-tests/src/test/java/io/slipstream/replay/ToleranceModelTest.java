package io.slipstream.replay;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.slipstream.replay.Conversation.Role;
import io.slipstream.wire.Tcp;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The tolerance model on a recorded side compared with itself and with edited copies of itself:
 * what it must let through (other windows, other segment boundaries, another ISN) and what it must
 * report, and how (packet number, field, expected, got).
 */
class ToleranceModelTest {
    private final Conversation c = load("request-response.pcap");
    private final List<ReplayPacket> server = c.sentBy(Role.SERVER);

    private static Conversation load(String name) {
        try {
            return Conversation.load(name);
        } catch (java.io.IOException e) {
            throw new IllegalStateException(e);
        }
    }

    private List<Divergence> compare(List<ReplayPacket> live) {
        return ToleranceModel.compare(c, Role.SERVER, server, live);
    }

    private static ReplayPacket with(ReplayPacket p, int seq, int window, byte[] payload, int flags) {
        return new ReplayPacket(p.frame(), p.timeNanos(), p.protocol(), p.source(), p.destination(), p.sourcePort(),
                p.destinationPort(), flags, seq, p.ack(), window, p.options(), payload, p.fragmentSizes());
    }

    @Test
    void theRecordingMatchesItself() {
        assertEquals(List.of(), compare(server));
    }

    @Test
    void windowsAnotherIsnAndOtherSegmentBoundariesAreTolerated() {
        List<ReplayPacket> live = new ArrayList<>();
        int shift = 0x1234_5678;
        for (ReplayPacket p : server) {
            ReplayPacket moved = with(p, p.seq() + shift, 7, p.payload(), p.flags());
            if (p.payload().length > 100) {
                // the same bytes in two segments instead of one
                int half = p.payload().length / 2;
                live.add(with(moved, moved.seq(), 7, Arrays.copyOfRange(p.payload(), 0, half), p.flags() & ~Tcp.FIN));
                live.add(with(moved, moved.seq() + half, 7, Arrays.copyOfRange(p.payload(), half, p.payload().length),
                        p.flags()));
            } else {
                live.add(moved);
            }
        }
        assertEquals(List.of(), compare(live));
    }

    @Test
    void aWrongByteIsReportedWithItsPacketAndPosition() {
        List<ReplayPacket> live = new ArrayList<>(server);
        int i = indexOfFirstData(live);
        byte[] payload = live.get(i).payload().clone();
        payload[10] ^= 0x20;
        live.set(i, with(live.get(i), live.get(i).seq(), live.get(i).window(), payload, live.get(i).flags()));
        List<Divergence> d = compare(live);
        assertEquals(1, d.size(), d::toString);
        assertEquals(server.get(i).frame(), d.get(0).recordedFrame());
        assertEquals("data byte at relative SEQ 11", d.get(0).field());
        assertTrue(d.get(0).toString().startsWith("packet #" + server.get(i).frame() + " (live #"), d.get(0).toString());
    }

    @Test
    void aMissingFinIsReported() {
        List<ReplayPacket> live = new ArrayList<>();
        for (ReplayPacket p : server) {
            live.add(with(p, p.seq(), p.window(), p.payload(), p.flags() & ~Tcp.FIN));
        }
        List<Divergence> d = compare(live);
        assertTrue(d.stream().anyMatch(x -> x.field().equals("FIN/RST 1") && x.got().equals("none")), d::toString);
    }

    @Test
    void aResetInsteadOfAFinIsReportedAsOtherFlags() {
        List<ReplayPacket> live = new ArrayList<>();
        for (ReplayPacket p : server) {
            live.add(p.has(Tcp.FIN) ? with(p, p.seq(), 0, p.payload(), Tcp.RST | Tcp.ACK) : p);
        }
        List<Divergence> d = compare(live);
        assertTrue(d.stream().anyMatch(x -> x.field().equals("flags") && x.expected().equals("FIN|ACK")
                && x.got().equals("RST|ACK")), d::toString);
    }

    @Test
    void anExtraRetransmissionIsReported() {
        List<ReplayPacket> live = new ArrayList<>(server);
        live.add(live.get(indexOfFirstData(live)));
        List<Divergence> d = compare(live);
        assertEquals(1, d.size(), d::toString);
        assertEquals("bytes retransmitted (relative SEQ ranges)", d.get(0).field());
        assertEquals("[]", d.get(0).expected());
    }

    private static int indexOfFirstData(List<ReplayPacket> ps) {
        for (int i = 0; i < ps.size(); i++) {
            if (ps.get(i).payload().length > 20) {
                return i;
            }
        }
        throw new AssertionError("no data segment");
    }
}
