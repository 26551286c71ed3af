package io.slipstream.controlplane;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.slipstream.linux.NetNamespace;
import io.slipstream.wire.Ipv4Address;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Notifications lost to a full socket buffer (ENOBUFS) are counted and made up for by reading
 * every table again: the snapshot ends up as the kernel's.
 */
class KernelControlPlaneOverrunTest extends SandboxedControlPlaneTest {
    private static final int ENTRIES = 200;

    private Path batch;

    @AfterEach
    void deleteBatch() throws IOException {
        if (batch != null) {
            Files.deleteIfExists(batch);
        }
    }

    @Test
    void aBurstLargerThanTheSocketBufferEndsInAResyncThatMatchesTheKernel() throws Exception {
        // A tiny receive buffer, and a reader held up in the change listener while the burst comes.
        KernelControlPlane cp = KernelControlPlane.open(ControlPlaneSandbox.IF,
                NetNamespace.named(box.ours.name()), 4096);
        box.cp = cp;
        CountDownLatch release = new CountDownLatch(1);
        AtomicBoolean held = new AtomicBoolean();
        cp.onChange(() -> {
            if (held.compareAndSet(false, true)) {
                try {
                    release.await(20, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        });
        box.ip("neigh", "add", "198.18.9.250", "lladdr", "02:53:00:00:09:fa", "dev", "v0", "nud", "permanent");
        long deadline = System.nanoTime() + ControlPlaneSandbox.STEP.toNanos();
        while (!held.get()) {
            assertTrue(System.nanoTime() - deadline < 0, "the reader reached the listener");
            Thread.sleep(10);
        }

        StringBuilder commands = new StringBuilder();
        for (int i = 1; i <= ENTRIES; i++) {
            commands.append(String.format("neigh add 198.18.8.%d lladdr 02:53:00:00:08:%02x dev v0 nud permanent%n",
                    i, i));
        }
        box.ip("addr", "add", "198.18.8.254/24", "dev", "v0");
        batch = Files.createTempFile("slipstream-neigh-", ".batch");
        Files.writeString(batch, commands);
        box.ip("-batch", batch.toString());
        release.countDown();

        box.awaitCount(ControlPlaneCounter.OVERRUNS, 1);
        InterfaceSnapshot s = box.awaitMatchesKernel();
        assertEquals(ENTRIES + 1, s.neighbourCount());
        assertEquals(0x02_53_00_00_08_07L, s.macOf(Ipv4Address.parse("198.18.8.7")));
        assertTrue(cp.counters().get(ControlPlaneCounter.RESYNCS) >= 2, "open's, then the overrun's");
        assertEquals(0, cp.counters().get(ControlPlaneCounter.PARSE_ERRORS));
    }
}
