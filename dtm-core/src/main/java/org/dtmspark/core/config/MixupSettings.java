package org.dtmspark.core.config;

/**
 * A {@code finetune.mixup} section: timm's {@code Mixup} in batch mode (one draw per step).
 *
 * @param mixupAlpha Beta(alpha, alpha) parameter of Mixup's weight; 0 disables Mixup
 * @param cutmixAlpha Beta(alpha, alpha) parameter of CutMix's weight; 0 disables CutMix
 * @param prob probability that a step mixes at all
 * @param switchProb probability of CutMix rather than Mixup when both are enabled
 */
public record MixupSettings(double mixupAlpha, double cutmixAlpha, double prob, double switchProb) {

  static MixupSettings from(SettingsReader r) {
    return new MixupSettings(
        r.nonNegative("mixup-alpha"),
        r.nonNegative("cutmix-alpha"),
        r.numberIn("prob", 0, 1),
        r.numberIn("switch-prob", 0, 1));
  }

  /** Whether any step can mix: a positive alpha and a positive probability. */
  public boolean enabled() {
    return prob > 0 && (mixupAlpha > 0 || cutmixAlpha > 0);
  }
}
