package io.slipstream.launcher;

import java.io.BufferedReader;
import java.io.InputStreamReader;

/**
 * A program for {@link LauncherProcessTest}: {@code wait} reports its shutdown hook, echoes one
 * line of standard input and then waits (at most a minute) to be signalled; {@code exit N}
 * exits with status N.
 */
public final class SignalProgram {
    private SignalProgram() {}

    public static void main(String[] args) throws Exception {
        if (args[0].equals("exit")) {
            System.exit(Integer.parseInt(args[1]));
        }
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            System.out.println("shutdown hook ran");
            System.out.flush();
        }));
        System.out.println("ready");
        System.out.flush();
        String line = new BufferedReader(new InputStreamReader(System.in)).readLine();
        System.out.println("stdin: " + line);
        System.out.flush();
        Thread.sleep(60_000);
    }
}
