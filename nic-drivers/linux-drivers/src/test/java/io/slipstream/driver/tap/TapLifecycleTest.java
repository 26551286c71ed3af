package io.slipstream.driver.tap;

import static io.slipstream.driver.tap.TapSandbox.PEER_IP;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.slipstream.buffer.BufferPool;
import io.slipstream.buffer.PacketBuffer;
import io.slipstream.nic.NicCounter;
import io.slipstream.nic.NicException;
import io.slipstream.nic.VirtualInterface;
import io.slipstream.testing.NetNs;
import io.slipstream.wire.Arp;
import io.slipstream.wire.Ethernet;
import io.slipstream.wire.MacAddress;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Opening errors, counted drops and send failures, and what close gives back. */
@Timeout(60)
class TapLifecycleTest {

    @Test
    void nameLongerThanFifteenBytesIsRefusedClearly() {
        String name = "sst" + NetNs.randomHex(13); // 16 characters
        NicException e = assertThrows(NicException.class, () -> TapSandbox.openDriver(name));
        assertTrue(e.getMessage().contains(name), e.getMessage());
        assertTrue(e.getMessage().contains("at most 15 bytes"), e.getMessage());
    }

    @Test
    void nameWithASlashIsRefused() {
        NicException e = assertThrows(NicException.class, () -> TapSandbox.openDriver("sst/x"));
        assertTrue(e.getMessage().contains("may not contain '/'"), e.getMessage());
    }

    @Test
    void existingDeviceThatIsNoTapIsRefusedWithTheKernelsReason() {
        TapSandbox.assumeRoot();
        NicException e = assertThrows(NicException.class, () -> TapSandbox.openDriver("lo"));
        assertTrue(e.getMessage().startsWith("tap lo: TUNSETIFF: EINVAL (Invalid argument)"), e.getMessage());
        assertTrue(e.getMessage().contains("'lo' exists but is not a TAP device"), e.getMessage());
    }

    @Test
    void withoutCapNetAdminTheErrorNamesTheMissingCapability() {
        TapSandbox.assumeRoot();
        String device = TapSandbox.randomDeviceName();
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        String classPath = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
        // Still uid 0 (so /dev/net/tun opens), but CAP_NET_ADMIN is gone from the child's sets.
        NetNs.Result probe = NetNs.run(Duration.ofSeconds(60), "setpriv", "--inh-caps", "-net_admin",
                "--bounding-set", "-net_admin", "--", java, "--enable-native-access=ALL-UNNAMED",
                "-cp", classPath, TapOpenProbe.class.getName(), device);
        assertTrue(probe.ok(), probe::toString);
        String message = probe.stdout().strip();
        assertTrue(message.startsWith("tap " + device + ": TUNSETIFF: EPERM (Operation not permitted)"), message);
        assertTrue(message.contains("'" + device + "' needs CAP_NET_ADMIN"), message);
    }

    @Test
    void deviceAttachedElsewhereIsReportedBusy() {
        TapSandbox.assumeRoot();
        String device = TapSandbox.randomDeviceName();
        try (VirtualInterface first = TapSandbox.openDriver(device)) {
            NicException e = assertThrows(NicException.class, () -> TapSandbox.openDriver(device));
            assertTrue(e.getMessage().contains("EBUSY"), e.getMessage());
            assertTrue(e.getMessage().contains("already attached"), e.getMessage());
            assertEquals(device, first.name());
        }
    }

    @Test
    void closeReturnsEveryBufferTheRingsHoldAndIsIdempotent() throws InterruptedException {
        TapSandbox.assumeRoot();
        try (TapSandbox box = TapSandbox.open()) {
            VirtualInterface vi = box.vi;
            BufferPool pool = vi.buffers();
            for (int i = 0; i < 10; i++) {
                assertTrue(vi.rx().post(box.acquire()));
            }
            // Three frames written (completions not yet polled), two posted without a doorbell.
            for (int i = 0; i < 3; i++) {
                assertTrue(vi.tx().post(box.arpFrame(MacAddress.BROADCAST, Arp.OP_REQUEST, MacAddress.ZERO, PEER_IP)));
            }
            vi.tx().doorbell();
            for (int i = 0; i < 2; i++) {
                assertTrue(vi.tx().post(box.arpFrame(MacAddress.BROADCAST, Arp.OP_REQUEST, MacAddress.ZERO, PEER_IP)));
            }
            assertEquals(10, vi.rx().posted());
            assertEquals(5, vi.tx().posted());
            assertEquals(15, pool.outstanding());
            assertEquals(3, vi.stats().get(NicCounter.TX_FRAMES));

            vi.close();

            assertEquals(0, pool.outstanding(), () -> "still out: " + pool.leaks());
            vi.close(); // idempotent
            assertEquals(0, vi.events().poll(box.events, 64), "no event after close");
            assertFalse(vi.events().hasEvents());
            assertFalse(vi.interrupt().await(0));
            assertThrows(NicException.class, () -> vi.rx().post(null));
            assertThrows(NicException.class, () -> vi.tx().doorbell());
        }
    }

    @Test
    void frameWithNoRxBufferPostedIsCountedAndDropped() throws InterruptedException {
        TapSandbox.assumeRoot();
        try (TapSandbox box = TapSandbox.open()) {
            VirtualInterface vi = box.vi;
            vi.tx().post(box.arpFrame(MacAddress.BROADCAST, Arp.OP_REQUEST, MacAddress.ZERO, PEER_IP));
            vi.tx().doorbell();
            box.pollUntil("the reply is dropped for want of a buffer", () -> {
                vi.events().poll(box.events, 64); // no rx buffer posted
                return vi.stats().get(NicCounter.RX_NO_BUFFER) == 1;
            });
            assertEquals(0, vi.stats().get(NicCounter.RX_FRAMES));
            assertTrue(box.events.rx.isEmpty());
        }
    }

    @Test
    void framesTheDeviceRefusesAreCountedAndStillCompleted() throws InterruptedException {
        TapSandbox.assumeRoot();
        try (TapSandbox box = TapSandbox.open()) {
            VirtualInterface vi = box.vi;
            PacketBuffer runt = box.acquire().setRange(0, 6); // shorter than an Ethernet header
            PacketBuffer oversize = box.acquire().setRange(0, vi.mtu() + Ethernet.HEADER_LENGTH + 5);
            assertTrue(vi.tx().post(runt));
            assertTrue(vi.tx().post(oversize));
            vi.tx().doorbell();
            box.pollUntil("both frames complete", () -> box.events.txCompleted == 2);
            assertEquals(2, vi.stats().get(NicCounter.TX_ERRORS));
            assertEquals(0, vi.stats().get(NicCounter.TX_FRAMES));
            assertEquals(0, vi.tx().posted());
        }
    }

    @Test
    void buffersFromAnotherPoolOrNotOwnedByTheStackAreRefused() {
        TapSandbox.assumeRoot();
        try (TapSandbox box = TapSandbox.open(); BufferPool other = BufferPool.allocate(4, 2048)) {
            PacketBuffer foreign = other.acquire(box.vi.stackOwner());
            assertThrows(IllegalArgumentException.class, () -> box.vi.rx().post(foreign));
            assertThrows(IllegalArgumentException.class, () -> box.vi.tx().post(foreign));
            foreign.release(box.vi.stackOwner());

            PacketBuffer b = box.acquire();
            assertTrue(box.vi.rx().post(b));
            assertThrows(IllegalStateException.class, () -> box.vi.tx().post(b), "the rx ring owns it now");
            assertEquals(1, box.vi.rx().posted());
            assertEquals(0, box.vi.tx().posted());
        }
    }
}
