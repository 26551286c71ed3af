package io.slipstream.launcher;

import io.slipstream.config.ConfigException;
import io.slipstream.nic.NicException;
import java.util.Arrays;

/** The Java side of {@code bin/slipstream}: dispatches its sub-commands. */
public final class Launcher {
    private Launcher() {}

    public static void main(String[] args) throws Exception {
        if (args.length == 0) {
            System.err.println("usage: Launcher demo [--count N]");
            System.exit(2);
        }
        String[] rest = Arrays.copyOfRange(args, 1, args.length);
        try {
            switch (args[0]) {
                case "demo" -> Demo.main(rest);
                default -> {
                    System.err.println("slipstream: unknown command '" + args[0] + "'");
                    System.exit(2);
                }
            }
        } catch (ConfigException | NicException e) {
            // Configuration and environment errors are the user's to fix: one line, no trace.
            System.err.println("slipstream: " + e.getMessage());
            System.exit(1);
        }
    }
}
