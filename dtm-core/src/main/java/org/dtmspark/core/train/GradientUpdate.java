package org.dtmspark.core.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.dtmspark.core.nn.Tensors;
import org.dtmspark.core.optim.AdamW;
import org.dtmspark.core.optim.FlatParameters;
import org.dtmspark.core.precision.LossScaler;

/**
 * What follows the backward passes of one optimizer step, on the flat gradient of a {@link
 * FlatParameters}: the mean over the ranks ({@link GradientReducer}), the overflow check and the
 * global norm (one reduction and one read to the host), unscaling and clipping folded into one
 * factor that {@link AdamW} applies, the update, zeroing, and the loss-scale update.
 *
 * <p>About 20 native calls whatever the number of parameters: the norm and its read, AdamW's
 * whole-tensor operations with one 5-float upload, one {@code zero_}. The overflow decision is
 * taken on the reduced gradient, which every rank holds identically, so every rank skips the same
 * steps.
 *
 * <p>Not thread-safe; one instance per training loop, used on the training thread.
 */
public final class GradientUpdate implements AutoCloseable {
  private final FlatParameters flat;
  private final AdamW optimizer;
  private final LossScaler scaler;
  private final double clipGrad;
  private final GradientReducer reducer;
  private final NDManager constants;
  private NDArray lossFactor;
  private double lossFactorValue = Double.NaN;

  /**
   * @param clipGrad global gradient-norm threshold (of the unscaled, reduced gradient); 0 disables
   * @param reducer averages the gradients over the ranks ({@link GradientReducer#LOCAL} for one)
   */
  public GradientUpdate(
      FlatParameters flat,
      AdamW optimizer,
      LossScaler scaler,
      double clipGrad,
      GradientReducer reducer) {
    if (Double.isNaN(clipGrad)) {
      throw new IllegalArgumentException("Maximum gradient norm must be a number, cannot be: NaN");
    }
    this.flat = flat;
    this.optimizer = optimizer;
    this.scaler = scaler;
    this.clipGrad = clipGrad;
    this.reducer = reducer;
    this.constants = flat.manager().newSubManager();
  }

  /**
   * What one optimizer step did.
   *
   * @param loss the step's loss (mean over its micro-batches), averaged over the ranks
   * @param gradNorm global L2 norm of the reduced, unscaled gradient before clipping; infinite or
   *     NaN on a skipped step
   * @param skipped whether the optimizer step was skipped for a non-finite gradient
   * @param lossScale the loss scale the step's backward used (1 without one)
   * @param communicationSeconds time spent averaging gradients over the ranks
   */
  public record Result(
      double loss,
      double gradNorm,
      boolean skipped,
      double lossScale,
      double communicationSeconds) {}

  /** The parameters this update trains. */
  public FlatParameters parameters() {
    return flat;
  }

  /** The loss scaler, whose state goes into checkpoints. */
  public LossScaler scaler() {
    return scaler;
  }

  /** The optimizer, whose state goes into checkpoints. */
  public AdamW optimizer() {
    return optimizer;
  }

  /**
   * The 0-d fp32 device tensor each micro-batch's loss is multiplied by before backward: the loss
   * scale over the number of micro-batches, so that the summed gradients are the scaled mean over
   * the step's batch. Made again only when the scale changes; do not close.
   */
  public NDArray lossFactor(int microBatches) {
    double value = scaler.scale() / microBatches;
    if (value != lossFactorValue) {
      if (lossFactor != null) {
        lossFactor.close();
      }
      lossFactor = Tensors.scalar(constants, value);
      NDScope.unregister(lossFactor);
      lossFactorValue = value;
    }
    return lossFactor;
  }

  /**
   * Applies the step to the gradients accumulated since the last call, then zeroes them.
   *
   * @param loss this rank's loss of the step
   * @param lr learning rate of this step
   * @param describe what the step trained on, for the message when an unscaled run meets a
   *     non-finite gradient
   * @throws IllegalStateException on a non-finite gradient without a loss scale, naming the
   *     parameters whose gradient is not finite
   */
  public Result apply(double loss, double lr, String describe) {
    double scale = scaler.scale();
    try (NDManager scratch = constants.newSubManager()) {
      NDArray grad = flat.gradient(scratch); // [numel], scaled by `scale`
      GradientReducer.Reduced reduced = reducer.reduce(grad, loss);
      NDArray normArray = grad.norm();
      normArray.attach(scratch);
      double scaledNorm = normArray.getFloat();
      boolean finite = Double.isFinite(scaledNorm);
      double norm = scaledNorm / scale;
      if (!finite && !scaler.enabled()) {
        throw new IllegalStateException(
            "Non-finite gradient (loss "
                + reduced.loss()
                + ", "
                + describe
                + ") in "
                + nonFinite(grad, scratch));
      }
      boolean applied = scaler.update(finite);
      if (applied) {
        double clip = clipGrad > 0 && norm > clipGrad ? clipGrad / (norm + 1e-6) : 1.0;
        optimizer.step(grad, lr, clip / scale);
      }
      flat.zeroGradients();
      return new Result(reduced.loss(), norm, !applied, scale, reduced.seconds());
    }
  }

  /** Names of the parameters whose gradient holds a NaN or an infinity (the first few). */
  private List<String> nonFinite(NDArray grad, NDManager scratch) {
    List<String> names = new ArrayList<>();
    for (Map.Entry<String, NDArray> e : flat.unflatten(grad, scratch).entrySet()) {
      NDArray g = e.getValue();
      if (g.isNaN().any().getBoolean() || g.isInfinite().any().getBoolean()) {
        names.add(e.getKey());
      }
    }
    return names.size() > 8 ? names.subList(0, 8) : names;
  }

  /** Frees the device constants; the parameters and the optimizer belong to the caller. */
  @Override
  public void close() {
    constants.close();
  }
}
