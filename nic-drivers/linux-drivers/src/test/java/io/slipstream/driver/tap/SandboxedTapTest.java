package io.slipstream.driver.tap;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Timeout;

/**
 * Base of the tests that each get a fresh {@link TapSandbox} (root only) and, afterwards,
 * check that closing the interface brought every buffer home.
 */
@Timeout(60)
abstract class SandboxedTapTest {
    protected TapSandbox box;

    @BeforeEach
    void openSandbox() {
        TapSandbox.assumeRoot();
        box = TapSandbox.open();
    }

    @AfterEach
    void closeSandbox() {
        if (box != null) {
            box.close();
            assertEquals(0, box.vi.buffers().outstanding(), () -> "buffers not returned: " + box.vi.buffers().leaks());
        }
    }
}
