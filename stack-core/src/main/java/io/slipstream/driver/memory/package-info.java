/**
 * The {@code memory} NIC driver: two stacks in one JVM joined back to back by a named
 * in-memory link ({@link io.slipstream.driver.memory.MemoryLink}), with seeded, reproducible
 * impairments ({@link io.slipstream.driver.memory.Impairments}: loss, duplication, reorder,
 * corruption, delay, jitter, rate, bottleneck queue limit).
 *
 * <p>Sending copies each frame into a buffer the peer posted on its rx ring, as a NIC's DMA
 * would; the sender's buffer stays on its tx ring until the frame is off the wire, then comes
 * back in a TX_COMPLETE event. Time (delay, rate, the NIC timer) follows the
 * {@link io.slipstream.time.Clock} given to {@code open}, so tests drive it with a virtual clock.
 */
package io.slipstream.driver.memory;
