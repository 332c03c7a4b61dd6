package org.dtmspark.core.config;

import com.typesafe.config.Config;

/** The {@code probe} section: linear probe on frozen features. */
public record ProbeSettings(long seed, int epochs, int batchSize, double lr, double weightDecay) {
  public static ProbeSettings from(Config config) {
    SettingsReader root = new SettingsReader(config, "");
    SettingsReader p = root.section("probe");
    return new ProbeSettings(
        root.longAtLeast("seed", 0),
        p.intAtLeast("epochs", 1),
        p.intAtLeast("batch-size", 1),
        p.positive("lr"),
        p.nonNegative("weight-decay"));
  }
}
