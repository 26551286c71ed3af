package io.slipstream.launcher;

import io.slipstream.config.ConfigException;
import io.slipstream.config.Settings;
import io.slipstream.config.StackConfig;
import io.slipstream.nic.NicDriver;
import io.slipstream.nic.NicException;
import io.slipstream.shim.Fallback;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;

/**
 * {@code bin/slipstream run [--driver D] [--interface IF] [--address CIDR[,CIDR]] [--fallback
 * kernel|error] -- <java command line>}: runs an unmodified Java program on Slipstream, the way
 * {@code onload} wraps a program. The java command gets native access, the javaagent and the
 * {@code slipstream.*} properties right after its executable; {@code java} on its own is
 * replaced by the JDK the launcher runs on (JDK 25 or newer, found as the build finds it).
 * The Java side only computes the command line; {@code bin/slipstream} executes it in place of
 * itself.
 */
public final class RunCommand {
    static final String USAGE = "usage: slipstream run [--driver D] [--interface IF] [--address CIDR[,CIDR...]]"
            + " [--fallback kernel|error] -- <java command line>";

    private RunCommand() {}

    /**
     * The command to execute for {@code args} (the options, "--", then the java command line),
     * given the agent jar and the java executable that replaces a bare {@code java}.
     *
     * @throws IllegalArgumentException for a malformed command line (the message is the usage)
     * @throws ConfigException for a bad setting (the message names it)
     */
    public static List<String> build(List<String> args, Path agentJar, Path java) {
        Map<String, String> settings = new HashMap<>();
        int i = 0;
        for (; i < args.size() && !args.get(i).equals("--"); i++) {
            String option = args.get(i);
            if (i + 1 >= args.size()) {
                throw new IllegalArgumentException(option + " needs a value\n" + USAGE);
            }
            String value = args.get(++i);
            switch (option) {
                case "--driver" -> settings.put(StackConfig.DRIVER, value);
                case "--interface" -> settings.put(StackConfig.INTERFACE, value);
                case "--address" -> settings.put(StackConfig.ADDRESS, value);
                case "--fallback" -> settings.put(Fallback.MODE.name(), value);
                default -> throw new IllegalArgumentException("unknown option " + option + "\n" + USAGE);
            }
        }
        if (i >= args.size() - 1) {
            throw new IllegalArgumentException("no java command line after --\n" + USAGE);
        }
        check(settings);
        List<String> command = new ArrayList<>(args.subList(i + 1, args.size()));
        String executable = command.get(0);
        if (executable.equals("java")) {
            command.set(0, java.toString());
        } else if (!Path.of(executable).getFileName().toString().equals("java")) {
            throw new IllegalArgumentException("the command after -- must start with java, got " + executable + "\n" + USAGE);
        }
        List<String> injected = new ArrayList<>();
        injected.add("--enable-native-access=ALL-UNNAMED");
        injected.add("-javaagent:" + agentJar);
        settings.entrySet().stream().sorted(Map.Entry.comparingByKey())
                .forEach(e -> injected.add("-D" + e.getKey() + "=" + e.getValue()));
        command.addAll(1, injected);
        return command;
    }

    /**
     * Checks the settings now, so that a mistake is one line naming it rather than a failure in
     * the program: the stack's settings (the options over the environment, which the program
     * inherits), then the driver's own cheap checks of the interface ({@link NicDriver#check}:
     * for {@code xdp}, that it exists, that this process has the capabilities, that no other XDP
     * program is attached). A NIC that cannot be opened stops the launch under
     * {@code slipstream.fallback=error}; under {@code kernel} the program runs, and its first
     * socket on the NIC meets the same failure and says so, once.
     */
    private static void check(Map<String, String> options) {
        String mode = options.get(Fallback.MODE.name());
        if (mode != null) {
            try {
                Fallback.MODE.check(mode);
            } catch (ConfigException e) {
                throw new ConfigException("--fallback (" + e.getMessage() + ")");
            }
        }
        Properties given = new Properties();
        given.putAll(options);
        Settings settings = Settings.from(given, System.getenv());
        if (!settings.has(StackConfig.DRIVER) && !settings.has(StackConfig.INTERFACE) && !settings.has(StackConfig.ADDRESS)) {
            return; // configured by slipstream.* properties in the java command line, or not at all
        }
        if (!settings.has(StackConfig.ADDRESS)) {
            StackConfig.from(settings); // whether the driver can do without an address is StackConfig's to say
        }
        for (String cidr : settings.get(StackConfig.ADDRESS, "").split(",")) {
            if (!cidr.isBlank()) {
                Map<String, String> one = new HashMap<>(settings.asMap());
                one.put(StackConfig.ADDRESS, cidr.trim());
                StackConfig.from(Settings.of(one));
            }
        }
        try {
            NicDriver.byName(settings.get(StackConfig.DRIVER, "")).check(settings.get(StackConfig.INTERFACE, ""),
                    settings.asMap());
        } catch (NicException e) {
            if (Fallback.MODE.read(settings).equals("error")) {
                throw e;
            }
        }
    }

    /**
     * Writes the command for {@code bin/slipstream} to execute in place of itself: each argument
     * followed by a NUL byte, so that any argument (spaces, newlines) reaches the program as
     * given. The script {@code exec}s it, so the program is the process the user started: its
     * signals, exit status, standard input and place in the process tree are its own.
     */
    public static void print(List<String> args, Path agentJar, Path java, OutputStream out) throws IOException {
        StringBuilder all = new StringBuilder();
        for (String arg : build(args, agentJar, java)) {
            all.append(arg).append('\0');
        }
        out.write(all.toString().getBytes(StandardCharsets.UTF_8));
        out.flush();
    }
}
