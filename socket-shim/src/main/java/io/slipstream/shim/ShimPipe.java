package io.slipstream.shim;

import io.slipstream.shim.kernel.BufferVectors;
import io.slipstream.shim.kernel.FdIo;
import io.slipstream.shim.kernel.KernelFd;
import io.slipstream.shim.kernel.KernelPipe;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.AsynchronousCloseException;
import java.nio.channels.Pipe;
import java.nio.channels.SelectionKey;
import java.nio.channels.spi.SelectorProvider;
import java.util.Objects;
import java.util.concurrent.locks.ReentrantLock;

/** Slipstream's Pipe: both ends over one kernel pipe, so a Slipstream selector can hold them. */
final class ShimPipe extends Pipe {
    private final Source source;
    private final Sink sink;

    ShimPipe(SelectorProvider provider) throws IOException {
        KernelPipe pipe = KernelPipe.open();
        this.source = new Source(provider, pipe.source());
        this.sink = new Sink(provider, pipe.sink());
    }

    @Override
    public SourceChannel source() {
        return source;
    }

    @Override
    public SinkChannel sink() {
        return sink;
    }

    /** AbstractInterruptibleChannel.end, which only the channel's own class may call. */
    @FunctionalInterface
    private interface EndHook {
        void end(boolean completed) throws AsynchronousCloseException;
    }

    /**
     * What both ends do alike: one direction over one kernel descriptor (always non-blocking
     * underneath, so blocking mode is how a transfer waits), one transfer at a time, inside the
     * channel's interruptible section in blocking mode. Its channel hands over begin() and
     * end(), AbstractInterruptibleChannel's and protected, once, so a transfer allocates nothing.
     */
    private static final class End {
        private final ShimChannel channel;
        private final Backend.Descriptor backend;
        /** A sink writes, a source reads. */
        private final boolean write;
        private final Runnable beginHook;
        private final EndHook endHook;
        // -- held by each transfer
        private final ReentrantLock lock = new ReentrantLock();

        End(ShimChannel channel, KernelFd fd, SelectionKeys keys, Runnable beginHook, EndHook endHook) {
            this.channel = channel;
            this.backend = new Backend.Descriptor(fd, keys);
            this.write = channel instanceof SinkChannel;
            this.beginHook = beginHook;
            this.endHook = endHook;
        }

        /** Reads into, or writes from, {@code buf}, or the {@code bufs} vector when it is null. */
        long transfer(ByteBuffer buf, ByteBuffer[] bufs, int offset, int length) throws IOException {
            lock.lock();
            try {
                channel.ensureOpen();
                boolean blocking = channel.isBlocking();
                long n = FdIo.UNAVAILABLE;
                try {
                    if (blocking) {
                        beginHook.run();
                    }
                    KernelFd fd = backend.kernelFd();
                    n = write ? FdIo.write(fd, buf, bufs, offset, length, false, blocking)
                            : FdIo.read(fd, buf, bufs, offset, length, false, blocking, 0);
                    return n == FdIo.UNAVAILABLE ? 0 : n;
                } finally {
                    if (blocking) { // completed: a write moved bytes, a read got bytes or the end of stream
                        endHook.end(write ? n > 0 : n != FdIo.UNAVAILABLE);
                    }
                }
            } finally {
                lock.unlock();
            }
        }
    }

    static final class Source extends SourceChannel implements ShimChannel {
        private final End io;

        Source(SelectorProvider provider, KernelFd fd) {
            super(provider);
            this.io = new End(this, fd, new SelectionKeys(SelectionKey.OP_READ, 0), this::begin, this::end);
        }

        @Override
        public Backend backend() {
            return io.backend;
        }

        @Override
        protected void implConfigureBlocking(boolean block) {
            // Always non-blocking underneath: blocking mode is how read waits.
        }

        @Override
        protected void implCloseSelectableChannel() {
            io.backend.close();
        }

        @Override
        public int read(ByteBuffer dst) throws IOException {
            BufferVectors.checkWritable(dst, null, 0, 0);
            return (int) io.transfer(dst, null, 0, 0);
        }

        @Override
        public long read(ByteBuffer[] dsts, int offset, int length) throws IOException {
            Objects.checkFromIndexSize(offset, length, dsts.length);
            BufferVectors.checkWritable(null, dsts, offset, length);
            return io.transfer(null, dsts, offset, length);
        }

        @Override
        public long read(ByteBuffer[] dsts) throws IOException {
            return read(dsts, 0, dsts.length);
        }
    }

    static final class Sink extends SinkChannel implements ShimChannel {
        private final End io;

        Sink(SelectorProvider provider, KernelFd fd) {
            super(provider);
            this.io = new End(this, fd, new SelectionKeys(0, SelectionKey.OP_WRITE), this::begin, this::end);
        }

        @Override
        public Backend backend() {
            return io.backend;
        }

        @Override
        public int write(ByteBuffer src) throws IOException {
            Objects.requireNonNull(src);
            return (int) io.transfer(src, null, 0, 0);
        }

        @Override
        public long write(ByteBuffer[] srcs, int offset, int length) throws IOException {
            Objects.checkFromIndexSize(offset, length, srcs.length);
            return io.transfer(null, srcs, offset, length);
        }

        @Override
        public long write(ByteBuffer[] srcs) throws IOException {
            return write(srcs, 0, srcs.length);
        }

        @Override
        protected void implCloseSelectableChannel() {
            io.backend.close();
        }

        @Override
        protected void implConfigureBlocking(boolean block) {
            // Always non-blocking underneath.
        }
    }
}
