package io.slipstream.relay;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.slipstream.stats.Counters;
import io.slipstream.testing.NetNs;
import java.time.Duration;
import java.util.concurrent.ThreadLocalRandom;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The relay between two kernels in namespaces (198.19.30.0/24): it forwards both ways, loses
 * frames at the rate asked, corrupts frames the receiving kernel then rejects one for one, and
 * kernel TCP comes through loss, reordering and duplication with every byte intact.
 */
@Timeout(180)
class ImpairmentRelayTest {
    private static final int BODY = 4 * 1024 * 1024;
    private static final Duration LIMIT = Duration.ofSeconds(90);

    private RelayLab lab;

    @BeforeEach
    void open() {
        NetNs.assumeRootWith("the relay needs root (namespaces, AF_PACKET): skipped", "python3", "ethtool", "ping");
        lab = RelayLab.create(0);
    }

    @AfterEach
    void close() {
        if (lab != null) {
            lab.close();
        }
    }

    @Test
    void pingCrossesTheRelayBothWaysAndArpPassesUnimpaired() throws Exception {
        try (ImpairmentRelay relay = lab.relayKernelSide(Impairment.NONE, Impairment.NONE, 1)) {
            NetNs.Result r = lab.kernelSide().exec(Duration.ofSeconds(20), "ping", "-c", "3", "-i", "0.2", "-W", "2",
                    lab.peerAddress());
            assertTrue(r.ok() && r.stdout().contains("3 received"), r::toString);
            assertTrue(relay.leftToRight().get(RelayCounter.UNIMPAIRED) >= 1, "the ARP request: " + relay.describe());
            assertTrue(relay.leftToRight().get(RelayCounter.FRAMES_OUT) >= 4, relay::describe);
            assertTrue(relay.rightToLeft().get(RelayCounter.FRAMES_OUT) >= 4, relay::describe);
            assertNull(relay.failure());
        }
    }

    @Test
    void kernelTcpSurvivesLossReorderAndDuplicationAndTheLossRateIsTheOneAsked() throws Exception {
        Impairment path = Impairment.loss(0.05).withReorder(0.1, 3).withDuplication(0.02);
        try (ImpairmentRelay relay = lab.relayKernelSide(path, path, 5)) {
            RelayTransfers.Received r = kernelTransfer();
            Counters<RelayCounter> data = relay.leftToRight();
            long ipv4 = data.get(RelayCounter.FRAMES_IN) - data.get(RelayCounter.UNIMPAIRED);
            double lossSeen = (double) data.get(RelayCounter.LOST) / ipv4;
            System.out.println("relay: " + relay.describe() + "; loss seen " + lossSeen);
            assertTrue(ipv4 > BODY / 1500, ipv4 + " data frames");
            assertTrue(Math.abs(lossSeen - 0.05) < 0.01, "loss seen " + lossSeen);
            assertTrue(data.get(RelayCounter.REORDERED) > 0 && data.get(RelayCounter.DUPLICATED) > 0, relay::describe);
            assertEquals(0, data.get(RelayCounter.OVERSIZE), "offloads are off: only MTU-sized frames");
            assertNull(relay.failure());
        }
    }

    @Test
    void everyCorruptedFrameIsOneTheReceivingKernelRejects() throws Exception {
        long before = KernelSnmp.of(lab.peer()).corruptReceived();
        try (ImpairmentRelay relay = lab.relayKernelSide(Impairment.NONE.withCorruption(0.01), Impairment.NONE, 3)) {
            kernelTransfer();
            long corrupted = relay.leftToRight().get(RelayCounter.CORRUPTED);
            long rejected = KernelSnmp.of(lab.peer()).corruptReceived() - before;
            System.out.println("relay: " + relay.describe() + "; the peer rejected " + rejected);
            assertTrue(corrupted > 10, relay::describe);
            assertEquals(corrupted, rejected, "the peer kernel checks every checksum (receive offload off)");
        }
    }

    /** A kernel on the near side sends {@link #BODY} bytes to the peer; they arrive whole, unreset. */
    private RelayTransfers.Received kernelTransfer() throws Exception {
        int port = 20000 + ThreadLocalRandom.current().nextInt(10000);
        try (NetNs.Background server = RelayTransfers.kernelServer(lab.kernelSide(), lab.kernelSideAddress(), port,
                BODY, 17, Duration.ofSeconds(20))) {
            RelayTransfers.Received r = RelayTransfers.receive(lab.peer(), lab.kernelSideAddress(), port,
                    Duration.ofSeconds(60), LIMIT);
            NetNs.Result sent = server.await(Duration.ofSeconds(20));
            assertTrue(r.ok(), r::toString);
            assertEquals(BODY, r.bytes(), r::toString);
            assertTrue(sent.ok(), sent::toString);
            assertEquals(sent.stdout().lines().toList().getLast(), r.sha256(), "the bytes sent");
            return r;
        }
    }
}
