package io.slipstream.driver.tap;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.slipstream.driver.poll.PollInterrupt;
import io.slipstream.nic.NicDriver;
import io.slipstream.nic.NicException;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** What needs no device: name rules, poll timeouts, the driver's registration. */
class TapDeviceTest {

    @Test
    void namesUpToFifteenBytesPass() {
        assertArrayEquals("sst0123456789ab".getBytes(StandardCharsets.UTF_8), TapDevice.validName("sst0123456789ab"));
        assertArrayEquals("t".getBytes(StandardCharsets.UTF_8), TapDevice.validName("t"));
    }

    @Test
    void namesTheKernelWouldRefuseAreRefusedFirst() {
        for (String bad : new String[] {"sst0123456789abc", "ééééééééé", ".", "..", "a/b", "a:b", "a b", "tap%d", "a\tb"}) {
            NicException e = assertThrows(NicException.class, () -> TapDevice.validName(bad), bad);
            assertTrue(e.getMessage().startsWith("tap " + bad + ": "), e.getMessage());
        }
    }

    @Test
    void pollTimeoutsRoundUpToWholeMilliseconds() {
        assertEquals(0, PollInterrupt.pollMillis(0));
        assertEquals(1, PollInterrupt.pollMillis(1));
        assertEquals(1, PollInterrupt.pollMillis(1_000_000));
        assertEquals(2, PollInterrupt.pollMillis(1_000_001));
        assertEquals(-1, PollInterrupt.pollMillis(Long.MAX_VALUE), "forever");
        assertEquals(Integer.MAX_VALUE, PollInterrupt.pollMillis(Long.MAX_VALUE - 1));
    }

    @Test
    void driverIsFoundByName() {
        NicDriver d = NicDriver.byName("tap");
        assertEquals("tap", d.name());
        assertTrue(d instanceof TapDriver);
    }
}
