package io.slipstream.nic;

import io.slipstream.time.Clock;
import java.util.ServiceLoader;

/**
 * A kind of NIC ({@code memory}, {@code tap}, ...), found by {@link #byName} through
 * {@link ServiceLoader}: each registers in {@code META-INF/services/io.slipstream.nic.NicDriver}
 * of its jar. The pure-Java {@code memory} driver ships with stack-core itself; the drivers
 * with native parts ({@code tap}, ...) live in nic-drivers.
 */
public interface NicDriver {
    /** The value of {@code slipstream.driver} that selects this driver. */
    String name();

    /**
     * Opens one virtual interface. Errors in the configuration or the environment (no such
     * device, no permission) are reported as {@link NicException} naming what is wrong.
     */
    VirtualInterface open(NicConfig config, Clock clock);

    static NicDriver byName(String name) {
        StringBuilder known = new StringBuilder();
        for (NicDriver d : ServiceLoader.load(NicDriver.class)) {
            if (d.name().equals(name)) {
                return d;
            }
            known.append(known.isEmpty() ? "" : ", ").append(d.name());
        }
        throw new NicException(NicException.Kind.NO_DRIVER, "slipstream.driver: no NIC driver named '" + name
                + "' on the class path (known: " + known + "; the drivers other than memory are in the linux-drivers jar)");
    }
}
