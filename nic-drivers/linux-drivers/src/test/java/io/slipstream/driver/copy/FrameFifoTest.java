package io.slipstream.driver.copy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.slipstream.buffer.BufferOwner;
import io.slipstream.buffer.BufferPool;
import io.slipstream.buffer.PacketBuffer;
import org.junit.jupiter.api.Test;

class FrameFifoTest {

    @Test
    void keepsOrderAcrossWrapAroundAndRefusesWhenFull() {
        BufferOwner owner = new BufferOwner("test");
        try (BufferPool pool = BufferPool.allocate(8, 256)) {
            PacketBuffer[] b = new PacketBuffer[8];
            for (int i = 0; i < b.length; i++) {
                b[i] = pool.acquire(owner);
            }
            FrameFifo fifo = new FrameFifo(4);
            assertNull(fifo.peek());
            assertNull(fifo.poll());
            int next = 0;
            int expected = 0;
            for (int round = 0; round < 5; round++) {
                while (fifo.size() < fifo.capacity()) {
                    assertTrue(fifo.offer(b[next++ % b.length]));
                }
                assertFalse(fifo.offer(b[0]), "full");
                assertSame(b[expected % b.length], fifo.at(fifo.head()));
                assertSame(b[(expected + 3) % b.length], fifo.at(fifo.tail() - 1));
                for (int i = 0; i < 3; i++) {
                    assertSame(b[expected++ % b.length], fifo.poll());
                }
            }
            assertEquals(1, fifo.size());
            assertEquals(fifo.head() + 1, fifo.tail());
            for (PacketBuffer p : b) {
                p.release(owner);
            }
        }
    }

    @Test
    void capacityMustBeAPowerOfTwo() {
        assertThrows(IllegalArgumentException.class, () -> new FrameFifo(6));
    }
}
