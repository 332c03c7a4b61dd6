package org.dtmspark.core.config;

import java.util.List;

/**
 * A {@code finetune.random-erasing} section: timm's {@code RandomErasing} on the normalised image.
 *
 * @param probability probability that an image gets erased; 0 disables
 * @param mode {@code pixel} (a fresh N(0, 1) value per pixel and channel), {@code rand} (one N(0,
 *     1) colour per erased box) or {@code const} (0, the mean colour)
 * @param count number of boxes erased from an erased image
 */
public record ErasingSettings(double probability, String mode, int count) {
  /** The modes {@link #mode} accepts. */
  public static final List<String> MODES = List.of("pixel", "rand", "const");

  static ErasingSettings from(SettingsReader r) {
    return new ErasingSettings(
        r.numberIn("probability", 0, 1), r.oneOf("mode", MODES), r.intAtLeast("count", 1));
  }
}
