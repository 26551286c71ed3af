package io.slipstream.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.slipstream.wire.Ipv4Address;
import io.slipstream.wire.MacAddress;
import java.util.HashMap;
import java.util.Map;
import java.util.Properties;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class StackConfigTest {
    private static Map<String, String> valid() {
        Map<String, String> m = new HashMap<>();
        m.put("slipstream.driver", "tap");
        m.put("slipstream.interface", "tap0");
        m.put("slipstream.address", "198.18.5.2/24");
        return m;
    }

    @Test
    void parsesTheContractProperties() {
        Map<String, String> m = valid();
        m.put("slipstream.gateway", "198.18.5.1");
        m.put("slipstream.mac", "02:00:5e:10:00:01");
        StackConfig c = StackConfig.from(Settings.of(m));
        assertEquals("tap", c.driver());
        assertEquals("tap0", c.interfaceName());
        assertEquals(Ipv4Address.parse("198.18.5.2"), c.address());
        assertEquals(24, c.prefixLength());
        assertEquals(Ipv4Address.parse("198.18.5.1"), c.gateway());
        assertEquals(0x02005e100001L, c.mac());
        assertTrue(c.onLink(Ipv4Address.parse("198.18.5.200")));
    }

    @Test
    void defaultMacIsRandomUnicastLocallyAdministered() {
        long mac = StackConfig.from(Settings.of(valid())).mac();
        assertEquals(0x02, (mac >>> 40) & 0x03, "locally administered, unicast: " + MacAddress.format(mac));
        assertEquals(Ipv4Address.ANY, StackConfig.from(Settings.of(valid())).gateway());
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "slipstream.address|198.18.5.2|slipstream.address: expected an IPv4 address in CIDR form",
        "slipstream.address|198.18.5.256/24|slipstream.address: expected an IPv4 address in CIDR form",
        "slipstream.address|198.18.5.2/33|slipstream.address: expected an IPv4 address in CIDR form",
        "slipstream.address|198.18.5.2/x|slipstream.address: expected an IPv4 address in CIDR form",
        "slipstream.gateway|198.18.6.1|slipstream.gateway: gateway 198.18.6.1 is not in the connected subnet",
        "slipstream.gateway|gw|slipstream.gateway: expected an IPv4 address",
        "slipstream.mac|01:00:5e:00:00:01|slipstream.mac: expected a MAC address",
        "slipstream.mac|02:00:5e:00:00|slipstream.mac: expected a MAC address",
        "slipstream.driver|Tap!|slipstream.driver: expected a driver name",
        "slipstream.interface|an-interface-name-too-long|slipstream.interface: expected a device name",
    })
    void malformedValuesNameThePropertyAndTheExpectedForm(String property, String value, String message) {
        Map<String, String> m = valid();
        m.put(property, value);
        ConfigException e = assertThrows(ConfigException.class, () -> StackConfig.from(Settings.of(m)));
        assertTrue(e.getMessage().startsWith(message), e.getMessage());
    }

    @ParameterizedTest
    @CsvSource({"slipstream.driver", "slipstream.interface", "slipstream.address"})
    void missingRequiredValuesNameThePropertyAndItsEnvironmentVariable(String property) {
        Map<String, String> m = valid();
        m.remove(property);
        ConfigException e = assertThrows(ConfigException.class, () -> StackConfig.from(Settings.of(m)));
        assertTrue(e.getMessage().startsWith(property + " (or " + Settings.environmentName(property) + ") is required"),
                e.getMessage());
    }

    @Test
    void environmentVariablesWorkAndSystemPropertiesWin() {
        Properties props = new Properties();
        props.setProperty("slipstream.address", "198.18.9.9/16");
        props.setProperty("unrelated.property", "x");
        Settings s = Settings.from(props, Map.of(
                "SLIPSTREAM_DRIVER", "memory",
                "SLIPSTREAM_INTERFACE", "link0",
                "SLIPSTREAM_ADDRESS", "198.18.1.1/24",
                "PATH", "/bin"));
        StackConfig c = StackConfig.from(s);
        assertEquals("memory", c.driver());
        assertEquals("link0", c.interfaceName());
        assertEquals(Ipv4Address.parse("198.18.9.9"), c.address());
        assertEquals(16, c.prefixLength());
        assertEquals(3, s.asMap().size(), "only slipstream settings are kept: " + s.asMap());
    }

    @Test
    void typedGettersCheckRanges() {
        Settings s = Settings.of(Map.of("slipstream.poll.usec", "abc", "slipstream.memory.loss", "1.5"));
        ConfigException e = assertThrows(ConfigException.class, () -> s.getLong("slipstream.poll.usec", 50, -1, 1_000_000));
        assertEquals("slipstream.poll.usec: expected an integer in -1..1000000, got 'abc'", e.getMessage());
        e = assertThrows(ConfigException.class, () -> s.getDouble("slipstream.memory.loss", 0, 0, 1));
        assertTrue(e.getMessage().startsWith("slipstream.memory.loss: expected a number in 0.0..1.0"), e.getMessage());
        assertEquals(50, Settings.of(Map.of()).getLong("slipstream.poll.usec", 50, -1, 1_000_000));
    }
}
