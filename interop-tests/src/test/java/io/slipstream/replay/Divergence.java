package io.slipstream.replay;

/**
 * One way the live end differed from the recorded side: the recorded packet concerned (its
 * frame number in the capture, 0 if none), the live packet (its number among those the live
 * end sent, 0 if none), the field, and both values.
 */
public record Divergence(int recordedFrame, int livePacket, String field, String expected, String got) {
    @Override
    public String toString() {
        return String.format("packet #%s (live #%s) %s: expected %s, got %s",
                recordedFrame == 0 ? "-" : recordedFrame, livePacket == 0 ? "-" : livePacket, field, expected, got);
    }
}
