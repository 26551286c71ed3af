package io.slipstream.interop;

import com.sun.net.httpserver.HttpServer;
import io.slipstream.shim.SlipstreamSelectorProvider;
import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.channels.DatagramChannel;
import java.nio.channels.spi.SelectorProvider;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * An ordinary program using only the JDK's HTTP server and client, run in a child JVM with the
 * Slipstream agent by {@link TapHttpInteropTest} (on a TAP device) and through
 * {@code bin/slipstream run} by the XDP tests (on a veth end shared with the kernel):
 *
 * <ul>
 *   <li>{@code serve ADDRESS PORT BYTES}: serves {@code BYTES} deterministic bytes at /data,
 *       prints READY, and stops when its standard input closes.
 *   <li>{@code fetch ADDRESS URL}: brings its stack up (a UDP socket bound to ADDRESS), prints
 *       READY, waits for GO on standard input, fetches URL and prints
 *       {@code FETCHED status length sha256}.
 *   <li>{@code fetch-now URL}: fetches URL at once, with HttpClient (SocketChannels) and then
 *       HttpURLConnection (a classic Socket), printing a FETCHED line for each.
 *   <li>{@code echo-serve ADDRESS PORT}: a classic ServerSocket on PORT and a Netty NIO server
 *       on PORT + 1 echo what each connection sends until it ends; prints READY, and stops
 *       when its standard input closes.
 * </ul>
 *
 * Both print which provider ran them and the fallbacks it counted.
 */
public final class TapHttpProgram {
    private TapHttpProgram() {}

    /** The body {@code serve} sends: the same bytes for the same length, every time. */
    static void writeBody(OutputStream out, long length) throws java.io.IOException {
        SplittableRandom random = new SplittableRandom(42);
        byte[] block = new byte[64 * 1024];
        for (long sent = 0; sent < length; sent += block.length) {
            random.nextBytes(block);
            out.write(block, 0, (int) Math.min(block.length, length - sent));
        }
    }

    /** {@code bin/slipstream}, which the tests run as a user would. */
    static final Path SCRIPT = Path.of(System.getProperty("user.dir")).getParent().resolve("bin/slipstream");
    /** The build that runs the tests has packaged the jars: the script must not build again. */
    static final Map<String, String> PACKAGED = Map.of("SLIPSTREAM_NO_BUILD", "1");

    /** {@code bin/slipstream run OPTIONS -- java -cp <the tests' class path> TapHttpProgram ARGS}. */
    static List<String> launched(List<String> options, String... programArgs) {
        List<String> cmd = new ArrayList<>(List.of(SCRIPT.toString(), "run"));
        cmd.addAll(options);
        cmd.addAll(List.of("--", "java", "-cp", System.getProperty("java.class.path"), TapHttpProgram.class.getName()));
        cmd.addAll(List.of(programArgs));
        return cmd;
    }

    /** The SHA-256 of what {@code serve} sends for {@code length}, in hex. */
    static String bodySha256(long length) throws Exception {
        MessageDigest digest = MessageDigest.getInstance("SHA-256");
        writeBody(new OutputStream() {
            @Override
            public void write(int b) {
                digest.update((byte) b);
            }

            @Override
            public void write(byte[] b, int off, int len) {
                digest.update(b, off, len);
            }
        }, length);
        return HexFormat.of().formatHex(digest.digest());
    }

    public static void main(String[] args) throws Exception {
        SelectorProvider provider = SelectorProvider.provider();
        System.out.println("provider " + provider.getClass().getSimpleName());
        BufferedReader stdin = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.US_ASCII));
        switch (args[0]) {
            case "serve" -> {
                long length = Long.parseLong(args[3]);
                HttpServer server = HttpServer.create(
                        new InetSocketAddress(InetAddress.getByName(args[1]), Integer.parseInt(args[2])), 16);
                server.createContext("/data", exchange -> {
                    exchange.sendResponseHeaders(200, length);
                    try (OutputStream body = exchange.getResponseBody()) {
                        writeBody(body, length);
                    }
                });
                server.start();
                System.out.println("READY");
                while (stdin.readLine() != null) {
                    // serve until the test closes our input
                }
                server.stop(0);
            }
            case "fetch" -> {
                try (DatagramChannel up = DatagramChannel.open()) {
                    up.bind(new InetSocketAddress(InetAddress.getByName(args[1]), 0)); // opens the stack
                    System.out.println("READY");
                    if (!"GO".equals(stdin.readLine())) {
                        throw new IllegalStateException("expected GO on standard input");
                    }
                }
                fetchWithHttpClient(args[2]);
            }
            case "fetch-now" -> {
                fetchWithHttpClient(args[1]);
                fetchWithUrlConnection(args[1]);
            }
            case "echo-serve" -> {
                InetAddress address = InetAddress.getByName(args[1]);
                int port = Integer.parseInt(args[2]);
                try (ServerSocket classic = new ServerSocket(port, 16, address)) {
                    Thread.ofVirtual().start(() -> classicEcho(classic));
                    io.netty.channel.EventLoopGroup group = new io.netty.channel.nio.NioEventLoopGroup(2);
                    try {
                        nettyEcho(group, address, port + 1);
                        System.out.println("READY");
                        while (stdin.readLine() != null) {
                            // serve until the test closes our input
                        }
                    } finally {
                        group.shutdownGracefully(0, 1, java.util.concurrent.TimeUnit.SECONDS).sync();
                    }
                }
            }
            default -> throw new IllegalArgumentException("unknown mode " + args[0]);
        }
        if (provider instanceof SlipstreamSelectorProvider p) {
            System.out.println("fallbacks " + p.fallback().counts());
        }
        System.out.println("DONE");
    }

    /** A classic ServerSocket (the agent's SocketImpl) whose connections each echo what they receive until its end. */
    private static void classicEcho(ServerSocket server) {
        while (!server.isClosed()) {
            try {
                Socket s = server.accept();
                Thread.ofVirtual().start(() -> {
                    try (s) {
                        s.getInputStream().transferTo(s.getOutputStream());
                    } catch (java.io.IOException e) {
                        e.printStackTrace();
                    }
                });
            } catch (java.io.IOException e) {
                if (!server.isClosed()) {
                    e.printStackTrace();
                }
            }
        }
    }

    /** A Netty NIO server with default settings, echoing what each connection receives. */
    private static void nettyEcho(io.netty.channel.EventLoopGroup group, InetAddress address, int port)
            throws InterruptedException {
        new io.netty.bootstrap.ServerBootstrap().group(group)
                .channel(io.netty.channel.socket.nio.NioServerSocketChannel.class)
                .childHandler(new io.netty.channel.ChannelInboundHandlerAdapter() {
                    @Override
                    public void channelRead(io.netty.channel.ChannelHandlerContext ctx, Object msg) {
                        ctx.write(msg);
                    }

                    @Override
                    public void channelReadComplete(io.netty.channel.ChannelHandlerContext ctx) {
                        ctx.flush();
                    }
                })
                .bind(address, port).sync();
    }

    /** java.net.http: SocketChannels. */
    private static void fetchWithHttpClient(String url) throws Exception {
        HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
        HttpResponse<InputStream> response = client.send(
                HttpRequest.newBuilder(URI.create(url)).build(), HttpResponse.BodyHandlers.ofInputStream());
        try (InputStream body = response.body()) {
            printFetched(response.statusCode(), body);
        }
    }

    /** HttpURLConnection: a classic Socket. */
    private static void fetchWithUrlConnection(String url) throws Exception {
        java.net.HttpURLConnection c = (java.net.HttpURLConnection) URI.create(url).toURL().openConnection();
        try (InputStream body = c.getInputStream()) {
            printFetched(c.getResponseCode(), body);
        } finally {
            c.disconnect();
        }
    }

    private static void printFetched(int status, InputStream body) throws Exception {
        MessageDigest digest = MessageDigest.getInstance("SHA-256");
        long length = 0;
        byte[] buf = new byte[64 * 1024];
        int n;
        while ((n = body.read(buf)) > 0) {
            digest.update(buf, 0, n);
            length += n;
        }
        System.out.println("FETCHED " + status + " " + length + " " + HexFormat.of().formatHex(digest.digest()));
    }
}
