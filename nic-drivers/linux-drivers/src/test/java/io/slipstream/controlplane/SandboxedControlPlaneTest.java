package io.slipstream.controlplane;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Timeout;

/** Base of the tests that each get a fresh {@link ControlPlaneSandbox} (root only), removed afterwards. */
@Timeout(60)
abstract class SandboxedControlPlaneTest {
    protected ControlPlaneSandbox box;

    @BeforeEach
    void createSandbox() {
        ControlPlaneSandbox.assumeRoot();
        box = ControlPlaneSandbox.create();
    }

    @AfterEach
    void closeSandbox() {
        if (box != null) {
            box.close();
        }
    }
}
