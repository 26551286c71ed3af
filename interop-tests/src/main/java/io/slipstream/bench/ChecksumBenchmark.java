package io.slipstream.bench;

import io.slipstream.wire.InternetChecksum;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * The Internet checksum over off-heap packet data: a minimal frame, a full 1500-byte MTU
 * and a 9000-byte jumbo frame, at an aligned start and at an odd one (a transport header
 * behind a 14-byte Ethernet header starts at an unaligned address).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class ChecksumBenchmark {

    @Param({"64", "1500", "9000"})
    int size;

    private Arena arena;
    private MemorySegment data;

    @Setup
    public void setUp() {
        arena = Arena.ofShared();
        data = arena.allocate(size + 1, 64);
        SplittableRandom random = new SplittableRandom(42);
        for (long i = 0; i < data.byteSize(); i++) {
            data.set(ValueLayout.JAVA_BYTE, i, (byte) random.nextInt());
        }
    }

    @TearDown
    public void tearDown() {
        arena.close();
    }

    @Benchmark
    public int aligned() {
        return InternetChecksum.compute(data, 0, size);
    }

    @Benchmark
    public int oddOffset() {
        return InternetChecksum.compute(data, 1, size);
    }
}
