package org.dtmspark.core.optim;

/**
 * Hyperparameters of {@link AdamW} (learning rate excluded: it comes from an {@link LrSchedule}).
 *
 * @param beta1 decay of the first-moment average, in [0, 1)
 * @param beta2 decay of the second-moment average, in [0, 1)
 * @param eps added to the denominator for numerical stability, greater than 0
 * @param weightDecay decoupled weight decay, at least 0; applied only to parameters that {@link
 *     ParameterGroups} marks as decayed
 */
public record AdamWConfig(double beta1, double beta2, double eps, double weightDecay) {
  /**
   * Pretraining recipe (paper Table 12, BEiT v2): betas (0.9, 0.98), eps 1e-8, weight decay 0.05.
   */
  public static final AdamWConfig PRETRAIN = new AdamWConfig(0.9, 0.98, 1e-8, 0.05);

  /** Fine-tuning recipe (paper Table 13): betas (0.9, 0.999), eps 1e-8, weight decay 0.05. */
  public static final AdamWConfig FINETUNE = new AdamWConfig(0.9, 0.999, 1e-8, 0.05);

  /** Validates every field; the message names the field, the value and the rule. */
  public AdamWConfig {
    requireBeta("beta1", beta1);
    requireBeta("beta2", beta2);
    if (!(eps > 0) || Double.isInfinite(eps)) {
      throw new IllegalArgumentException(
          "eps must be finite and greater than 0, cannot be: " + eps);
    }
    if (!(weightDecay >= 0) || Double.isInfinite(weightDecay)) {
      throw new IllegalArgumentException(
          "weightDecay must be finite and at least 0, cannot be: " + weightDecay);
    }
  }

  private static void requireBeta(String field, double value) {
    if (!(value >= 0 && value < 1)) {
      throw new IllegalArgumentException(field + " must be in [0, 1), cannot be: " + value);
    }
  }
}
