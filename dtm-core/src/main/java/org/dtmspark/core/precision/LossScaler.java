package org.dtmspark.core.precision;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The dynamic loss scale of fp16 training, with the semantics of PyTorch's {@code
 * torch.cuda.amp.GradScaler}: the loss is multiplied by {@link #scale()} before backward, so that
 * small gradients survive fp16; the gradients are divided by it again before clipping. A step whose
 * gradients hold an infinity or a NaN is skipped (no optimizer update) and the scale halves; after
 * {@code growthInterval} finite steps in a row the scale doubles. With several ranks the decision
 * is taken on the all-reduced gradients, so every rank skips the same steps.
 *
 * <p>Host-side state only (the scale is needed on the host anyway to decide); the training step
 * keeps a device copy of the factor it multiplies the loss by and renews it when the scale changes,
 * which is rare.
 *
 * <p>State: {@link #toMetadata()} and {@link #restore(Map)}, keys {@code loss_scale.*} with a
 * format version.
 */
public final class LossScaler {
  /** GradScaler's initial scale, 2^16. */
  public static final double INITIAL_SCALE = 65536.0;

  /** GradScaler's finite steps between two growths. */
  public static final int GROWTH_INTERVAL = 2000;

  /** Version of the state written by {@link #toMetadata()}. */
  public static final String FORMAT_VERSION = "1";

  static final String KEY_VERSION = "loss_scale.format_version";
  static final String KEY_SCALE = "loss_scale.scale";
  static final String KEY_TRACKER = "loss_scale.growth_tracker";
  static final String KEY_SKIPPED = "loss_scale.skipped_steps";

  private static final double GROWTH_FACTOR = 2.0;
  private static final double BACKOFF_FACTOR = 0.5;

  private final boolean enabled;
  private final int growthInterval;
  private double scale;
  private int growthTracker;
  private long skippedSteps;

  /**
   * @param enabled false: the scale stays 1 and a non-finite gradient is not a skip but the
   *     caller's error (fp32)
   * @param initialScale the starting scale, above 0
   * @param growthInterval finite steps in a row before the scale doubles, at least 1
   */
  public LossScaler(boolean enabled, double initialScale, int growthInterval) {
    if (!(initialScale > 0) || Double.isInfinite(initialScale)) {
      throw new IllegalArgumentException(
          "Initial loss scale must be finite and above 0, cannot be: " + initialScale);
    }
    if (growthInterval < 1) {
      throw new IllegalArgumentException(
          "Loss scale growth interval must be at least 1, cannot be: " + growthInterval);
    }
    this.enabled = enabled;
    this.growthInterval = growthInterval;
    this.scale = enabled ? initialScale : 1.0;
  }

  /** GradScaler's defaults for fp16, and a disabled scaler for other precisions. */
  public static LossScaler forPrecision(Precision precision) {
    return new LossScaler(precision.needsLossScale(), INITIAL_SCALE, GROWTH_INTERVAL);
  }

  /** Whether the scale is in use (fp16). */
  public boolean enabled() {
    return enabled;
  }

  /** The factor the loss is multiplied by before backward; 1 when disabled. */
  public double scale() {
    return scale;
  }

  /** Finite steps since the scale last changed. */
  public int growthTracker() {
    return growthTracker;
  }

  /** Steps skipped for a non-finite gradient since the start of training. */
  public long skippedSteps() {
    return skippedSteps;
  }

  /**
   * Records the outcome of one optimizer step's overflow check.
   *
   * @param finite whether every reduced gradient was finite
   * @return whether the optimizer step is to be applied: always when finite; never otherwise
   * @throws IllegalStateException when disabled and {@code finite} is false (the caller reports
   *     non-finite gradients of an unscaled run as the error they are)
   */
  public boolean update(boolean finite) {
    if (!enabled) {
      if (!finite) {
        throw new IllegalStateException("Non-finite gradient without a loss scale to lower");
      }
      return true;
    }
    if (!finite) {
      scale *= BACKOFF_FACTOR;
      growthTracker = 0;
      skippedSteps++;
      return false;
    }
    growthTracker++;
    if (growthTracker == growthInterval) {
      double grown = scale * GROWTH_FACTOR;
      if (Double.isFinite(grown)) {
        scale = grown;
      }
      growthTracker = 0;
    }
    return true;
  }

  /** The state as string metadata (doubles written so that they parse back exactly). */
  public Map<String, String> toMetadata() {
    Map<String, String> out = new LinkedHashMap<>();
    out.put(KEY_VERSION, FORMAT_VERSION);
    out.put(KEY_SCALE, Double.toString(scale));
    out.put(KEY_TRACKER, Integer.toString(growthTracker));
    out.put(KEY_SKIPPED, Long.toString(skippedSteps));
    return out;
  }

  /** Whether {@code metadata} holds a loss scaler's state. */
  public static boolean isIn(Map<String, String> metadata) {
    return metadata.containsKey(KEY_VERSION);
  }

  /**
   * Continues from a saved state. A disabled scaler keeps its scale of 1 and takes only the
   * skipped-step count.
   *
   * @throws IllegalArgumentException naming a missing key, an unsupported version or a bad value
   */
  public void restore(Map<String, String> metadata) {
    String version = require(metadata, KEY_VERSION);
    if (!FORMAT_VERSION.equals(version)) {
      throw new IllegalArgumentException(
          "Unsupported loss scale state format version: "
              + version
              + " (this code reads version "
              + FORMAT_VERSION
              + ")");
    }
    double savedScale = parseDouble(metadata, KEY_SCALE);
    if (!(savedScale > 0) || Double.isInfinite(savedScale)) {
      throw new IllegalArgumentException(
          "Loss scale state "
              + KEY_SCALE
              + " must be finite and above 0, cannot be: "
              + savedScale);
    }
    long tracker = parseLong(metadata, KEY_TRACKER);
    long skipped = parseLong(metadata, KEY_SKIPPED);
    if (tracker < 0 || tracker >= growthInterval) {
      throw new IllegalArgumentException(
          "Loss scale state "
              + KEY_TRACKER
              + " must be in [0, "
              + growthInterval
              + "), cannot be: "
              + tracker);
    }
    if (skipped < 0) {
      throw new IllegalArgumentException(
          "Loss scale state " + KEY_SKIPPED + " must be at least 0, cannot be: " + skipped);
    }
    skippedSteps = skipped;
    if (enabled) {
      scale = savedScale;
      growthTracker = (int) tracker;
    }
  }

  private static String require(Map<String, String> metadata, String key) {
    String value = metadata.get(key);
    if (value == null) {
      throw new IllegalArgumentException("Loss scale state is missing key " + key);
    }
    return value;
  }

  private static double parseDouble(Map<String, String> metadata, String key) {
    String text = require(metadata, key);
    try {
      return Double.parseDouble(text);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(
          "Loss scale state " + key + " must be a number, cannot be: " + text, e);
    }
  }

  private static long parseLong(Map<String, String> metadata, String key) {
    String text = require(metadata, key);
    try {
      return Long.parseLong(text);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(
          "Loss scale state " + key + " must be an integer, cannot be: " + text, e);
    }
  }
}
