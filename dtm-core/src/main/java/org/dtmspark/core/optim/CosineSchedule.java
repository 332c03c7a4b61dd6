package org.dtmspark.core.optim;

/**
 * Linear warmup then half-cosine decay, per step, with BEiT's {@code cosine_scheduler} semantics.
 *
 * <p>With {@code W = warmupSteps}, {@code T = totalSteps}, {@code s} the step:
 *
 * <ul>
 *   <li>{@code s < W}: {@code s * ((peak - warmupStart) / (W - 1)) + warmupStart}, evaluated as
 *       {@code np.linspace(warmupStart, peak, W)} does: step 0 is {@code warmupStart} and step
 *       {@code W - 1} is exactly {@code peak}. With {@code W = 1} the single warmup step is {@code
 *       warmupStart}, as {@code linspace} with one point gives.
 *   <li>{@code W <= s < T}, with {@code i = s - W} and {@code n = T - W}: {@code min + 0.5 * (peak
 *       - min) * (1 + cos(pi * i / n))}. Step {@code W} is {@code peak} again; step {@code T - 1}
 *       is slightly above {@code min} (the cosine never reaches {@code pi}).
 *   <li>{@code s >= T}: the value of step {@code T - 1}.
 * </ul>
 *
 * @param peak learning rate at the end of warmup (BEiT {@code base_value}), finite and at least 0
 * @param min final learning rate (BEiT {@code final_value}), finite and at least 0
 * @param warmupSteps number of warmup steps, in [0, totalSteps]
 * @param totalSteps number of steps of the schedule, at least 1
 * @param warmupStart learning rate at step 0 when there is warmup, finite and at least 0
 */
public record CosineSchedule(
    double peak, double min, long warmupSteps, long totalSteps, double warmupStart)
    implements LrSchedule {

  /** Validates every field; the message names the field, the value and the rule. */
  public CosineSchedule {
    requireRate("peak", peak);
    requireRate("min", min);
    requireRate("warmupStart", warmupStart);
    if (totalSteps < 1) {
      throw new IllegalArgumentException("totalSteps must be at least 1, cannot be: " + totalSteps);
    }
    if (warmupSteps < 0 || warmupSteps > totalSteps) {
      throw new IllegalArgumentException(
          "warmupSteps must be in [0, totalSteps = " + totalSteps + "], cannot be: " + warmupSteps);
    }
  }

  /** Warmup from 0, as the DTM and BEiT recipes use. */
  public static CosineSchedule of(double peak, double min, long warmupSteps, long totalSteps) {
    return new CosineSchedule(peak, min, warmupSteps, totalSteps, 0.0);
  }

  @Override
  public double at(long step) {
    if (step < 0) {
      throw new IllegalArgumentException("Step must be at least 0, cannot be: " + step);
    }
    long s = Math.min(step, totalSteps - 1);
    if (s < warmupSteps) {
      if (s == warmupSteps - 1) {
        return warmupSteps == 1 ? warmupStart : peak;
      }
      return s * ((peak - warmupStart) / (warmupSteps - 1)) + warmupStart;
    }
    long i = s - warmupSteps;
    long n = totalSteps - warmupSteps;
    return min + 0.5 * (peak - min) * (1 + Math.cos(Math.PI * i / n));
  }

  private static void requireRate(String field, double value) {
    if (!(value >= 0) || Double.isInfinite(value)) {
      throw new IllegalArgumentException(
          field + " must be finite and at least 0, cannot be: " + value);
    }
  }
}
