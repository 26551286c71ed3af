package io.slipstream.driver.packet;

import io.slipstream.config.ConfigException;
import io.slipstream.config.Setting;
import io.slipstream.config.Settings;
import io.slipstream.nic.NicConfig;

/**
 * The {@code slipstream.packet.*} settings, each declared once here with its default: the
 * TPACKET_V3 receive ring's {@link #BLOCKS} and {@link #BLOCK_BYTES}, and {@link #RETIRE_MS},
 * how long the kernel keeps a block that holds frames before it hands the block over anyway.
 * A value that cannot be meant is a {@link ConfigException} naming the setting.
 */
record PacketOptions(int blocks, int blockBytes, int retireMillis) {
    static final Setting.Whole BLOCKS = new Setting.Whole("slipstream.packet.rx.blocks", 64, 2, 4096, "blocks");
    static final Setting.Whole BLOCK_BYTES = new Setting.Whole("slipstream.packet.rx.block.bytes", 1 << 15, 4096, 1 << 22, "bytes");
    static final Setting.Whole RETIRE_MS = new Setting.Whole("slipstream.packet.rx.retire.ms", 1, 1, 1000, "ms");

    static PacketOptions from(NicConfig config) {
        Settings s = Settings.of(config.options());
        int blockBytes = BLOCK_BYTES.readInt(s);
        if (Integer.bitCount(blockBytes) != 1) {
            // The kernel takes blocks of whole pages in power-of-two page orders (packet_set_ring).
            throw new ConfigException(BLOCK_BYTES.name() + ": must be a power of two, got " + blockBytes);
        }
        return new PacketOptions(BLOCKS.readInt(s), blockBytes, RETIRE_MS.readInt(s));
    }
}
