package io.slipstream.driver.memory;

import io.slipstream.config.Settings;
import io.slipstream.nic.NicConfig;
import io.slipstream.nic.NicDriver;
import io.slipstream.nic.VirtualInterface;
import io.slipstream.time.Clock;

/**
 * {@code slipstream.driver=memory}: two stacks in one JVM joined back to back by an in-memory
 * link named by {@code slipstream.interface}, with optional impairments
 * ({@code slipstream.memory.*}, see {@link Impairments}).
 */
public final class MemoryDriver implements NicDriver {
    public static final String NAME = "memory";

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public VirtualInterface open(NicConfig config, Clock clock) {
        Settings settings = Settings.of(config.options());
        Impairments requested = Impairments.from(settings);
        return MemoryLink.open(config, clock, requested, Impairments.anySetIn(settings));
    }
}
