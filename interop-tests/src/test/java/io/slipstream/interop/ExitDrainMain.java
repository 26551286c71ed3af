package io.slipstream.interop;

import io.slipstream.bench.BlockingConnection;
import io.slipstream.bench.TcpPair;
import io.slipstream.tcp.TcpConnectOptions;
import java.nio.ByteBuffer;
import java.util.Map;
import java.util.zip.CRC32;

/**
 * Child process of {@link RuntimeAcceptanceTest}: a sender writes N bytes on stack A and lets
 * main return without closing, so what is still in its send buffer is only delivered by the
 * runtime's drain at JVM shutdown. The receiver (stack B, a daemon thread standing in for the
 * peer process) reports what it got; a shutdown hook lets it finish before the JVM halts.
 * Each stack prints its counters at exit ({@code slipstream.exit.counters}).
 */
public final class ExitDrainMain {
    private ExitDrainMain() {}

    public static void main(String[] args) throws Exception {
        long total = Long.parseLong(args[0]);
        TcpPair p = new TcpPair(Map.of("slipstream.exit.linger.ms", "120000", "slipstream.exit.counters", "true"));
        BlockingConnection[] c = RuntimeTcpTest.connect(p, TcpConnectOptions.DEFAULT);
        Thread receiver = Thread.ofPlatform().daemon().start(() -> {
            try {
                CRC32 crc = new CRC32();
                ByteBuffer in = ByteBuffer.allocate(64 * 1024);
                long got = 0;
                int n;
                while ((n = c[1].read(in.clear())) >= 0) {
                    crc.update(in.flip());
                    got += n;
                }
                System.out.println("RECEIVED " + got + " " + crc.getValue() + " FIN");
            } catch (Exception e) {
                System.out.println("RECEIVER FAILED " + e);
            }
            System.out.flush();
        });
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                receiver.join(180_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }));
        CRC32 crc = new CRC32();
        ByteBuffer out = ByteBuffer.allocate(64 * 1024);
        for (long off = 0; off < total; off += out.capacity()) {
            out.clear();
            for (int i = 0; i < out.capacity(); i++) {
                out.put(i, RuntimeAcceptanceTest.pattern(off + i));
            }
            crc.update(out.duplicate());
            c[0].write(out);
        }
        p.a.enter();
        try {
            System.out.println("PENDING " + c[0].connection().unacknowledged() + " bytes unacknowledged as main returns");
        } finally {
            p.a.exit();
        }
        System.out.println("SENT " + total + " " + crc.getValue());
        System.out.flush();
        // main returns: no close, unsent data still queued.
    }
}
