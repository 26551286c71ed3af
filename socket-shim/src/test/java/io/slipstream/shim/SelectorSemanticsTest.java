package io.slipstream.shim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.CancelledKeyException;
import java.nio.channels.ClosedSelectorException;
import java.nio.channels.DatagramChannel;
import java.nio.channels.IllegalSelectorException;
import java.nio.channels.Pipe;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Selector semantics, against the JDK's selector and Slipstream's: wakeup, cancellation,
 * interest changes, ready-set accumulation, interrupt and close. Lower bounds on elapsed time
 * check only that a select did not return early without cause.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class SelectorSemanticsTest {

    static java.util.stream.Stream<Env> envs() {
        return Env.all();
    }

    /** select(timeout) in another thread. */
    private static CompletableFuture<Integer> selectAsync(Selector sel, long timeout) {
        return CompletableFuture.supplyAsync(() -> {
            try {
                return sel.select(timeout);
            } catch (Exception e) {
                throw new RuntimeException(e);
            }
        });
    }

    private static long millisSince(long start) {
        return (System.nanoTime() - start) / 1_000_000;
    }

    @ParameterizedTest
    @MethodSource("envs")
    void aWakeupBeforeSelectEndsTheNextSelectAndManyCollapseIntoOne(Env env) throws Exception {
        try (Selector sel = env.provider().openSelector()) {
            sel.wakeup();
            sel.wakeup();
            sel.wakeup();
            assertEquals(0, sel.select());
            long start = System.nanoTime();
            assertEquals(0, sel.select(200));
            assertTrue(millisSince(start) >= 150, "the collapsed wakeups were all used by the first select");
        }
    }

    @ParameterizedTest
    @MethodSource("envs")
    void wakeupFromAnotherThreadEndsABlockedSelect(Env env) throws Exception {
        try (Selector sel = env.provider().openSelector()) {
            CompletableFuture<Integer> selecting = selectAsync(sel, 0);
            Thread.sleep(100);
            assertFalse(selecting.isDone());
            sel.wakeup();
            assertEquals(0, selecting.get(10, TimeUnit.SECONDS));
        }
    }

    @ParameterizedTest
    @MethodSource("envs")
    void selectWithTimeoutDoesNotReturnEarlyWithoutCause(Env env) throws Exception {
        try (Selector sel = env.provider().openSelector(); Pipe.SourceChannel idle = openIdlePipe(env)) {
            idle.register(sel, SelectionKey.OP_READ);
            long start = System.nanoTime();
            assertEquals(0, sel.select(300));
            assertTrue(millisSince(start) >= 250, "returned after " + millisSince(start) + " ms");
            assertEquals(0, sel.selectNow());
        }
    }

    private static Pipe.SourceChannel openIdlePipe(Env env) throws Exception {
        Pipe p = env.provider().openPipe();
        p.source().configureBlocking(false);
        return p.source();
    }

    @ParameterizedTest
    @MethodSource("envs")
    void interruptEndsASelectAndLeavesTheStatusSet(Env env) throws Exception {
        try (Selector sel = env.provider().openSelector()) {
            Thread.currentThread().interrupt();
            try {
                assertEquals(0, sel.select());
                assertTrue(Thread.currentThread().isInterrupted());
                assertTrue(sel.isOpen(), "an interrupted select does not close the selector");
            } finally {
                Thread.interrupted();
            }
            AtomicInteger result = new AtomicInteger(-1);
            assertNull(Blocked.thrownWhen(false, () -> result.set(sel.select()), Thread::interrupt));
            assertEquals(0, result.get());
        }
    }

    @ParameterizedTest
    @MethodSource("envs")
    void cancelledKeysLeaveAtTheNextSelect(Env env) throws Exception {
        try (PipeEnds pipe = PipeEnds.openToSelect(env.provider());
                Selector sel = env.provider().openSelector()) {
            SelectionKey key = pipe.source().register(sel, SelectionKey.OP_READ, "att");
            assertEquals("att", key.attachment());
            assertSame(key, pipe.source().keyFor(sel));
            key.cancel();
            assertFalse(key.isValid());
            assertThrows(CancelledKeyException.class, () -> key.interestOps(SelectionKey.OP_READ));
            assertThrows(CancelledKeyException.class, key::readyOps);
            assertTrue(sel.keys().contains(key), "still registered until the next select");
            assertEquals(0, sel.selectNow());
            assertFalse(sel.keys().contains(key));
            assertNull(pipe.source().keyFor(sel));
            SelectionKey again = pipe.source().register(sel, SelectionKey.OP_READ);
            pipe.sink().write(ByteBuffer.wrap(new byte[] {1}));
            assertEquals(1, sel.select(5_000));
            assertTrue(sel.selectedKeys().contains(again));
        }
    }

    @ParameterizedTest
    @MethodSource("envs")
    void readySetsAccumulateForKeysAlreadySelected(Env env) throws Exception {
        try (UdpSelection u = UdpSelection.open(env)) {
            Selector sel = u.selector();
            u.peer().send(ByteBuffer.wrap(new byte[] {5}), u.channel().getLocalAddress());
            assertEquals(1, sel.select(5_000));
            assertEquals(SelectionKey.OP_READ, u.key().readyOps());
            // Not removed from the selected set: the next select adds bits to its ready set.
            u.key().interestOps(SelectionKey.OP_READ | SelectionKey.OP_WRITE);
            assertEquals(1, sel.select(5_000));
            assertEquals(SelectionKey.OP_READ | SelectionKey.OP_WRITE, u.key().readyOps());
            // Nothing new: 0, yet the select returns at once since the socket is ready.
            assertEquals(0, sel.select(5_000));
            assertEquals(1, sel.selectedKeys().size());
            assertThrows(UnsupportedOperationException.class, () -> sel.selectedKeys().add(u.key()));
            assertThrows(UnsupportedOperationException.class, () -> sel.keys().remove(u.key()));
        }
    }

    @ParameterizedTest
    @MethodSource("envs")
    void selectWithAnActionLeavesTheSelectedSetAlone(Env env) throws Exception {
        try (PipeEnds pipe = PipeEnds.openToSelect(env.provider());
                Selector sel = env.provider().openSelector()) {
            pipe.sink().configureBlocking(false);
            SelectionKey r = pipe.source().register(sel, SelectionKey.OP_READ);
            SelectionKey w = pipe.sink().register(sel, SelectionKey.OP_WRITE);
            pipe.sink().write(ByteBuffer.wrap(new byte[] {1}));
            List<SelectionKey> seen = new ArrayList<>();
            assertEquals(2, sel.select(seen::add, 5_000));
            assertTrue(seen.contains(r) && seen.contains(w));
            assertTrue(sel.selectedKeys().isEmpty());
            assertEquals(SelectionKey.OP_READ, r.readyOps());
        }
    }

    @ParameterizedTest
    @MethodSource("envs")
    void interestChangedDuringASelectAppliesToTheNextOne(Env env) throws Exception {
        try (PipeEnds pipe = PipeEnds.openToSelect(env.provider());
                Selector sel = env.provider().openSelector()) {
            SelectionKey key = pipe.source().register(sel, 0);
            pipe.sink().write(ByteBuffer.wrap(new byte[] {1}));
            CompletableFuture<Integer> selecting = selectAsync(sel, 400);
            Thread.sleep(100);
            key.interestOps(SelectionKey.OP_READ);
            assertEquals(0, selecting.get(10, TimeUnit.SECONDS), "the select in progress kept the old interest");
            assertEquals(1, sel.selectNow(), "the next one uses the new interest");
        }
    }

    @ParameterizedTest
    @MethodSource("envs")
    void closingTheSelectorInvalidatesKeysAndEndsABlockedSelect(Env env) throws Exception {
        Selector sel = env.provider().openSelector();
        ServerSocketChannel server = env.provider().openServerSocketChannel().bind(new InetSocketAddress(env.tcpHost(), 0));
        server.configureBlocking(false);
        SelectionKey key = server.register(sel, SelectionKey.OP_ACCEPT);
        CompletableFuture<Integer> selecting = selectAsync(sel, 0);
        Thread.sleep(100);
        sel.close();
        selecting.get(10, TimeUnit.SECONDS);
        assertFalse(key.isValid());
        assertFalse(sel.isOpen());
        assertThrows(ClosedSelectorException.class, sel::selectNow);
        assertThrows(ClosedSelectorException.class, sel::keys);
        assertThrows(ClosedSelectorException.class, () -> server.register(sel, SelectionKey.OP_ACCEPT));
        sel.wakeup(); // harmless on a closed selector
        sel.close(); // idempotent
        assertTrue(server.isOpen());
        server.close();
    }

    @ParameterizedTest
    @MethodSource("envs")
    void aSelectorRefusesAnotherProvidersChannels(Env env) throws Exception {
        Env other = env.name().equals("jdk") ? Env.slipstream() : Env.jdk();
        try (Selector sel = env.provider().openSelector();
                DatagramChannel foreign = other.provider().openDatagramChannel()) {
            foreign.configureBlocking(false);
            assertThrows(IllegalSelectorException.class, () -> foreign.register(sel, SelectionKey.OP_READ));
        }
    }

    @ParameterizedTest
    @MethodSource("envs")
    void closingARegisteredChannelDeregistersItAtTheNextSelect(Env env) throws Exception {
        try (Selector sel = env.provider().openSelector()) {
            for (int i = 0; i < 50; i++) {
                // Descriptor numbers get reused: a closed channel's key must never disturb a new one's.
                SelectionKey k;
                try (PipeEnds p = PipeEnds.openToSelect(env.provider())) {
                    k = p.source().register(sel, SelectionKey.OP_READ);
                    p.sink().write(ByteBuffer.wrap(new byte[] {1}));
                    assertEquals(1, sel.select(5_000));
                    assertTrue(sel.selectedKeys().remove(k));
                }
                assertFalse(k.isValid());
            }
            assertEquals(0, sel.selectNow());
            assertTrue(sel.keys().isEmpty());
        }
    }

    @ParameterizedTest
    @MethodSource("envs")
    void wakeupInterruptAndReadinessEndASelectOverOneSocket(Env env) throws Exception {
        // With Slipstream's provider and a stack address, the selector waits as a stack's blocked thread.
        try (UdpSelection u = UdpSelection.open(env)) {
            Selector sel = u.selector();
            AtomicInteger result = new AtomicInteger(-1);
            assertNull(Blocked.thrownWhen(true, () -> result.set(sel.select()), t -> sel.wakeup()));
            assertEquals(0, result.get());
            assertNull(Blocked.thrownWhen(false, () -> result.set(sel.select()), Thread::interrupt));
            assertEquals(0, result.get());
            assertNull(Blocked.thrownWhen(true, () -> result.set(sel.select()),
                    t -> u.peer().send(ByteBuffer.wrap(new byte[] {7}), u.channel().getLocalAddress())));
            assertEquals(1, result.get());
            assertTrue(sel.selectedKeys().contains(u.key()));
        }
    }

    /**
     * A key is in the selector's key set before register sets its interest, so another thread
     * iterating the keys can cancel it meanwhile: a new registration then returns the cancelled
     * key (the JDK's SelectorImpl). A thread cancels every key it sees while this one registers
     * fresh channels again and again; bounded in count and time, it usually meets the race many
     * times. (Each round uses a new channel: re-registering a channel whose old key is still in
     * the selector takes the JDK's other path, which does throw CancelledKeyException when that
     * key is cancelled under it.)
     */
    @ParameterizedTest
    @MethodSource("envs")
    void registerReturnsAKeyAnotherThreadCancelledMeanwhile(Env env) throws Exception {
        try (Selector sel = env.provider().openSelector()) {
            java.util.concurrent.atomic.AtomicBoolean done = new java.util.concurrent.atomic.AtomicBoolean();
            Thread canceller = Thread.ofPlatform().start(() -> {
                while (!done.get()) {
                    try {
                        for (SelectionKey k : sel.keys()) {
                            k.cancel();
                        }
                    } catch (java.util.ConcurrentModificationException e) {
                        // the key set changed under the iteration: look again
                    }
                }
            });
            try {
                long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(3);
                for (int i = 0; i < 5_000 && System.nanoTime() < end; i++) {
                    try (DatagramChannel dc = env.provider().openDatagramChannel()) {
                        dc.configureBlocking(false);
                        SelectionKey k = dc.register(sel, SelectionKey.OP_READ); // never CancelledKeyException
                        assertSame(dc, k.channel());
                    }
                    sel.selectNow(); // deregisters the closed channel's key
                }
            } finally {
                done.set(true);
                canceller.join();
            }
        }
    }
}
