package io.slipstream.bench;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.HttpURLConnection;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;

/**
 * The two sides of {@link ServerBench}'s HTTP case, each a plain program (nothing of Slipstream
 * in it), so either runs unchanged on the kernel or through {@code bin/slipstream run}:
 *
 * <ul>
 *   <li>{@code serve ADDRESS PORT TIMEOUT_S}: the JDK's {@link HttpServer} as it comes (its own
 *       dispatcher thread and selector, the default executor), bound to ADDRESS (the wildcard
 *       0.0.0.0 or one address); {@code GET /} answers a 13-byte body, {@code GET /quit} ends it.
 *       Prints {@code listening}, then {@code result served requests=N} (the requests to /).
 *   <li>{@code load URL SECONDS CONNECTIONS TIMEOUT_S}: {@code wrk} against URL for that long
 *       (one thread, that many keep-alive connections, {@code --latency}), then {@code GET /quit};
 *       prints {@code result http} with wrk's figures ({@link WrkReport}).
 * </ul>
 *
 * A watchdog ends either JVM after TIMEOUT_S, as {@link NioPeer}'s does.
 */
public final class HttpPeer {
    static final byte[] BODY = "hello, world\n".getBytes(StandardCharsets.US_ASCII);

    private HttpPeer() {}

    public static void main(String[] args) throws Exception {
        if (args.length < 4) {
            throw new IllegalArgumentException("usage: HttpPeer serve ADDRESS PORT TIMEOUT_S"
                    + " | load URL SECONDS CONNECTIONS TIMEOUT_S");
        }
        switch (args[0]) {
            case "serve" -> {
                NioPeer.watchdog(Long.parseLong(args[3]));
                serve(new InetSocketAddress(InetAddress.getByName(args[1]), Integer.parseInt(args[2])));
            }
            case "load" -> {
                NioPeer.watchdog(Long.parseLong(args[4]));
                load(URI.create(args[1]), Integer.parseInt(args[2]), Integer.parseInt(args[3]),
                        Duration.ofSeconds(Long.parseLong(args[4])));
            }
            default -> throw new IllegalArgumentException("unknown role " + args[0]);
        }
    }

    private static void serve(InetSocketAddress address) throws IOException, InterruptedException {
        LongAdder requests = new LongAdder();
        CountDownLatch quit = new CountDownLatch(1);
        HttpServer server = HttpServer.create(address, 0);
        server.createContext("/", exchange -> {
            requests.increment();
            answer(exchange, BODY);
        });
        server.createContext("/quit", exchange -> {
            answer(exchange, BODY);
            quit.countDown(); // stop() waits for the handlers, so it is called from main, not here
        });
        server.start();
        System.out.println("listening");
        System.out.flush();
        quit.await();
        server.stop(0);
        System.out.println("result served requests=" + requests.sum());
    }

    private static void answer(HttpExchange exchange, byte[] body) throws IOException {
        try (exchange; InputStream in = exchange.getRequestBody(); OutputStream out = exchange.getResponseBody()) {
            in.transferTo(OutputStream.nullOutputStream());
            exchange.sendResponseHeaders(200, body.length);
            out.write(body);
        }
    }

    private static void load(URI url, int seconds, int connections, Duration timeout) throws Exception {
        List<String> command = List.of("wrk", "-t", "1", "-c", Integer.toString(connections), "-d", seconds + "s",
                "--latency", url.toString());
        Process wrk = new ProcessBuilder(command).redirectErrorStream(true).start();
        String output = new String(wrk.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!wrk.waitFor(timeout.toSeconds(), TimeUnit.SECONDS) || wrk.exitValue() != 0) {
            throw new IllegalStateException(String.join(" ", command) + " failed: " + output);
        }
        System.out.print(output); // wrk's own report, for the record
        WrkReport report = WrkReport.parse(output);
        int quitStatus = get(url.resolve("/quit"));
        if (quitStatus != 200) {
            throw new IllegalStateException("GET /quit answered " + quitStatus);
        }
        System.out.printf(Locale.ROOT, "result http requests=%d rps=%.1f p50_us=%.2f p99_us=%.2f errors=%d%n",
                report.requests(), report.requestsPerSecond(), report.p50Us(), report.p99Us(), report.errors());
    }

    private static int get(URI uri) throws IOException {
        HttpURLConnection c = (HttpURLConnection) uri.toURL().openConnection();
        try {
            c.setConnectTimeout(10_000);
            c.setReadTimeout(10_000);
            int status = c.getResponseCode();
            c.getInputStream().transferTo(OutputStream.nullOutputStream());
            return status;
        } finally {
            c.disconnect();
        }
    }
}
