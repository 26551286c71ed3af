package io.slipstream.interop;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.slipstream.bench.BlockingConnection;
import io.slipstream.bench.TcpPair;
import io.slipstream.stack.RuntimeCounter;
import io.slipstream.stack.StackCounter;
import io.slipstream.stack.WaitQueue;
import io.slipstream.tcp.TcpConnectOptions;
import io.slipstream.tcp.TcpCounter;
import io.slipstream.tcp.TcpListener;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.Test;

/** The acceptance criteria of the stack runtime (issue 4), over the in-memory NIC with TCP. */
class RuntimeAcceptanceTest {

    @Test
    void aReceiverWhoseApplicationStopsCallingIsAcknowledgedThroughoutByStallRescues() throws Exception {
        TcpConnectOptions big = TcpConnectOptions.DEFAULT.withBuffers(32 << 20, 1 << 20);
        try (TcpPair p = new TcpPair(Map.of())) {
            BlockingConnection[] c = RuntimeTcpTest.connect(p, big);
            BlockingConnection sender = c[0];
            BlockingConnection receiver = c[1];
            AtomicBoolean stop = new AtomicBoolean();
            AtomicLong sent = new AtomicLong();
            assertTimeoutPreemptively(Duration.ofSeconds(120), () -> {
                try (ExecutorService ex = Executors.newFixedThreadPool(1)) {
                    // The peer keeps sending at about 4 MB/s, whatever the receiver does.
                    Future<?> sending = ex.submit(() -> {
                        ByteBuffer chunk = ByteBuffer.allocate(8192);
                        long n = 0;
                        while (!stop.get()) {
                            chunk.clear();
                            for (int i = 0; i < chunk.capacity(); i++) {
                                chunk.put(i, pattern(n + i));
                            }
                            sender.write(chunk);
                            n += chunk.capacity();
                            sent.set(n);
                            LockSupport.parkNanos(2_000_000);
                        }
                        sender.close();
                        return null;
                    });
                    ByteBuffer in = ByteBuffer.allocate(64 * 1024);
                    long received = readAndCheck(receiver, in, 0, 256 * 1024);

                    // The receiving application stops calling into its stack for 5 s.
                    long appPolls = p.b.runtimeCounters().get(RuntimeCounter.APP_POLLS);
                    long rescues = p.b.runtimeCounters().get(RuntimeCounter.STALL_RESCUES);
                    long maxUnacked = 0;
                    long stallEnd = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
                    while (System.nanoTime() - stallEnd < 0) {
                        Thread.sleep(10);
                        p.a.enter();
                        try {
                            maxUnacked = Math.max(maxUnacked, sender.connection().unacknowledged());
                        } finally {
                            p.a.exit();
                        }
                    }
                    long sentDuringStall = sent.get() - received;
                    assertEquals(appPolls, p.b.runtimeCounters().get(RuntimeCounter.APP_POLLS),
                            "the receiving application did not poll");
                    assertTrue(p.b.runtimeCounters().get(RuntimeCounter.STALL_RESCUES) > rescues,
                            p.b.runtimeCounters().toString());
                    assertTrue(sentDuringStall > 4L << 20, "the peer kept sending: " + sentDuringStall);
                    // Acknowledged throughout: never more than a few chunks wait for an ACK.
                    assertTrue(maxUnacked < 1 << 20, "unacknowledged bytes reached " + maxUnacked);

                    stop.set(true);
                    received = readAndCheck(receiver, in, received, Long.MAX_VALUE);
                    sending.get();
                    assertEquals(sent.get(), received);
                }
            });
            assertEquals(0, p.a.counters().get(StackCounter.INTERNAL_ERRORS));
            assertEquals(0, p.tcpA.counters().get(TcpCounter.RTO_EXPIRIES),
                    "the sender never retransmitted on timeout");
            assertEquals(0, p.tcpA.counters().get(TcpCounter.RETRANSMITS));
        }
    }

    /** Reads (checking the pattern) until {@code limit} bytes or the end of the stream; returns the offset reached. */
    private static long readAndCheck(BlockingConnection c, ByteBuffer in, long offset, long limit) throws Exception {
        while (offset < limit) {
            in.clear();
            if (limit - offset < in.capacity()) {
                in.limit((int) (limit - offset));
            }
            int n = c.read(in);
            if (n < 0) {
                return offset;
            }
            for (int i = 0; i < n; i++) {
                if (in.get(i) != pattern(offset + i)) {
                    throw new AssertionError("byte " + (offset + i) + " corrupted");
                }
            }
            offset += n;
        }
        return offset;
    }

    static byte pattern(long i) {
        return (byte) (i * 31 + (i >>> 13));
    }

    @Test
    void tenThousandVirtualThreadsEachWithItsOwnConnectionExchangeMessages() throws Exception {
        int n = 10_000;
        TcpConnectOptions small = TcpConnectOptions.DEFAULT.withBuffers(4096, 4096).withNoDelay(true);
        Map<String, String> options = Map.of("slipstream.poll.usec", "0", "slipstream.nic.rx.ring", "4096",
                "slipstream.nic.tx.ring", "4096", "slipstream.nic.buffers", "16384", "slipstream.tcp.syn.backlog", "16384");
        try (TcpPair p = new TcpPair(options)) {
            TcpListener[] l = new TcpListener[1];
            WaitQueue lq = BlockingConnection.listen(p.b, p.tcpB, 6000, n, small, l);
            AtomicInteger echoed = new AtomicInteger();
            AtomicInteger ok = new AtomicInteger();
            assertTimeoutPreemptively(Duration.ofSeconds(600), () -> {
                try (ExecutorService ex = Executors.newVirtualThreadPerTaskExecutor()) {
                    ex.submit(() -> {
                        for (int i = 0; i < n; i++) {
                            BlockingConnection s = BlockingConnection.accept(p.b, l[0], lq);
                            ex.submit(() -> {
                                ByteBuffer b = ByteBuffer.allocate(32);
                                if (s.readFully(b)) {
                                    b.flip();
                                    s.write(b);
                                    echoed.incrementAndGet();
                                }
                                b.clear();
                                s.read(b); // the client's FIN
                                s.close();
                                return null;
                            });
                        }
                        return null;
                    });
                    List<Future<?>> clients = new ArrayList<>();
                    for (int i = 0; i < n; i++) {
                        int id = i;
                        clients.add(ex.submit(() -> {
                            BlockingConnection c = BlockingConnection.connect(p.a, p.tcpA, TcpPair.B_ADDRESS, 6000, small);
                            ByteBuffer out = ByteBuffer.allocate(32);
                            out.putInt(0, id).putLong(8, id * 7919L);
                            c.write(out);
                            ByteBuffer in = ByteBuffer.allocate(32);
                            assertTrue(c.readFully(in));
                            assertEquals(id, in.getInt(0));
                            assertEquals(id * 7919L, in.getLong(8));
                            c.close();
                            ok.incrementAndGet();
                            return null;
                        }));
                    }
                    for (Future<?> f : clients) {
                        f.get();
                    }
                }
            });
            assertEquals(n, ok.get());
            assertEquals(n, echoed.get());
            assertEquals(0, p.a.counters().get(StackCounter.INTERNAL_ERRORS));
            assertEquals(0, p.b.counters().get(StackCounter.INTERNAL_ERRORS));
        }
    }

    @Test
    void aSenderThatLetsMainReturnStillDeliversEveryByteAndAFin() throws Exception {
        long total = 50L << 20;
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        ProcessBuilder pb = new ProcessBuilder(java.toString(), "--enable-native-access=ALL-UNNAMED",
                "-cp", System.getProperty("java.class.path"), ExitDrainMain.class.getName(), Long.toString(total))
                .redirectErrorStream(true);
        Process child = pb.start();
        List<String> lines = new ArrayList<>();
        assertTimeoutPreemptively(Duration.ofSeconds(300), () -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = r.readLine()) != null) {
                    lines.add(line);
                }
            }
            child.waitFor();
        }, () -> {
            child.destroyForcibly();
            return "child still running; output so far: " + lines;
        });
        assertEquals(0, child.exitValue(), () -> "child failed: " + lines);
        String sent = lines.stream().filter(s -> s.startsWith("SENT ")).findFirst().orElseThrow(
                () -> new AssertionError("no SENT line: " + lines));
        String received = lines.stream().filter(s -> s.startsWith("RECEIVED ")).findFirst().orElseThrow(
                () -> new AssertionError("no RECEIVED line: " + lines));
        // Main returned right after its last write: the drain at exit delivered the rest and the FIN.
        assertEquals("SENT " + total, sent.substring(0, sent.lastIndexOf(' ')));
        String crc = sent.substring(sent.lastIndexOf(' ') + 1);
        assertEquals("RECEIVED " + total + " " + crc + " FIN", received, () -> String.join("\n", lines));
        // slipstream.exit.counters: each stack's non-zero counters, after its drain.
        assertEquals(2, lines.stream().filter(s -> s.startsWith("slipstream counters of ")).count(), () -> String.join("\n", lines));
        assertTrue(lines.stream().anyMatch(s -> s.startsWith("  tcp: ") && s.contains(" data_segments_sent=")),
                () -> String.join("\n", lines));
    }
}
