package io.slipstream.buffer;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;

/**
 * Copies between application {@link ByteBuffer}s and packet memory, moving the ByteBuffer's
 * position. Heap buffers are copied straight from/to their arrays, so no segment object is
 * made per call; direct buffers go through a segment view that escape analysis removes.
 */
public final class BufferCopy {
    private BufferCopy() {}

    /** Copies {@code len} bytes from {@code src}'s position into {@code dst} at {@code dstOffset}. */
    public static void fromBuffer(ByteBuffer src, MemorySegment dst, long dstOffset, int len) {
        int pos = src.position();
        if (src.hasArray()) {
            MemorySegment.copy(src.array(), src.arrayOffset() + pos, dst, ValueLayout.JAVA_BYTE, dstOffset, len);
        } else {
            MemorySegment.copy(MemorySegment.ofBuffer(src), 0, dst, dstOffset, len);
        }
        src.position(pos + len);
    }

    /** Copies {@code len} bytes from {@code src} at {@code srcOffset} into {@code dst}'s position. */
    public static void toBuffer(MemorySegment src, long srcOffset, ByteBuffer dst, int len) {
        int pos = dst.position();
        if (dst.hasArray()) {
            MemorySegment.copy(src, ValueLayout.JAVA_BYTE, srcOffset, dst.array(), dst.arrayOffset() + pos, len);
        } else {
            MemorySegment.copy(src, srcOffset, MemorySegment.ofBuffer(dst), 0, len);
        }
        dst.position(pos + len);
    }
}
