package io.slipstream.tcp;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.slipstream.testing.TcpTestNetwork;
import java.util.List;
import org.junit.jupiter.api.Test;

/** End-to-end transfers between two layers over clean and impaired links. */
class TcpTransferTest {

    @Test
    void rfc9293_handshakeTransferAndClose() {
        try (TcpTestNetwork net = new TcpTestNetwork(1, TcpFixtures.config())) {
            List<String> illegal = TcpFixtures.recordTransitions(net);
            TcpConnection[] c = TcpFixtures.connect(net);
            byte[] data = TcpFixtures.pattern(300_000, 7);
            assertArrayEquals(data, TcpFixtures.transfer(net, c[0], c[1], data, 60_000));
            byte[] back = TcpFixtures.pattern(100_000, 8);
            assertArrayEquals(back, TcpFixtures.transfer(net, c[1], c[0], back, 60_000));
            TcpFixtures.closeBoth(net, c[0], c[1]);
            assertTrue(illegal.isEmpty(), illegal::toString);
            TcpFixtures.assertNoInternalErrors(net);
        }
    }

    @Test
    void rfc6298_transferSurvivesTwentyPercentLoss() {
        for (String cc : new String[] {"cubic", "newreno"}) {
            try (TcpTestNetwork net = new TcpTestNetwork(2, TcpFixtures.config("cc", cc))) {
                net.impair(0.2, 0.05, 0.1).delay(5, 2000);
                TcpConnection[] c = TcpFixtures.connect(net);
                byte[] data = TcpFixtures.pattern(200_000, 9);
                assertArrayEquals(data, TcpFixtures.transfer(net, c[0], c[1], data, 3_600_000));
                TcpFixtures.closeBoth(net, c[0], c[1]);
                assertTrue(net.a.layer.counters().get(TcpCounter.RETRANSMITS) > 0);
                TcpFixtures.assertNoInternalErrors(net);
                assertEquals(0, net.a.layer.connectionCount() + net.b.layer.connectionCount()
                        - count(c, TcpState.TIME_WAIT));
            }
        }
    }

    private static int count(TcpConnection[] c, TcpState s) {
        int n = 0;
        for (TcpConnection x : c) {
            if (x.state() == s) {
                n++;
            }
        }
        return n;
    }
}
