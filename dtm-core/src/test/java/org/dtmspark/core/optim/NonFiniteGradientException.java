package org.dtmspark.core.optim;

/**
 * Thrown when the gradients contain NaN or infinity, so that training stops (or, with loss scaling,
 * skips the step) instead of silently writing NaN into the parameters.
 */
final class NonFiniteGradientException extends ArithmeticException {
  private static final long serialVersionUID = 1L;

  private final double norm;

  /** Creates the exception for a global gradient norm that is NaN or infinite. */
  NonFiniteGradientException(double norm) {
    super(
        "Global gradient L2 norm must be finite, cannot be: "
            + norm
            + " (the loss or a gradient is NaN or infinite; parameters were not changed)");
    this.norm = norm;
  }

  /** The non-finite norm that was found. */
  public double norm() {
    return norm;
  }
}
