package org.dtmspark.core.optim;

/**
 * The same learning rate at every step.
 *
 * @param value the learning rate, finite and at least 0
 */
public record ConstantSchedule(double value) implements LrSchedule {
  /** Validates the value. */
  public ConstantSchedule {
    if (!(value >= 0) || Double.isInfinite(value)) {
      throw new IllegalArgumentException(
          "Learning rate must be finite and at least 0, cannot be: " + value);
    }
  }

  @Override
  public double at(long step) {
    if (step < 0) {
      throw new IllegalArgumentException("Step must be at least 0, cannot be: " + step);
    }
    return value;
  }
}
