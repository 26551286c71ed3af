package io.slipstream.nic;

import io.slipstream.config.Setting;
import io.slipstream.buffer.BufferPool;
import java.util.Map;

/**
 * What a driver needs to open an interface.
 *
 * @param interfaceName the device ({@code slipstream.interface}); for the memory driver, the
 *     name of the in-memory link, whose two ends two stacks open
 * @param mac the stack's MAC address (48 bits)
 * @param mtu the IP MTU
 * @param rxRingSize rx descriptors
 * @param txRingSize tx descriptors
 * @param bufferCount frames in the stack's pool
 * @param frameSize bytes per frame
 * @param options every {@code slipstream.*} setting, for driver-specific options
 *     ({@code slipstream.memory.loss}, ...)
 */
public record NicConfig(
        String interfaceName,
        long mac,
        int mtu,
        int rxRingSize,
        int txRingSize,
        int bufferCount,
        int frameSize,
        Map<String, String> options) {

    public static final int DEFAULT_MTU = 1500;
    public static final int DEFAULT_RING_SIZE = 512;
    public static final int DEFAULT_BUFFER_COUNT = 4096;

    public static final Setting.Whole MTU = new Setting.Whole("slipstream.mtu", DEFAULT_MTU, 576, 9000, "bytes");
    public static final Setting.Whole RX_RING = new Setting.Whole("slipstream.nic.rx.ring", DEFAULT_RING_SIZE, 8, 1 << 16, "descriptors");
    public static final Setting.Whole TX_RING = new Setting.Whole("slipstream.nic.tx.ring", DEFAULT_RING_SIZE, 8, 1 << 16, "descriptors");
    public static final Setting.Whole BUFFERS = new Setting.Whole("slipstream.nic.buffers", DEFAULT_BUFFER_COUNT, 64, 1 << 22, "buffers");

    public NicConfig {
        options = Map.copyOf(options);
        if (interfaceName == null || interfaceName.isEmpty()) {
            throw new NicException(NicException.Kind.INVALID_CONFIG, "slipstream.interface: an interface name is required");
        }
        if (mtu < 576 || mtu > frameSize - 18) {
            throw new NicException(NicException.Kind.INVALID_CONFIG, "MTU " + mtu + " must be 576.." + (frameSize - 18) + " for "
                    + frameSize + "-byte frames");
        }
        if (Integer.bitCount(rxRingSize) != 1 || Integer.bitCount(txRingSize) != 1) {
            throw new NicException(NicException.Kind.INVALID_CONFIG, "ring sizes must be powers of two, got rx=" + rxRingSize + " tx=" + txRingSize);
        }
        if (bufferCount < rxRingSize + txRingSize) {
            throw new NicException(NicException.Kind.INVALID_CONFIG, "bufferCount " + bufferCount + " cannot fill the rings ("
                    + rxRingSize + " + " + txRingSize + ")");
        }
    }

    /** Defaults for everything but the name and MAC. */
    public static NicConfig of(String interfaceName, long mac, Map<String, String> options) {
        return new NicConfig(interfaceName, mac, DEFAULT_MTU, DEFAULT_RING_SIZE, DEFAULT_RING_SIZE,
                DEFAULT_BUFFER_COUNT, BufferPool.DEFAULT_FRAME_SIZE, options);
    }

    /** A driver option, or {@code dflt} when unset. */
    public String option(String key, String dflt) {
        return options.getOrDefault(key, dflt);
    }
}
