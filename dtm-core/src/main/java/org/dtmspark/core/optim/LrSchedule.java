package org.dtmspark.core.optim;

import java.util.Locale;

/** Learning rate as a function of the optimizer step (0-based, one step per batch). */
public interface LrSchedule {
  /** Reference batch of the square-root rule: {@code lr = base * sqrt(totalBatch / 2048)}. */
  int SQRT_RULE_REFERENCE_BATCH = 2048;

  /** Reference batch of the linear rule: {@code lr = base * totalBatch / 256}. */
  int LINEAR_RULE_REFERENCE_BATCH = 256;

  /**
   * Learning rate at {@code step}.
   *
   * @param step 0-based optimizer step, at least 0
   */
  double at(long step);

  /**
   * Peak learning rate for a total (global) batch size under a scaling rule.
   *
   * <ul>
   *   <li>{@code sqrt}: {@code baseLr * sqrt(totalBatch / 2048)}. The DTM reference recipe (SPEC):
   *       base 1.5e-3, so batch 2048 gives 1.5e-3 and batch 1024 gives about 1.06e-3.
   *   <li>{@code linear}: {@code baseLr * totalBatch / 256}, the BEiT/MAE convention ({@code blr *
   *       B / 256}). The paper's Table 12 lists lr 1.5e-4 with batch 1024; as a linear rule that is
   *       base 3.75e-5.
   *   <li>{@code none}: {@code baseLr} as given, whatever the batch (state Table 12's 1.5e-4
   *       directly).
   * </ul>
   *
   * @param baseLr finite, at least 0
   * @param totalBatch images per optimizer step over all ranks, at least 1
   * @param rule {@code sqrt}, {@code linear} or {@code none} (case-insensitive)
   */
  static double scaledPeakLr(double baseLr, int totalBatch, String rule) {
    if (!(baseLr >= 0) || Double.isInfinite(baseLr)) {
      throw new IllegalArgumentException(
          "Base learning rate must be finite and at least 0, cannot be: " + baseLr);
    }
    if (totalBatch < 1) {
      throw new IllegalArgumentException(
          "Total batch size must be at least 1, cannot be: " + totalBatch);
    }
    String key = rule == null ? "null" : rule.toLowerCase(Locale.ROOT);
    return switch (key) {
      case "sqrt" -> baseLr * Math.sqrt((double) totalBatch / SQRT_RULE_REFERENCE_BATCH);
      case "linear" -> baseLr * totalBatch / LINEAR_RULE_REFERENCE_BATCH;
      case "none" -> baseLr;
      default ->
          throw new IllegalArgumentException(
              "Learning-rate scaling rule must be one of sqrt, linear, none, cannot be: " + rule);
    };
  }
}
