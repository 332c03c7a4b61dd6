package org.dtmspark.core.optim;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.DataType;
import java.util.Collection;

/**
 * Gradient clipping by the global L2 norm over a list of tensors (PyTorch {@code clip_grad_norm_}),
 * as the per-parameter step did it before {@code GradientUpdate} folded clipping into the flat
 * optimizer's scalars; kept as a reference for tests.
 */
final class GradientClipping {
  /** Added to the norm before dividing, as in PyTorch, so that a zero norm never divides. */
  public static final double EPSILON = 1e-6;

  private GradientClipping() {}

  /**
   * Computes the L2 norm of all gradients taken together, {@code total = sqrt(sum over tensors of
   * sum(g^2))}, and when clipping is on and {@code total > maxNorm} scales every gradient in place
   * by {@code maxNorm / (total + 1e-6)}, the factor of PyTorch's {@code
   * torch.nn.utils.clip_grad_norm_}. Gradients at or below the limit are left exactly as they are
   * (PyTorch also scales a norm just below the limit, by {@code maxNorm / (total + 1e-6)} which is
   * then within {@code 1e-6 / maxNorm} of 1; that difference is deliberate and negligible).
   *
   * <p>The sums of squares are computed on the device (in float32 for half-precision gradients,
   * otherwise in the gradients' own type) and combined in float64; the host reads one scalar. All
   * gradients must be on one device.
   *
   * @param grads gradient tensors of any shapes; scaled in place
   * @param maxNorm the largest allowed norm; 0 or less disables clipping (the norm is still
   *     computed and checked)
   * @return the total norm before clipping; 0 for no gradients
   * @throws NonFiniteGradientException when the norm is NaN or infinite; gradients are then left
   *     unchanged
   */
  public static double clipByGlobalNorm(Collection<NDArray> grads, double maxNorm) {
    if (Double.isNaN(maxNorm)) {
      throw new IllegalArgumentException("Maximum gradient norm must be a number, cannot be: NaN");
    }
    if (grads.isEmpty()) {
      return 0.0;
    }
    double total;
    try (NDList sums = new NDList(grads.size());
        NDList scratch = new NDList()) {
      for (NDArray grad : grads) {
        NDArray wide = grad;
        if (grad.getDataType() != DataType.FLOAT32 && grad.getDataType() != DataType.FLOAT64) {
          wide = grad.toType(DataType.FLOAT32, true);
          scratch.add(wide);
        }
        NDArray squared = wide.square();
        scratch.add(squared);
        NDArray sum = squared.sum();
        scratch.add(sum);
        sums.add(sum.toType(DataType.FLOAT64, true));
      }
      NDArray stacked = NDArrays.stack(sums);
      scratch.add(stacked);
      NDArray sumOfSquares = stacked.sum();
      scratch.add(sumOfSquares);
      total = Math.sqrt(sumOfSquares.getDouble());
    }
    if (!Double.isFinite(total)) {
      throw new NonFiniteGradientException(total);
    }
    if (maxNorm > 0 && total > maxNorm) {
      double factor = maxNorm / (total + EPSILON);
      for (NDArray grad : grads) {
        grad.muli(factor);
      }
    }
    return total;
  }
}
