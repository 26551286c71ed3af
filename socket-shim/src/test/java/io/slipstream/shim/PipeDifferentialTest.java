package io.slipstream.shim;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.channels.AsynchronousCloseException;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.Pipe;
import java.nio.channels.SelectionKey;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** Pipes from both providers: transfer, end of stream, non-blocking, close while blocked. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class PipeDifferentialTest {

    static java.util.stream.Stream<Env> envs() {
        return Env.all();
    }

    @ParameterizedTest
    @MethodSource("envs")
    void bytesFlowAndClosingTheSinkEndsTheStream(Env env) throws Exception {
        Pipe p = env.provider().openPipe();
        byte[] data = new byte[1 << 20];
        new java.util.SplittableRandom(3).nextBytes(data);
        CompletableFuture<Void> writer = CompletableFuture.runAsync(() -> {
            try {
                p.sink().write(ByteBuffer.wrap(data));
                p.sink().close();
            } catch (Exception e) {
                throw new RuntimeException(e);
            }
        });
        ByteBuffer got = ByteBuffer.allocate(data.length + 1);
        while (p.source().read(got) >= 0) {
            // until end of stream
        }
        writer.get(30, TimeUnit.SECONDS);
        assertEquals(data.length, got.position());
        assertArrayEquals(data, java.util.Arrays.copyOf(got.array(), data.length));
        p.source().close();
        assertThrows(ClosedChannelException.class, () -> p.source().read(ByteBuffer.allocate(1)));
    }

    @ParameterizedTest
    @MethodSource("envs")
    void nonBlockingEndsReturnZeroWhenNothingCanMove(Env env) throws Exception {
        try (PipeEnds p = PipeEnds.open(env.provider())) {
            p.source().configureBlocking(false);
            p.sink().configureBlocking(false);
            assertEquals(0, p.source().read(ByteBuffer.allocate(8)));
            long total = 0;
            int n;
            ByteBuffer chunk = ByteBuffer.allocate(65_536);
            while ((n = p.sink().write(chunk.clear())) > 0) {
                total += n;
            }
            assertEquals(0, n);
            assertTrue(total > 0, "the pipe buffer filled");
            assertEquals(SelectionKey.OP_READ, p.source().validOps());
            assertEquals(SelectionKey.OP_WRITE, p.sink().validOps());
        }
    }

    /** IOUtil refuses a read-only buffer anywhere in the vector before it reads, so no byte is lost. */
    @ParameterizedTest
    @MethodSource("envs")
    void aReadOnlyBufferInAVectorReadIsRefusedBeforeAnyByteIsTaken(Env env) throws Exception {
        try (PipeEnds p = PipeEnds.open(env.provider())) {
            p.sink().write(ByteBuffer.wrap(new byte[] {1, 2, 3, 4, 5, 6}));
            ByteBuffer[] vector = {ByteBuffer.allocate(2), ByteBuffer.allocate(8).asReadOnlyBuffer()};
            assertThrows(IllegalArgumentException.class, () -> p.source().read(vector));
            assertThrows(IllegalArgumentException.class, () -> p.source().read(vector, 1, 1));
            assertEquals(0, vector[0].position(), "nothing was read into the writable buffer");
            ByteBuffer all = ByteBuffer.allocate(6);
            while (all.hasRemaining()) {
                p.source().read(all);
            }
            assertArrayEquals(new byte[] {1, 2, 3, 4, 5, 6}, all.array(), "every byte is still in the pipe");
        }
    }

    @ParameterizedTest
    @MethodSource("envs")
    void closingTheSourceWhileAReaderWaitsGivesAsynchronousClose(Env env) throws Exception {
        Pipe p = env.provider().openPipe();
        Throwable t = Blocked.thrownWhen(true, () -> p.source().read(ByteBuffer.allocate(8)), x -> p.source().close());
        assertInstanceOf(AsynchronousCloseException.class, t);
        assertFalse(p.source().isOpen());
        p.sink().close();
    }
}
