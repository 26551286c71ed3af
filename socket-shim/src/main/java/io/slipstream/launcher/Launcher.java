package io.slipstream.launcher;

import io.slipstream.config.ConfigException;
import io.slipstream.nic.NicException;
import java.nio.file.Path;
import java.util.Arrays;

/** The Java side of {@code bin/slipstream}: dispatches its sub-commands. */
public final class Launcher {
    private Launcher() {}

    public static void main(String[] args) throws Exception {
        if (args.length == 0) {
            System.err.println("usage: Launcher demo [--count N] | command --agent JAR --java JAVA [run options] -- <java command line>");
            System.exit(2);
        }
        String[] rest = Arrays.copyOfRange(args, 1, args.length);
        try {
            switch (args[0]) {
                case "demo" -> Demo.main(rest);
                case "command" -> command(rest);
                default -> {
                    System.err.println("slipstream: unknown command '" + args[0] + "'");
                    System.exit(2);
                }
            }
        } catch (ConfigException | NicException e) {
            // Configuration and environment errors are the user's to fix: one line, no trace.
            System.err.println("slipstream: " + e.getMessage());
            System.exit(1);
        } catch (IllegalArgumentException e) {
            // A malformed command line: the message carries the usage.
            System.err.println("slipstream: " + e.getMessage());
            System.exit(2);
        }
    }

    /**
     * {@code command --agent JAR --java JAVA <RunCommand options> -- <command>}: prints the command
     * line {@code bin/slipstream run} executes (the agent and java come from the script).
     */
    private static void command(String[] args) throws Exception {
        if (args.length < 4 || !args[0].equals("--agent") || !args[2].equals("--java")) {
            throw new IllegalArgumentException(RunCommand.USAGE);
        }
        RunCommand.print(Arrays.asList(args).subList(4, args.length), Path.of(args[1]), Path.of(args[3]), System.out);
    }
}
