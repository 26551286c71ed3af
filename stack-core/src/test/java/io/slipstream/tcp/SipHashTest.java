package io.slipstream.tcp;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/** SipHash-2-4 against the reference implementation's test vector. */
class SipHashTest {
    @Test
    void matchesTheReferenceVectorForSixteenBytes() {
        // key 00..0f, message 00..0f, read as little-endian 64-bit words as the reference does
        SipHash h = new SipHash(0x0706050403020100L, 0x0f0e0d0c0b0a0908L);
        assertEquals(0x3f2acc7f57c29bdbL, h.hash(0x0706050403020100L, 0x0f0e0d0c0b0a0908L));
    }
}
