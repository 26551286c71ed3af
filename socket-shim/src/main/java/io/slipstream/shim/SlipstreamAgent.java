package io.slipstream.shim;

import java.io.IOException;
import java.lang.instrument.Instrumentation;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.channels.spi.SelectorProvider;

/**
 * The {@code -javaagent} that puts an unmodified program on Slipstream: before the program's
 * {@code main} it names {@link SlipstreamSelectorProvider} as the java.nio provider (unless the
 * command line already named one) and installs a SocketImpl factory for both {@link Socket} and
 * {@link ServerSocket}. Both are needed: a ServerSocket with a custom impl can only accept into
 * a Socket with one.
 *
 * <p>Agent arguments, if any, are {@code slipstream.*} settings, comma-separated
 * ({@code -javaagent:socket-shim.jar=slipstream.driver=tap,slipstream.interface=tap0}); they are
 * set as system properties before the provider reads its configuration.
 */
public final class SlipstreamAgent {
    static final String PROVIDER_PROPERTY = "java.nio.channels.spi.SelectorProvider";

    private SlipstreamAgent() {}

    public static void premain(String args, Instrumentation instrumentation) throws IOException {
        premain(args);
    }

    public static void premain(String args) throws IOException {
        applyArguments(args);
        if (System.getProperty(PROVIDER_PROPERTY) == null) {
            System.setProperty(PROVIDER_PROPERTY, SlipstreamSelectorProvider.class.getName());
        }
        SelectorProvider p = SelectorProvider.provider();
        SlipstreamSelectorProvider slipstream = p instanceof SlipstreamSelectorProvider s ? s : new SlipstreamSelectorProvider();
        install(slipstream);
    }

    /** Installs the classic-socket factories over {@code provider}; once per JVM. */
    @SuppressWarnings("deprecation") // the only way to replace the impl of every Socket and ServerSocket
    static void install(SlipstreamSelectorProvider provider) throws IOException {
        Socket.setSocketImplFactory(() -> new ShimSocketImpl(provider, false));
        ServerSocket.setSocketFactory(() -> new ShimSocketImpl(provider, true));
    }

    private static void applyArguments(String args) {
        if (args == null || args.isBlank()) {
            return;
        }
        for (String pair : args.split(",")) {
            int eq = pair.indexOf('=');
            if (eq <= 0 || !pair.startsWith("slipstream.")) {
                throw new IllegalArgumentException("Slipstream agent argument must be slipstream.name=value, got '" + pair + "'");
            }
            System.setProperty(pair.substring(0, eq).trim(), pair.substring(eq + 1).trim());
        }
    }
}
