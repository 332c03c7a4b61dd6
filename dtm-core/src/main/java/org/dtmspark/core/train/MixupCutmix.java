package org.dtmspark.core.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.util.SplittableRandom;
import org.dtmspark.core.config.MixupSettings;
import org.dtmspark.core.nn.Tensors;

/**
 * timm's {@code Mixup} in batch mode: one draw per step, image {@code i} mixed with image {@code B
 * - 1 - i} (the batch flipped), soft targets with label smoothing inside.
 *
 * <p><b>Draws</b> ({@link #sample}), from one {@link SplittableRandom} per step: one {@code
 * nextDouble()}, the step mixes when it is below {@code prob}; with both alphas positive one {@code
 * nextDouble()} picks CutMix when below {@code switchProb}; the weight {@code lam ~ Beta(alpha,
 * alpha)} of the chosen method (Marsaglia–Tsang gammas); for CutMix with {@code lam < 1} the box
 * centre {@code cy = nextInt(S)}, then {@code cx = nextInt(S)}, side {@code int(S sqrt(1 - lam))},
 * half-sides {@code cut / 2} each way, clipped to the image, and {@code lam} corrected to {@code 1
 * - boxArea / S^2} (timm's {@code correct_lam}).
 */
public final class MixupCutmix {
  /**
   * One step's mixing.
   *
   * @param lam weight of each image's own content and label; 1 means no mixing
   * @param cutmix whether the partner's pixels are pasted in a box (else blended everywhere)
   * @param top first row of the pasted box (CutMix only)
   * @param left first column of the pasted box
   * @param height rows of the pasted box
   * @param width columns of the pasted box
   */
  public record Mix(double lam, boolean cutmix, int top, int left, int height, int width) {
    /** No mixing. */
    public static final Mix NONE = new Mix(1.0, false, 0, 0, 0, 0);

    /** Whether images change at all. */
    public boolean mixes() {
      return lam < 1.0;
    }
  }

  private final MixupSettings settings;

  public MixupCutmix(MixupSettings settings) {
    this.settings = settings;
  }

  /** Draws one step's mixing for images of {@code size x size} pixels. */
  public Mix sample(SplittableRandom rng, int size) {
    if (!settings.enabled() || !(rng.nextDouble() < settings.prob())) {
      return Mix.NONE;
    }
    boolean cutmix;
    double lam;
    if (settings.mixupAlpha() > 0 && settings.cutmixAlpha() > 0) {
      cutmix = rng.nextDouble() < settings.switchProb();
      lam = beta(rng, cutmix ? settings.cutmixAlpha() : settings.mixupAlpha());
    } else if (settings.mixupAlpha() > 0) {
      cutmix = false;
      lam = beta(rng, settings.mixupAlpha());
    } else {
      cutmix = true;
      lam = beta(rng, settings.cutmixAlpha());
    }
    if (!(lam < 1.0)) {
      return Mix.NONE;
    }
    if (!cutmix) {
      return new Mix(lam, false, 0, 0, 0, 0);
    }
    int cut = (int) (size * Math.sqrt(1 - lam));
    int cy = rng.nextInt(size);
    int cx = rng.nextInt(size);
    int top = clip(cy - cut / 2, size);
    int bottom = clip(cy + cut / 2, size);
    int left = clip(cx - cut / 2, size);
    int right = clip(cx + cut / 2, size);
    int h = bottom - top;
    int w = right - left;
    double corrected = 1.0 - (double) h * w / ((double) size * size);
    return new Mix(corrected, true, top, left, h, w);
  }

  private static int clip(int v, int size) {
    return Math.max(0, Math.min(size, v));
  }

  /**
   * Mixes a batch on its device.
   *
   * @param images {@code [B, C, S, S]}, normalised
   * @return {@code [B, C, S, S]} on the manager {@code m}: {@code lam x + (1 - lam) flip(x)}
   *     (Mixup) or {@code x} with the box replaced by {@code flip(x)}'s (CutMix); {@code images}
   *     itself when the mix does nothing
   */
  public static NDArray mixImages(NDManager m, NDArray images, Mix mix) {
    if (!mix.mixes()) {
      return images;
    }
    NDArray partner = images.flip(0);
    if (!mix.cutmix()) {
      return images.mul(mix.lam()).add(partner.mul(1 - mix.lam()));
    }
    Shape s = images.getShape();
    int h = Math.toIntExact(s.get(2));
    int w = Math.toIntExact(s.get(3));
    float[] box = new float[h * w];
    for (int y = mix.top(); y < mix.top() + mix.height(); y++) {
      for (int x = mix.left(); x < mix.left() + mix.width(); x++) {
        box[y * w + x] = 1f;
      }
    }
    NDArray paste =
        Tensors.fromHost(m, box, new Shape(1, 1, h, w)).toType(images.getDataType(), false);
    NDArray keep = paste.neg().add(1);
    return images.mul(keep).add(partner.mul(paste));
  }

  /**
   * Soft targets of a batch, on its device.
   *
   * @param labels {@code [B]} integer class indices
   * @param classes number of classes K
   * @param smoothing label smoothing epsilon: each one-hot row becomes {@code 1 - eps + eps/K} on
   *     its class and {@code eps/K} elsewhere, before mixing
   * @return {@code [B, K]} float32, {@code lam y + (1 - lam) flip(y)}; every row sums to 1
   */
  public static NDArray mixTargets(NDArray labels, int classes, double smoothing, Mix mix) {
    float off = (float) (smoothing / classes);
    float on = (float) (1.0 - smoothing) + off;
    NDArray y =
        labels
            .toType(DataType.INT64, false)
            .oneHot(classes, DataType.FLOAT32)
            .mul(on - off)
            .add(off); // [B, K]
    if (!mix.mixes()) {
      return y;
    }
    return y.mul(mix.lam()).add(y.flip(0).mul(1 - mix.lam()));
  }

  /**
   * Cross-entropy against soft targets, timm's {@code SoftTargetCrossEntropy}.
   *
   * @param logits {@code [B, K]}
   * @param targets {@code [B, K]}, rows summing to 1
   * @return scalar: {@code mean_b sum_k -targets[b, k] log_softmax(logits)[b, k]}
   */
  public static NDArray softTargetCrossEntropy(NDArray logits, NDArray targets) {
    return logits.logSoftmax(1).mul(targets).sum(new int[] {1}).neg().mean();
  }

  /** A draw from Beta(alpha, alpha), as the ratio of two gamma draws. */
  static double beta(SplittableRandom rng, double alpha) {
    double x = gamma(rng, alpha);
    double y = gamma(rng, alpha);
    return x / (x + y);
  }

  /**
   * A draw from Gamma(shape, 1) by Marsaglia and Tsang; a shape below 1 uses {@code Gamma(shape +
   * 1) U^(1/shape)}.
   */
  static double gamma(SplittableRandom rng, double shape) {
    if (shape < 1) {
      double u = rng.nextDouble();
      return gamma(rng, shape + 1) * Math.pow(u, 1 / shape);
    }
    double d = shape - 1.0 / 3;
    double c = 1 / Math.sqrt(9 * d);
    while (true) {
      double x = rng.nextGaussian();
      double v = 1 + c * x;
      if (v <= 0) {
        continue;
      }
      v = v * v * v;
      double u = rng.nextDouble();
      if (u < 1 - 0.0331 * x * x * x * x || Math.log(u) < 0.5 * x * x + d * (1 - v + Math.log(v))) {
        return d * v;
      }
    }
  }
}
