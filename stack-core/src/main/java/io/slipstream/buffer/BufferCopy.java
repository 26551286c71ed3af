package io.slipstream.buffer;

import java.nio.ByteBuffer;

/**
 * Copies between application {@link ByteBuffer}s (heap, direct or read-only) and packet
 * buffers, moving the application buffer's position. The copies go buffer to buffer through the
 * packet buffer's kept {@link PacketBuffer#view() view}, so nothing is allocated per call.
 */
public final class BufferCopy {
    private BufferCopy() {}

    /** Copies {@code len} bytes from {@code src}'s position into {@code dst} at {@code dstOffset}. */
    public static void fromBuffer(ByteBuffer src, PacketBuffer dst, int dstOffset, int len) {
        int pos = src.position();
        dst.view().put(dstOffset, src, pos, len);
        src.position(pos + len);
    }

    /** Copies {@code len} bytes from {@code src} at {@code srcOffset} into {@code dst}'s position. */
    public static void toBuffer(PacketBuffer src, int srcOffset, ByteBuffer dst, int len) {
        int pos = dst.position();
        dst.put(pos, src.view(), srcOffset, len);
        dst.position(pos + len);
    }
}
