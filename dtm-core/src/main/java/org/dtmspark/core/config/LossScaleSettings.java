package org.dtmspark.core.config;

import org.dtmspark.core.precision.LossScaler;
import org.dtmspark.core.precision.Precision;

/**
 * A {@code loss-scale} section: the dynamic loss scale of fp16 training.
 *
 * @param initial the scale of the first step
 * @param growthInterval finite steps in a row after which the scale doubles
 */
public record LossScaleSettings(double initial, int growthInterval) {
  static LossScaleSettings from(SettingsReader r) {
    return new LossScaleSettings(r.positive("initial"), r.intAtLeast("growth-interval", 1));
  }

  /** The scaler of a run in {@code precision}: in use for fp16 only. */
  public LossScaler scaler(Precision precision) {
    return new LossScaler(precision.needsLossScale(), initial, growthInterval);
  }
}
