package io.slipstream.driver.tap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.slipstream.nic.NicCounter;
import io.slipstream.nic.VirtualInterface;
import io.slipstream.wire.Arp;
import io.slipstream.wire.Ipv4Address;
import io.slipstream.wire.MacAddress;
import org.junit.jupiter.api.Test;

/**
 * A burst from the kernel is read in batches: a poll reads frames until the device has none
 * (or the poll's limit is reached), and a sender's pending completions take at most half of
 * the limit first, so the frames that came meanwhile (its ACKs) are read in the same poll.
 */
class TapBatchReadTest extends SandboxedTapTest {
    private static final int BURST = 40;
    private static final int WRITTEN = 30;

    @Test
    void aPollReadsTheBurstInBatchesBesideACompletionBurst() throws InterruptedException {
        VirtualInterface vi = box.vi;
        for (int i = 0; i < BURST + 8; i++) {
            assertTrue(vi.rx().post(box.acquire()));
        }
        // Thirty frames written: thirty completions wait for the next poll. ARP replies to the
        // kernel, which answers nothing to them.
        for (int i = 0; i < WRITTEN; i++) {
            assertTrue(vi.tx().post(box.arpFrame(box.peerMac, Arp.OP_REPLY, box.peerMac, TapSandbox.PEER_IP)));
        }
        vi.tx().doorbell();
        // The kernel sends a burst of datagrams to us; a permanent neighbour entry, so no ARP.
        String device = box.device;
        String ours = Ipv4Address.format(TapSandbox.OUR_IP);
        box.ns.exec("ip", "neigh", "replace", ours, "lladdr", MacAddress.format(TapSandbox.OUR_MAC), "dev", device,
                "nud", "permanent").orThrow();
        box.ns.exec("python3", "-c", String.join("\n",
                "import socket, sys",
                "s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)",
                "for i in range(" + BURST + "): s.sendto(b'burst %d' % i, (sys.argv[1], 9999))"), ours).orThrow();
        // The python sender has ended: its datagrams went down to the device in its sendto(2)
        // calls (an uncontended qdisc transmits in the caller's context) and wait in its queue.
        Thread.sleep(50);
        assertTrue(vi.events().hasEvents());

        int first = vi.events().poll(box.events, 32);
        assertEquals(32, first);
        assertEquals(16, box.events.txCompleted, "completions take half the limit first");
        assertEquals(16, box.events.rx.size(), "reads take the rest in one batch");
        assertEquals(1, vi.stats().get(NicCounter.RX_BATCHES));

        int second = vi.events().poll(box.events, 64);
        assertEquals(WRITTEN - 16 + BURST - 16, second, "the rest of both, well inside the limit");
        assertEquals(WRITTEN, box.events.txCompleted);
        assertEquals(BURST, box.events.rx.size(), "read until the device had none");
        assertEquals(2, vi.stats().get(NicCounter.RX_BATCHES));
        assertEquals(BURST, vi.stats().get(NicCounter.RX_FRAMES));
        assertEquals(0, vi.stats().get(NicCounter.RX_NO_BUFFER));
    }
}
