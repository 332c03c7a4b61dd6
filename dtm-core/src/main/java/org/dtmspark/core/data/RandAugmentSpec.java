package org.dtmspark.core.data;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A RandAugment policy in timm's notation, for example {@code rand-m9-mstd0.5-inc1} (the BEiT and
 * DTM fine-tuning recipe).
 *
 * <p>Sections after {@code rand}, separated by dashes, in any order: {@code m} magnitude (default
 * 10), {@code n} operations per image (default 2), {@code p} probability of applying each chosen
 * operation (default 0.5), {@code mstd} standard deviation of the Gaussian noise on the magnitude
 * (default 0; above 100 means uniform in [0, m]), {@code mmax} upper clip of the magnitude (default
 * 10), {@code inc1} the "increasing" transform set. Only the increasing set is implemented, so
 * {@code inc1} is required; {@code t} (named transform sets) is not supported.
 *
 * @param magnitude magnitude M on timm's 0..10 scale
 * @param numLayers operations drawn (with replacement) per image
 * @param prob probability of applying each drawn operation
 * @param magnitudeStd standard deviation of the magnitude noise; 0 for none, infinite for uniform
 * @param magnitudeMax upper clip of the noisy magnitude
 */
public record RandAugmentSpec(
    double magnitude, int numLayers, double prob, double magnitudeStd, double magnitudeMax) {
  private static final Pattern SECTION = Pattern.compile("([a-z]+)(\\d.*)");

  public RandAugmentSpec {
    if (!(magnitude >= 0) || Double.isInfinite(magnitude)) {
      throw new IllegalArgumentException(
          "RandAugment magnitude must be finite and at least 0, cannot be: " + magnitude);
    }
    if (numLayers < 1) {
      throw new IllegalArgumentException(
          "RandAugment operations per image must be at least 1, cannot be: " + numLayers);
    }
    if (!(prob >= 0 && prob <= 1)) {
      throw new IllegalArgumentException(
          "RandAugment probability must be in [0, 1], cannot be: " + prob);
    }
    if (!(magnitudeStd >= 0)) {
      throw new IllegalArgumentException(
          "RandAugment magnitude std must be at least 0, cannot be: " + magnitudeStd);
    }
    if (!(magnitudeMax > 0) || Double.isInfinite(magnitudeMax)) {
      throw new IllegalArgumentException(
          "RandAugment magnitude max must be finite and positive, cannot be: " + magnitudeMax);
    }
  }

  /**
   * Parses timm's notation.
   *
   * @throws IllegalArgumentException naming the policy and the offending section
   */
  public static RandAugmentSpec parse(String policy) {
    String[] sections = policy.split("-");
    if (!sections[0].equals("rand")) {
      throw new IllegalArgumentException(
          "RandAugment policy must start with 'rand-', cannot be: " + policy);
    }
    double magnitude = 10;
    int numLayers = 2;
    double prob = 0.5;
    double mstd = 0;
    double mmax = 10;
    boolean increasing = false;
    for (int i = 1; i < sections.length; i++) {
      String s = sections[i];
      Matcher m = SECTION.matcher(s);
      if (!m.matches()) {
        throw new IllegalArgumentException(
            "RandAugment policy " + policy + " has a section without a value: " + s);
      }
      String key = m.group(1);
      String value = m.group(2);
      try {
        switch (key) {
          case "m" -> magnitude = Integer.parseInt(value);
          case "n" -> numLayers = Integer.parseInt(value);
          case "p" -> prob = Double.parseDouble(value);
          case "mstd" -> {
            mstd = Double.parseDouble(value);
            if (mstd > 100) {
              mstd = Double.POSITIVE_INFINITY;
            }
          }
          case "mmax" -> mmax = Integer.parseInt(value);
          case "inc" -> {
            if (!value.equals("1")) {
              throw new IllegalArgumentException(
                  "RandAugment policy "
                      + policy
                      + ": only the increasing transform set (inc1) is implemented, cannot be: "
                      + s);
            }
            increasing = true;
          }
          default ->
              throw new IllegalArgumentException(
                  "RandAugment policy "
                      + policy
                      + " has an unknown section (m, n, p, mstd, mmax, inc), cannot be: "
                      + s);
        }
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException(
            "RandAugment policy " + policy + " has a section with a bad number: " + s, e);
      }
    }
    if (!increasing) {
      throw new IllegalArgumentException(
          "RandAugment policy "
              + policy
              + " must select the increasing transform set (inc1), the only one implemented");
    }
    return new RandAugmentSpec(magnitude, numLayers, prob, mstd, mmax);
  }
}
