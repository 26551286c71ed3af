package io.slipstream.tcp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.slipstream.tcp.LossRecovery.DupAckAction;
import org.junit.jupiter.api.Test;

/** {@link LossRecovery} on its own: when duplicate ACKs start, inflate and end recovery. */
class LossRecoveryTest {
    private static final int MSS = 1000;

    @Test
    void rfc3042_firstTwoDuplicateAcksAllowOneNewSegmentEach() {
        LossRecovery r = new LossRecovery();
        r.start(0);
        assertEquals(DupAckAction.NONE, r.duplicateAck(100, MSS));
        assertEquals(MSS, r.limitedTransmitBytes());
        assertEquals(DupAckAction.NONE, r.duplicateAck(100, MSS));
        assertEquals(2L * MSS, r.limitedTransmitBytes());
        r.sent(1500);
        assertEquals(500, r.limitedTransmitBytes(), "new data uses the allowance up");
    }

    @Test
    void rfc5681_thirdDuplicateAckIsAFastRetransmit() {
        LossRecovery r = new LossRecovery();
        r.start(0);
        r.duplicateAck(100, MSS);
        r.duplicateAck(100, MSS);
        assertEquals(DupAckAction.FAST_RETRANSMIT, r.duplicateAck(100, MSS));
        r.enter(5000);
        assertTrue(r.inRecovery());
        assertEquals(0, r.limitedTransmitBytes());
        assertEquals(DupAckAction.INFLATE, r.duplicateAck(100, MSS), "§3.2 step 4: further duplicates inflate");
    }

    @Test
    void rfc6582_partialAckKeepsRecoveryAndFullAckEndsIt() {
        LossRecovery r = new LossRecovery();
        r.start(0);
        r.enter(5000);
        assertFalse(r.newAck(3000), "a partial ACK (below recover) stays in recovery");
        assertTrue(r.inRecovery());
        assertTrue(r.newAck(5000), "an ACK of recover ends it");
        assertFalse(r.inRecovery());
    }

    @Test
    void rfc6582_noNewRecoveryForDuplicateAcksBelowRecover() {
        LossRecovery r = new LossRecovery();
        r.start(0);
        r.enter(5000);
        r.newAck(5000);
        r.timeout(9000);
        for (int i = 0; i < 2; i++) {
            r.duplicateAck(6000, MSS);
        }
        assertEquals(DupAckAction.NONE, r.duplicateAck(6000, MSS),
                "§4: duplicates of data sent before the timeout do not start another recovery");
        assertFalse(r.mayEnter(6000));
        assertTrue(r.mayEnter(9000));
    }
}
