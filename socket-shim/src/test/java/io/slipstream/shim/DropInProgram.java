package io.slipstream.shim;

import com.sun.net.httpserver.HttpServer;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.channels.spi.SelectorProvider;
import java.security.MessageDigest;
import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * An ordinary program, written against java.net and java.net.http only: {@link AgentDropInTest}
 * runs it in a child JVM with the javaagent and checks what it prints. The host to use is its
 * first argument; it prints one line per check and "DONE" at the end.
 */
public final class DropInProgram {
    private DropInProgram() {}

    /** A Netty NIO echo server and client with default settings; returns what came back. */
    static String nettyEcho(InetAddress host, String message) throws Exception {
        io.netty.channel.EventLoopGroup group = new io.netty.channel.nio.NioEventLoopGroup(2);
        try {
            io.netty.channel.Channel server = new io.netty.bootstrap.ServerBootstrap().group(group)
                    .channel(io.netty.channel.socket.nio.NioServerSocketChannel.class)
                    .childHandler(new io.netty.channel.ChannelInboundHandlerAdapter() {
                        @Override
                        public void channelRead(io.netty.channel.ChannelHandlerContext ctx, Object msg) {
                            ctx.writeAndFlush(msg);
                        }
                    })
                    .bind(host, 0).sync().channel();
            java.util.concurrent.CompletableFuture<String> reply = new java.util.concurrent.CompletableFuture<>();
            int length = message.length();
            io.netty.channel.Channel client = new io.netty.bootstrap.Bootstrap().group(group)
                    .channel(io.netty.channel.socket.nio.NioSocketChannel.class)
                    .handler(new io.netty.channel.ChannelInboundHandlerAdapter() {
                        private final StringBuilder got = new StringBuilder();

                        @Override
                        public void channelRead(io.netty.channel.ChannelHandlerContext ctx, Object msg) {
                            io.netty.buffer.ByteBuf b = (io.netty.buffer.ByteBuf) msg;
                            got.append(b.toString(java.nio.charset.StandardCharsets.UTF_8));
                            b.release();
                            if (got.length() >= length) {
                                reply.complete(got.toString());
                            }
                        }
                    })
                    .connect(server.localAddress()).sync().channel();
            client.writeAndFlush(io.netty.buffer.Unpooled.copiedBuffer(message, java.nio.charset.StandardCharsets.UTF_8));
            String r = reply.get(30, java.util.concurrent.TimeUnit.SECONDS);
            client.close().sync();
            server.close().sync();
            return r;
        } finally {
            group.shutdownGracefully(0, 1, java.util.concurrent.TimeUnit.SECONDS).sync();
        }
    }

    public static void main(String[] args) throws Exception {
        InetAddress host = InetAddress.getByName(args[0]);
        System.out.println("provider " + SelectorProvider.provider().getClass().getName());

        try (ServerSocket server = new ServerSocket(0, 50, host)) {
            System.out.println("classic listening on " + server.getLocalSocketAddress()
                    + (server.getLocalSocketAddress().equals(new InetSocketAddress(host, server.getLocalPort())) ? " as bound" : " not as bound"));
            Thread echo = Thread.ofVirtual().start(() -> {
                try (Socket s = server.accept()) {
                    InputStream in = s.getInputStream();
                    OutputStream out = s.getOutputStream();
                    out.write(in.readNBytes(5));
                } catch (Exception e) {
                    e.printStackTrace();
                }
            });
            try (Socket client = new Socket(host, server.getLocalPort())) {
                client.getOutputStream().write("hello".getBytes());
                System.out.println("classic " + new String(client.getInputStream().readNBytes(5)));
            }
            echo.join();
        }

        byte[] body = new byte[10 << 20];
        new SplittableRandom(11).nextBytes(body);
        HttpServer http = HttpServer.create(new InetSocketAddress(host, 0), 0);
        http.createContext("/", exchange -> {
            exchange.sendResponseHeaders(200, body.length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(body);
            }
        });
        http.start();
        try {
            HttpClient client = HttpClient.newBuilder().proxy(java.net.ProxySelector.of(null)).build();
            URI uri = URI.create("http://" + host.getHostAddress() + ":" + http.getAddress().getPort() + "/");
            HttpResponse<byte[]> r = client.send(HttpRequest.newBuilder(uri).build(), HttpResponse.BodyHandlers.ofByteArray());
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            boolean same = Arrays.equals(md.digest(body), MessageDigest.getInstance("SHA-256").digest(r.body()));
            System.out.println("http " + r.statusCode() + " " + r.body().length + " " + (same ? "digest-ok" : "digest-bad"));
        } finally {
            http.stop(0);
        }
        System.out.println("netty " + nettyEcho(host, "through netty"));

        if (SelectorProvider.provider() instanceof SlipstreamSelectorProvider p) {
            System.out.println("fallbacks " + p.fallback().counts());
        }
        System.out.println("DONE");
    }
}
