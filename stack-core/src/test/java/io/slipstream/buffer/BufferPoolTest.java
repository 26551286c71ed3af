package io.slipstream.buffer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class BufferPoolTest {
    private final BufferOwner rx = new BufferOwner("rx-ring");
    private final BufferOwner socket = new BufferOwner("socket-queue");

    @Test
    void framesAreDistinctAndExhaustionIsCounted() {
        try (BufferPool pool = BufferPool.allocate(4, 2048)) {
            List<PacketBuffer> taken = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                PacketBuffer b = pool.acquire(rx);
                assertNotNull(b);
                assertEquals(2048, b.capacity());
                taken.add(b);
            }
            assertNull(pool.acquire(rx));
            assertEquals(1, pool.exhaustedCount());
            assertEquals(4, pool.outstanding());
            // Writes to one frame never show in another.
            taken.get(0).segment().fill((byte) 1);
            assertEquals(0, taken.get(1).segment().get(java.lang.foreign.ValueLayout.JAVA_BYTE, 0));
            taken.forEach(b -> b.release(rx));
            assertEquals(0, pool.outstanding());
        }
    }

    @Test
    void ownershipIsCheckedOnEveryHandOver() {
        try (BufferPool pool = BufferPool.allocate(2, 2048)) {
            PacketBuffer b = pool.acquire(rx);
            b.transfer(rx, socket);
            assertSame(socket, b.owner());
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> b.transfer(rx, socket));
            assertTrue(e.getMessage().contains("owned by socket-queue, not rx-ring"), e.getMessage());
            assertThrows(IllegalStateException.class, () -> b.release(rx));
            b.release(socket);
            e = assertThrows(IllegalStateException.class, () -> b.release(socket));
            assertTrue(e.getMessage().contains("the pool (free)"), e.getMessage());
        }
    }

    @Test
    void leaksNameTheirOwnerAndWhereTheyWereAcquired() {
        try (BufferPool pool = BufferPool.allocate(2, 2048)) {
            PacketBuffer b = pool.acquire(socket);
            List<String> leaks = pool.leaks();
            assertEquals(1, leaks.size());
            assertTrue(leaks.get(0).contains("owner=socket-queue"), leaks.get(0));
            // The suite runs with -Dslipstream.buffer.trackLeaks=true: the acquiring method shows.
            assertTrue(leaks.get(0).contains("leaksNameTheirOwnerAndWhereTheyWereAcquired"), leaks.get(0));
            b.release(socket);
            assertEquals(List.of(), pool.leaks());
        }
    }

    @Test
    void rangesStayInsideTheFrame() {
        try (BufferPool pool = BufferPool.allocate(1, 2048)) {
            PacketBuffer b = pool.acquire(rx);
            b.setRange(14, 100);
            b.advance(20);
            assertEquals(34, b.offset());
            assertEquals(80, b.length());
            assertThrows(IndexOutOfBoundsException.class, () -> b.setRange(2000, 49));
            assertThrows(IndexOutOfBoundsException.class, () -> b.setRange(-1, 10));
            assertThrows(IndexOutOfBoundsException.class, () -> b.advance(81));
            b.release(rx);
        }
    }

    @Test
    void aReacquiredFrameStartsWithAnEmptyRange() {
        try (BufferPool pool = BufferPool.allocate(1, 2048)) {
            PacketBuffer b = pool.acquire(rx);
            b.setRange(10, 10);
            b.release(rx);
            PacketBuffer again = pool.acquire(socket);
            assertSame(b, again);
            assertEquals(0, again.offset());
            assertEquals(0, again.length());
            again.release(socket);
        }
    }
}
