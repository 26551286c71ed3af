package io.slipstream.nic;

import io.slipstream.time.Clock;
import java.util.Map;
import java.util.Optional;
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
     * Checks what can be known cheaply, without opening or changing anything, about whether
     * {@link #open} would succeed on {@code interfaceName}: that it exists, that this process
     * holds the privileges the driver needs, that no one else holds the device. Throws the
     * {@link NicException} open would throw, so that a launcher can name the problem in one
     * line before the program starts; open makes the same checks first. {@code options} are
     * every {@code slipstream.*} setting, as {@link NicConfig#options()} carries them (where
     * to look may be one of them). The default checks nothing.
     */
    default void check(String interfaceName, Map<String, String> options) {}

    /**
     * Opens one virtual interface. Errors in the configuration or the environment (no such
     * device, no permission) are reported as {@link NicException} naming what is wrong.
     */
    VirtualInterface open(NicConfig config, Clock clock);

    /**
     * Whether the interfaces this driver opens share the host's own interface and carry its
     * control plane ({@link VirtualInterface#hostControlPlane()}), so that the stack may take its
     * address from the host instead of {@code slipstream.address}.
     */
    default boolean sharesHostInterface() {
        return false;
    }

    /** The driver named {@code name}, if one is on the class path. */
    static Optional<NicDriver> find(String name) {
        for (NicDriver d : ServiceLoader.load(NicDriver.class)) {
            if (d.name().equals(name)) {
                return Optional.of(d);
            }
        }
        return Optional.empty();
    }

    static NicDriver byName(String name) {
        Optional<NicDriver> found = find(name);
        if (found.isPresent()) {
            return found.get();
        }
        StringBuilder known = new StringBuilder();
        for (NicDriver d : ServiceLoader.load(NicDriver.class)) {
            known.append(known.isEmpty() ? "" : ", ").append(d.name());
        }
        throw new NicException(NicException.Kind.NO_DRIVER, "slipstream.driver: no NIC driver named '" + name
                + "' on the class path (known: " + known + "; the drivers other than memory are in the linux-drivers jar)");
    }
}
