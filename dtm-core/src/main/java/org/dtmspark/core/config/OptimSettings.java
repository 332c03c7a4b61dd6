package org.dtmspark.core.config;

import java.util.List;
import org.dtmspark.core.optim.AdamWConfig;
import org.dtmspark.core.optim.CosineSchedule;
import org.dtmspark.core.optim.ParameterGroups;

/** An {@code optim} section: AdamW, learning-rate scaling and schedule, clipping. */
public record OptimSettings(
    double baseLr,
    String lrRule,
    double minLr,
    double warmupEpochs,
    double beta1,
    double beta2,
    double eps,
    double weightDecay,
    double layerDecay,
    double clipGrad,
    boolean noDecayTablesAndMaskToken) {

  static OptimSettings from(SettingsReader r) {
    return new OptimSettings(
        r.positive("base-lr"),
        r.oneOf("lr-rule", List.of("sqrt", "linear", "none")),
        r.nonNegative("min-lr"),
        r.nonNegative("warmup-epochs"),
        r.numberInHalfOpen("beta1", 0, 1),
        r.numberInHalfOpen("beta2", 0, 1),
        r.positive("eps"),
        r.nonNegative("weight-decay"),
        r.numberIn("layer-decay", 1e-6, 1),
        r.nonNegative("clip-grad"),
        r.bool("no-decay-tables-and-mask-token"));
  }

  /** Which parameters escape weight decay ({@code no-decay-tables-and-mask-token}). */
  public ParameterGroups.NoDecayRule noDecayRule() {
    return ParameterGroups.NoDecayRule.of(noDecayTablesAndMaskToken);
  }

  public AdamWConfig adamW() {
    return new AdamWConfig(beta1, beta2, eps, weightDecay);
  }

  /** Peak learning rate for a total batch size, by {@link #lrRule}. */
  public double peakLr(int totalBatch) {
    return switch (lrRule) {
      case "sqrt" -> baseLr * Math.sqrt(totalBatch / 2048.0);
      case "linear" -> baseLr * totalBatch / 256.0;
      default -> baseLr;
    };
  }

  /** Warmup plus cosine decay over {@code totalSteps}, per optimizer step. */
  public CosineSchedule schedule(int totalBatch, long stepsPerEpoch, long totalSteps) {
    long warmup = Math.min(totalSteps, Math.round(warmupEpochs * stepsPerEpoch));
    double peak = peakLr(totalBatch);
    return new CosineSchedule(peak, Math.min(minLr, peak), warmup, totalSteps, 0.0);
  }
}
