package io.slipstream.tcp;

import static io.slipstream.tcp.TcpFixtures.PORT;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.slipstream.config.ConfigException;
import io.slipstream.config.Settings;
import io.slipstream.testing.TcpTestNetwork;
import io.slipstream.wire.Bytes;
import io.slipstream.wire.Ipv4;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The non-blocking socket API: misuse errors, readiness callbacks, options, ICMP errors. */
class TcpSocketApiTest {

    @Test
    void listeningTwiceOnAPortFails() {
        try (TcpTestNetwork net = new TcpTestNetwork(100, TcpFixtures.config())) {
            net.b.layer.listen(PORT, 4);
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> net.b.layer.listen(PORT, 4));
            assertTrue(e.getMessage().contains("already has a listener"));
            assertThrows(IllegalArgumentException.class, () -> net.b.layer.listen(0, 4));
            assertThrows(IllegalArgumentException.class, () -> net.b.layer.listen(80, 0));
        }
    }

    @Test
    void connectingAnUnroutableAddressFailsClearly() {
        try (TcpTestNetwork net = new TcpTestNetwork(101, TcpFixtures.config())) {
            TcpException e = assertThrows(TcpException.class,
                    () -> net.a.layer.connect(TcpTestNetwork.ADDRESS_UNROUTABLE, 80));
            assertEquals(TcpError.UNREACHABLE, e.error());
            assertThrows(IllegalArgumentException.class, () -> net.a.layer.connect(TcpTestNetwork.ADDRESS_B, 0));
            assertThrows(IllegalArgumentException.class, () -> net.a.layer.connect(0, 80));
        }
    }

    @Test
    void sendAfterShutdownOrResetFailsClearly() {
        try (TcpTestNetwork net = new TcpTestNetwork(102, TcpFixtures.config())) {
            TcpConnection[] c = TcpFixtures.connect(net);
            c[0].shutdownOutput();
            assertThrows(IllegalStateException.class, () -> c[0].send(ByteBuffer.allocate(1)));
            c[1].abort();
            net.runFor(10);
            TcpException e = assertThrows(TcpException.class, () -> c[0].send(ByteBuffer.allocate(1)));
            assertEquals(TcpError.RESET, e.error());
            assertThrows(TcpException.class, () -> c[0].receive(ByteBuffer.allocate(1)));
        }
    }

    @Test
    void sendReturnsZeroWhenTheBufferIsFull() {
        try (TcpTestNetwork net = new TcpTestNetwork(103, TcpFixtures.config())) {
            TcpConnection[] c = TcpFixtures.connect(net);
            int total = 0;
            int n;
            while ((n = c[0].send(ByteBuffer.allocate(10_000))) > 0) {
                total += n;
            }
            assertEquals(0, n);
            assertEquals(65536, total, "exactly SO_SNDBUF bytes queued");
            assertFalse(c[0].writable());
        }
    }

    @Test
    void readinessCallbacksFollowTheConnection() {
        try (TcpTestNetwork net = new TcpTestNetwork(104, TcpFixtures.config())) {
            TcpListener l = net.b.layer.listen(PORT, 4);
            List<String> events = new ArrayList<>();
            l.readinessListener(s -> events.add("acceptable"));
            TcpConnection client = net.a.layer.connect(TcpTestNetwork.ADDRESS_B, PORT);
            client.readinessListener(s -> events.add("client " + (client.connected() ? "connected" : "")
                    + (client.readable() ? " readable" : "") + (client.writable() ? " writable" : "")));
            assertFalse(client.connected());
            net.runFor(10);
            assertTrue(events.contains("acceptable"));
            assertTrue(events.contains("client connected writable"), events::toString);
            TcpConnection server = l.accept();
            assertNull(l.accept());
            server.send(ByteBuffer.wrap(new byte[5]));
            net.runFor(10);
            assertTrue(events.contains("client connected readable writable"), events::toString);
            int before = events.size();
            net.runFor(10);
            assertEquals(before, events.size(), "no callback without a change");
        }
    }

    @Test
    void receiveReturnsMinusOneAtEndOfStream() {
        try (TcpTestNetwork net = new TcpTestNetwork(105, TcpFixtures.config())) {
            TcpConnection[] c = TcpFixtures.connect(net);
            c[1].send(ByteBuffer.wrap(new byte[] {1, 2, 3}));
            c[1].shutdownOutput();
            net.runFor(10);
            ByteBuffer b = ByteBuffer.allocate(10);
            assertEquals(3, c[0].receive(b));
            assertEquals(-1, c[0].receive(b));
            assertTrue(c[0].readable());
        }
    }

    @Test
    void socketOptionsValidateTheirArguments() {
        try (TcpTestNetwork net = new TcpTestNetwork(106, TcpFixtures.config())) {
            TcpConnection[] c = TcpFixtures.connect(net);
            assertThrows(IllegalArgumentException.class, () -> c[0].linger(-2));
            assertThrows(IllegalArgumentException.class, () -> c[0].keepAlive(true, 0, 1, 1));
            assertThrows(IllegalStateException.class, () -> c[0].receiveBufferSize(4096), "after connecting");
            assertThrows(IllegalArgumentException.class, () -> new TcpConnectOptions(10, 0, false, false));
            c[0].noDelay(true);
            assertTrue(c[0].noDelay());
        }
    }

    @Test
    void configIsReadFromSettings() {
        TcpConfig c = TcpConfig.from(Settings.of(Map.of("tcp.rto.min.ms", "50", "tcp.cc", "NewReno",
                "tcp.delack.ms", "10", "tcp.rcvbuf", "100000")));
        assertEquals(50, c.rtoMinMs());
        assertEquals("newreno", c.congestionControl());
        assertEquals(10, c.delayedAckMs());
        assertEquals(100000, c.receiveBuffer());
        assertThrows(ConfigException.class, () -> TcpConfig.from(Settings.of(Map.of("tcp.cc", "vegas"))));
        assertThrows(ConfigException.class, () -> TcpConfig.from(Settings.of(Map.of("tcp.delack.ms", "900"))));
    }

    @Test
    void rfc5927_icmpUnreachableAbortsConnectInProgress() {
        try (TcpTestNetwork net = new TcpTestNetwork(107, TcpFixtures.config())) {
            net.dropFilter = s -> true;
            TcpConnection c = net.a.layer.connect(TcpTestNetwork.ADDRESS_B, 80);
            byte[] syn = net.captured().get(0).bytes();
            MemorySegment quoted = MemorySegment.ofArray(new byte[28]);
            Ipv4.write(quoted, 0, 0, 20 + syn.length, 1, 0, 64, Ipv4.PROTO_TCP, TcpTestNetwork.ADDRESS_A,
                    TcpTestNetwork.ADDRESS_B);
            MemorySegment.copy(MemorySegment.ofArray(syn), 0, quoted, 20, 8);
            Bytes.putU32(quoted, 24, c.iss() + 5000); // a sequence number not in flight
            net.a.layer.icmpError(3, 1, 0, quoted, 0, 28);
            assertEquals(TcpState.SYN_SENT, c.state(), "an ICMP error quoting an unsent sequence is ignored");
            Bytes.putU32(quoted, 24, c.iss());
            net.a.layer.icmpError(3, 1, 0, quoted, 0, 28);
            assertEquals(TcpState.CLOSED, c.state());
            assertEquals(TcpError.UNREACHABLE, c.pendingError());
        }
    }

    @Test
    void rfc1191_fragmentationNeededShrinksTheMss() {
        try (TcpTestNetwork net = new TcpTestNetwork(108, TcpFixtures.config())) {
            TcpConnection[] c = TcpFixtures.connect(net);
            net.dropFilter = TcpTestNetwork.Segment::fromA; // as if a smaller link dropped them
            net.clearCaptured();
            c[0].send(ByteBuffer.wrap(new byte[10_000]));
            byte[] seg = net.captured().get(0).bytes();
            MemorySegment quoted = MemorySegment.ofArray(new byte[28]);
            Ipv4.write(quoted, 0, 0, 20 + seg.length, 1, 0x4000, 64, Ipv4.PROTO_TCP, TcpTestNetwork.ADDRESS_A,
                    TcpTestNetwork.ADDRESS_B);
            MemorySegment.copy(MemorySegment.ofArray(seg), 0, quoted, 20, 8);
            net.clearCaptured();
            net.dropFilter = s -> false;
            net.a.layer.icmpError(3, 4, 1000, quoted, 0, 28);
            assertEquals(1000 - 40 - 12, c[0].mss());
            ByteBuffer got = ByteBuffer.allocate(10_000);
            assertTrue(net.runUntil(() -> {
                c[1].receive(got);
                return !got.hasRemaining();
            }, 10_000));
            for (TcpTestNetwork.Segment s : net.captured()) {
                assertTrue(s.payloadLength() <= 948, "resent at the new size: " + s);
            }
            assertEquals(0, net.a.layer.counters().get(TcpCounter.RTO_EXPIRIES), "resent at once, not after a timeout");
        }
    }
}
