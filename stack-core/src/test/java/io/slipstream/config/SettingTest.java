package io.slipstream.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** A setting declared once reads its value, its default, and names itself in every error. */
class SettingTest {
    private static final Setting.Whole RING = new Setting.Whole("slipstream.test.ring", 512, 8, 4096, "frames");
    private static final Setting.Choice MODE = new Setting.Choice("slipstream.test.mode", "kernel", List.of("kernel", "error"));

    @Test
    void wholeReadsTheValueOrTheDefaultAndRefusesWhatIsOutOfBounds() {
        assertEquals(512, RING.readInt(Settings.of(Map.of())));
        assertEquals(64, RING.readInt(Settings.of(Map.of("slipstream.test.ring", "64"))));
        ConfigException tooSmall = assertThrows(ConfigException.class,
                () -> RING.read(Settings.of(Map.of("slipstream.test.ring", "4"))));
        assertTrue(tooSmall.getMessage().startsWith("slipstream.test.ring: expected an integer in 8..4096"), tooSmall.getMessage());
        ConfigException notANumber = assertThrows(ConfigException.class,
                () -> RING.read(Settings.of(Map.of("slipstream.test.ring", "lots"))));
        assertTrue(notANumber.getMessage().contains("got 'lots'"), notANumber.getMessage());
    }

    @Test
    void aComputedDefaultAppliesOnlyWhenTheSettingIsAbsent() {
        assertEquals(3100, RING.read(Settings.of(Map.of()), 3100));
        assertEquals(16, RING.read(Settings.of(Map.of("slipstream.test.ring", "16")), 3100));
    }

    @Test
    void aDeclarationWhoseDefaultBreaksItsOwnBoundsIsRefused() {
        assertThrows(IllegalArgumentException.class, () -> new Setting.Whole("slipstream.test.x", 0, 1, 10, ""));
        assertThrows(IllegalArgumentException.class, () -> new Setting.Choice("slipstream.test.y", "maybe", List.of("a")));
    }

    @Test
    void choiceAcceptsItsWordsInAnyCaseAndNamesItselfOtherwise() {
        assertEquals("kernel", MODE.read(Settings.of(Map.of())));
        assertEquals("error", MODE.read(Settings.of(Map.of("slipstream.test.mode", "ERROR"))));
        ConfigException e = assertThrows(ConfigException.class, () -> MODE.check("sometimes"));
        assertEquals("slipstream.test.mode: expected kernel or error, got 'sometimes'", e.getMessage());
    }

    @Test
    void flagAndFraction() {
        Setting.Flag flag = new Setting.Flag("slipstream.test.flag", true);
        assertTrue(flag.read(Settings.of(Map.of())));
        assertFalse(flag.read(Settings.of(Map.of("slipstream.test.flag", "false"))));
        Setting.Fraction loss = new Setting.Fraction("slipstream.test.loss", 0, 0, 1, "");
        assertEquals(0.25, loss.read(Settings.of(Map.of("slipstream.test.loss", "0.25"))));
        assertThrows(ConfigException.class, () -> loss.read(Settings.of(Map.of("slipstream.test.loss", "2"))));
    }
}
