package org.dtmspark.core.train;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import org.dtmspark.core.data.ImageNormalization;
import org.dtmspark.core.morph.DtmLoss;
import org.dtmspark.core.morph.MorphSchedule;
import org.dtmspark.core.nn.VisionTransformer;
import org.dtmspark.core.optim.FlatParameters;
import org.dtmspark.core.precision.Autocast;
import org.dtmspark.core.precision.Precision;

/**
 * One DTM optimizer step on given targets: for each of {@code accumSteps} micro-batches (equal
 * slices of the batch) a masked student forward, under autocast in mixed precision, the DTM loss in
 * fp32, and a backward of the loss times the loss scale over the number of micro-batches, the
 * gradients summing in the flat gradient; then {@link GradientUpdate} (mean over the ranks,
 * overflow check, unscaling and clipping, AdamW, zeroing). Where the targets come from (an online
 * teacher, a cache) is the caller's business; so is the per-step {@code NDScope} that frees the
 * temporaries.
 */
public final class DtmStep {
  private final VisionTransformer student;
  private final GradientUpdate update;
  private final DtmLoss loss;
  private final int accumSteps;
  private final Precision precision;
  private final Device device;
  private final NDArray float32Zero;

  /**
   * @param student the model, its parameters views of {@code update}'s {@link FlatParameters}
   * @param accumSteps micro-batches per optimizer step, at least 1; the batch size must be a
   *     multiple
   * @param precision fp32, or the mixed precision of the forward
   */
  public DtmStep(
      VisionTransformer student,
      GradientUpdate update,
      DtmLoss loss,
      int accumSteps,
      Precision precision) {
    if (accumSteps < 1) {
      throw new IllegalArgumentException(
          "Accumulation steps must be at least 1, cannot be: " + accumSteps);
    }
    this.student = student;
    this.update = update;
    this.loss = loss;
    this.accumSteps = accumSteps;
    this.precision = precision;
    FlatParameters flat = update.parameters();
    this.device = flat.data().getDevice();
    // [1] fp32: adding it to a reduced-precision tensor promotes the result to fp32 and keeps the
    // autograd link, which DJL's toType (run without gradient recording) would cut.
    this.float32Zero = flat.manager().zeros(new Shape(1), DataType.FLOAT32);
    NDScope.unregister(float32Zero);
  }

  /** The update this step ends with (optimizer, loss scale). */
  public GradientUpdate gradientUpdate() {
    return update;
  }

  /**
   * Loss, gradient norm (before clipping) and morphing schedule of one step.
   *
   * @param loss the DTM loss of the step, averaged over its micro-batches and the ranks
   * @param gradNorm global L2 norm of the averaged, unscaled gradients before clipping (not finite
   *     on a skipped step)
   * @param schedule the morphing schedule used
   * @param communicationSeconds time spent averaging gradients over the ranks
   * @param skipped whether the optimizer step was skipped for a non-finite fp16 gradient
   * @param lossScale the loss scale of the step (1 without one)
   */
  public record Stats(
      double loss,
      double gradNorm,
      MorphSchedule schedule,
      double communicationSeconds,
      boolean skipped,
      double lossScale) {}

  /**
   * Runs the step.
   *
   * @param pixels {@code [B, 3, S, S]} in [0, 1]; the student normalises with ImageNet statistics
   * @param mask {@code [B, N]} 1 = masked
   * @param targets {@code [B, N, P]} target tokens, no gradient
   * @param schedule morphing levels of this step (token-wise when every r is 0), shared by all its
   *     micro-batches
   * @param lr learning rate of this step
   */
  public Stats run(
      NDArray pixels, NDArray mask, NDArray targets, MorphSchedule schedule, double lr) {
    double loss = accumulate(pixels, mask, targets, schedule);
    return update(loss, schedule, lr);
  }

  /**
   * The forward and backward half of {@link #run}: every micro-batch's forward, loss and backward,
   * the gradients summing in the flat gradient.
   *
   * @return this rank's loss of the step, the mean over its micro-batches
   */
  public double accumulate(NDArray pixels, NDArray mask, NDArray targets, MorphSchedule schedule) {
    long batch = pixels.getShape().get(0);
    if (batch % accumSteps != 0) {
      throw new IllegalArgumentException(
          "A batch of "
              + batch
              + " images does not split into "
              + accumSteps
              + " equal micro-batches (train.accum-steps)");
    }
    NDList px = micro(pixels);
    NDList mk = micro(mask);
    NDList tg = micro(targets);
    double lossSum = 0;
    for (int i = 0; i < accumSteps; i++) {
      NDArray input = ImageNormalization.IMAGENET.apply(px.get(i));
      NDArray value;
      try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
        update.parameters().bindViews();
        NDArray online;
        try (Autocast autocast = precision.mixed() ? Autocast.open(device, precision) : null) {
          NDArray features = student.forwardFeatures(input, mk.get(i), true, null);
          online = student.predictTokens(features); // [B/k, N, P]
        }
        if (online.getDataType() != DataType.FLOAT32) {
          online = online.add(float32Zero);
        }
        value = loss.compute(online, tg.get(i).stopGradient(), schedule);
        gc.backward(value.mul(update.lossFactor(accumSteps)));
      }
      lossSum += value.getFloat();
    }
    return lossSum / accumSteps;
  }

  /**
   * The update half of {@link #run}: {@link GradientUpdate#apply} on the gradients {@link
   * #accumulate} summed.
   */
  public Stats update(double loss, MorphSchedule schedule, double lr) {
    GradientUpdate.Result r = update.apply(loss, lr, "morphing " + schedule);
    return new Stats(
        r.loss(), r.gradNorm(), schedule, r.communicationSeconds(), r.skipped(), r.lossScale());
  }

  /** {@code x} split along the batch axis into the step's micro-batches. */
  private NDList micro(NDArray x) {
    return accumSteps == 1 ? new NDList(x) : x.split(accumSteps);
  }
}
