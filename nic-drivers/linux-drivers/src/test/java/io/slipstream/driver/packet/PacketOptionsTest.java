package io.slipstream.driver.packet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.slipstream.config.ConfigException;
import io.slipstream.nic.NicConfig;
import io.slipstream.nic.NicException;
import io.slipstream.time.Clock;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The {@code slipstream.packet.*} settings: defaults, and values that cannot be meant refused by name. */
class PacketOptionsTest {
    private static NicConfig config(int mtu, Map<String, String> options) {
        return new NicConfig("lo", 0x02_00_00_00_00_03L, mtu, 64, 64, 512, 9216 + 64, options);
    }

    @Test
    void defaults() {
        PacketOptions o = PacketOptions.from(config(1500, Map.of()));
        assertEquals(new PacketOptions(64, 32768, 1), o);
    }

    @Test
    void aBlockSizeThatIsNoPowerOfTwoIsRefusedByName() {
        ConfigException e = assertThrows(ConfigException.class,
                () -> PacketOptions.from(config(1500, Map.of(PacketOptions.BLOCK_BYTES.name(), "12288"))));
        assertTrue(e.getMessage().startsWith("slipstream.packet.rx.block.bytes: must be a power of two"), e::getMessage);
    }

    @Test
    void aBlockTooSmallForAFrameOfTheMtuIsRefusedBeforeAnythingIsOpened() {
        NicConfig jumbo = config(9000, Map.of(PacketOptions.BLOCK_BYTES.name(), "8192",
                "slipstream.address", "198.18.0.3/24", "slipstream.driver", "packet", "slipstream.interface", "lo"));
        NicException e = assertThrows(NicException.class,
                () -> PacketInterface.open(jumbo, PacketOptions.from(jumbo), Clock.SYSTEM));
        assertEquals(NicException.Kind.INVALID_CONFIG, e.kind());
        assertTrue(e.getMessage().contains("slipstream.packet.rx.block.bytes 8192 cannot hold a frame of MTU 9000"),
                e::getMessage);
    }
}
