package io.slipstream.shim;

import java.io.IOException;
import java.nio.channels.Pipe;
import java.nio.channels.spi.SelectorProvider;

/** A pipe's two ends, closed together: a {@link Pipe} itself is not closeable. */
record PipeEnds(Pipe.SourceChannel source, Pipe.SinkChannel sink) implements AutoCloseable {
    static PipeEnds open(SelectorProvider provider) throws IOException {
        Pipe p = provider.openPipe();
        return new PipeEnds(p.source(), p.sink());
    }

    /** A pipe whose source is non-blocking, ready to register with a selector. */
    static PipeEnds openToSelect(SelectorProvider provider) throws IOException {
        PipeEnds p = open(provider);
        try {
            p.source.configureBlocking(false);
            return p;
        } catch (IOException | RuntimeException e) {
            p.close();
            throw e;
        }
    }

    @Override
    public void close() throws IOException {
        source.close();
        sink.close();
    }
}
