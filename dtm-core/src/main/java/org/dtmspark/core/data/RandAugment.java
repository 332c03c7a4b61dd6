package org.dtmspark.core.data;

import java.util.List;
import java.util.SplittableRandom;

/**
 * timm's RandAugment ({@code rand_augment_transform}) with the "increasing" transform set, on 8-bit
 * RGB images, with Pillow's pixel semantics.
 *
 * <p><b>Draws</b>, from one {@link SplittableRandom} per image (seeded by the caller from the step
 * and the image's position, like the views): {@code numLayers} times {@code nextInt(15)} choose the
 * operations (with replacement, as {@code np.random.choice}); then for each chosen operation, in
 * order: one {@code nextDouble()}, the operation is skipped when it exceeds {@code prob}; when
 * {@code magnitudeStd > 0} the magnitude is {@code nextGaussian()} scaled and shifted (uniform in
 * [0, m] when the std is infinite), clipped to [0, magnitudeMax]; operations with a signed argument
 * then draw one {@code nextDouble()} and negate the argument when it exceeds 0.5.
 *
 * <p><b>Operations</b> (level {@code l = magnitude / 10}): AutoContrast, Equalize, Invert (no
 * argument); Rotate by {@code ±30 l} degrees about the centre; PosterizeIncreasing keeps {@code 4 -
 * int(4 l)} bits; SolarizeIncreasing inverts values at or above {@code 256 - int(256 l)};
 * SolarizeAdd adds {@code int(110 l)} to values below 128; Color, Contrast, Brightness and
 * Sharpness "increasing" blend with their degenerate image by factor {@code max(0.1, 1 ± 0.9 l)};
 * ShearX/ShearY by {@code ±0.3 l}; TranslateXRel/TranslateYRel by {@code ±0.45 l} of the side. The
 * geometric operations use Pillow's affine transform with its bicubic filter (cubic convolution,
 * {@code a = -1}, sample points at pixel centres) and fill uncovered pixels with the mean colour.
 *
 * <p>Pixel arithmetic follows Pillow 9: {@code L = (19595 R + 38470 G + 7471 B + 0x8000) >> 16},
 * {@code Image.blend} in single precision truncated to 8 bits (clipped when extrapolating), the
 * SMOOTH kernel ({@code [1 1 1; 1 5 1; 1 1 1] / 13}, border pixels unchanged) for sharpness. Images
 * are planar {@code [3, H, W]} arrays of ints in [0, 255]. Instances are immutable and thread-safe.
 */
public final class RandAugment {
  /** The operations of timm's {@code _RAND_INCREASING_TRANSFORMS}, in timm's order. */
  public enum Op {
    AUTO_CONTRAST,
    EQUALIZE,
    INVERT,
    ROTATE,
    POSTERIZE_INCREASING,
    SOLARIZE_INCREASING,
    SOLARIZE_ADD,
    COLOR_INCREASING,
    CONTRAST_INCREASING,
    BRIGHTNESS_INCREASING,
    SHARPNESS_INCREASING,
    SHEAR_X,
    SHEAR_Y,
    TRANSLATE_X_REL,
    TRANSLATE_Y_REL
  }

  private static final List<Op> OPS = List.of(Op.values());
  private static final double LEVEL_DENOM = 10;
  private static final double TRANSLATE_PCT = 0.45;

  private final RandAugmentSpec spec;
  private final int[] fill;

  /**
   * @param spec the policy
   * @param fill RGB fill colour of the geometric operations (timm: the dataset mean times 255,
   *     rounded)
   */
  public RandAugment(RandAugmentSpec spec, int[] fill) {
    if (spec == null) {
      throw new IllegalArgumentException("RandAugment policy must not be null");
    }
    if (fill == null || fill.length != 3) {
      throw new IllegalArgumentException("Fill colour must have 3 channels");
    }
    this.spec = spec;
    this.fill = fill.clone();
  }

  /** The fill colour timm uses for a normalisation: {@code min(255, round(255 * mean))}. */
  public static int[] fillFor(ImageNormalization norm) {
    float[] mean = norm.mean();
    int[] out = new int[3];
    for (int c = 0; c < 3; c++) {
      out[c] = Math.min(255, (int) Math.rint(255 * mean[c]));
    }
    return out;
  }

  public RandAugmentSpec spec() {
    return spec;
  }

  /**
   * Applies the policy in place to {@code [3, height, width]} unsigned 8-bit pixels at {@code
   * offset} (the rendered view, as the PIL image timm works on).
   */
  public void apply(byte[] pixels, int offset, int width, int height, SplittableRandom rng) {
    int n = 3 * width * height;
    int[] img = new int[n];
    for (int i = 0; i < n; i++) {
      img[i] = pixels[offset + i] & 0xFF;
    }
    int[] out = apply(img, width, height, rng);
    if (out != img) {
      for (int i = 0; i < n; i++) {
        pixels[offset + i] = (byte) out[i];
      }
    }
  }

  /**
   * Applies the policy to an 8-bit planar image.
   *
   * @param img {@code [3, height, width]} values in [0, 255]; not modified
   * @return the augmented image, a new array (or {@code img} itself when no operation applied)
   */
  public int[] apply(int[] img, int width, int height, SplittableRandom rng) {
    Op[] chosen = new Op[spec.numLayers()];
    for (int i = 0; i < chosen.length; i++) {
      chosen[i] = OPS.get(rng.nextInt(OPS.size()));
    }
    int[] out = img;
    for (Op op : chosen) {
      if (spec.prob() < 1.0 && rng.nextDouble() > spec.prob()) {
        continue;
      }
      double magnitude = spec.magnitude();
      if (spec.magnitudeStd() > 0) {
        magnitude =
            Double.isInfinite(spec.magnitudeStd())
                ? rng.nextDouble() * magnitude
                : magnitude + spec.magnitudeStd() * rng.nextGaussian();
      }
      magnitude = Math.max(0, Math.min(magnitude, spec.magnitudeMax()));
      out = applyOp(op, out, width, height, magnitude / LEVEL_DENOM, rng);
    }
    return out;
  }

  /**
   * One operation at level {@code l = magnitude / 10}; draws the sign of signed arguments from
   * {@code rng}.
   */
  int[] applyOp(Op op, int[] img, int width, int height, double l, SplittableRandom rng) {
    return switch (op) {
      case AUTO_CONTRAST -> autoContrast(img, width, height);
      case EQUALIZE -> equalize(img, width, height);
      case INVERT -> lut(img, invertLut());
      case ROTATE -> rotate(img, width, height, negate(l * 30, rng), fill);
      case POSTERIZE_INCREASING -> posterize(img, 4 - (int) (l * 4));
      case SOLARIZE_INCREASING -> lut(img, solarizeLut(256 - Math.min(256, (int) (l * 256))));
      case SOLARIZE_ADD -> lut(img, solarizeAddLut(Math.min(128, (int) (l * 110)), 128));
      case COLOR_INCREASING -> color(img, width, height, enhanceFactor(l, rng));
      case CONTRAST_INCREASING -> contrast(img, width, height, enhanceFactor(l, rng));
      case BRIGHTNESS_INCREASING -> blend(new int[img.length], img, enhanceFactor(l, rng));
      case SHARPNESS_INCREASING -> sharpness(img, width, height, enhanceFactor(l, rng));
      case SHEAR_X ->
          affine(img, width, height, new double[] {1, negate(l * 0.3, rng), 0, 0, 1, 0}, fill);
      case SHEAR_Y ->
          affine(img, width, height, new double[] {1, 0, 0, negate(l * 0.3, rng), 1, 0}, fill);
      case TRANSLATE_X_REL ->
          affine(
              img,
              width,
              height,
              new double[] {1, 0, negate(l * TRANSLATE_PCT, rng) * width, 0, 1, 0},
              fill);
      case TRANSLATE_Y_REL ->
          affine(
              img,
              width,
              height,
              new double[] {1, 0, 0, 0, 1, negate(l * TRANSLATE_PCT, rng) * height},
              fill);
    };
  }

  private static double negate(double v, SplittableRandom rng) {
    return rng.nextDouble() > 0.5 ? -v : v;
  }

  /** {@code max(0.1, 1 ± 0.9 l)}, timm's {@code _enhance_increasing_level_to_arg}. */
  private static float enhanceFactor(double l, SplittableRandom rng) {
    return (float) Math.max(0.1, 1.0 + negate(l * 0.9, rng));
  }

  // ---- lookup-table operations (ImageOps) ----

  static int[] lut(int[] img, int[] lut) {
    int[] out = new int[img.length];
    for (int i = 0; i < img.length; i++) {
      out[i] = lut[img[i]];
    }
    return out;
  }

  /** A lookup table per channel, {@code luts[c]}. */
  private static int[] lutPerChannel(int[] img, int plane, int[][] luts) {
    int[] out = new int[img.length];
    for (int c = 0; c < 3; c++) {
      int[] lut = luts[c];
      for (int i = c * plane; i < (c + 1) * plane; i++) {
        out[i] = lut[img[i]];
      }
    }
    return out;
  }

  private static int[] histogram(int[] img, int channel, int plane) {
    int[] h = new int[256];
    for (int i = channel * plane; i < (channel + 1) * plane; i++) {
      h[img[i]]++;
    }
    return h;
  }

  private static int[] identityLut() {
    int[] lut = new int[256];
    for (int i = 0; i < 256; i++) {
      lut[i] = i;
    }
    return lut;
  }

  private static int[] invertLut() {
    int[] lut = new int[256];
    for (int i = 0; i < 256; i++) {
      lut[i] = 255 - i;
    }
    return lut;
  }

  /**
   * {@code ImageOps.autocontrast} with cutoff 0: each channel stretched from [lo, hi] to [0, 255].
   */
  static int[] autoContrast(int[] img, int width, int height) {
    int plane = width * height;
    int[][] luts = new int[3][];
    for (int c = 0; c < 3; c++) {
      int[] h = histogram(img, c, plane);
      int lo = 0;
      while (lo < 255 && h[lo] == 0) {
        lo++;
      }
      int hi = 255;
      while (hi > 0 && h[hi] == 0) {
        hi--;
      }
      if (hi <= lo) {
        luts[c] = identityLut();
        continue;
      }
      double scale = 255.0 / (hi - lo);
      double offset = -lo * scale;
      int[] lut = new int[256];
      for (int i = 0; i < 256; i++) {
        int v = (int) (i * scale + offset);
        lut[i] = Math.max(0, Math.min(255, v));
      }
      luts[c] = lut;
    }
    return lutPerChannel(img, plane, luts);
  }

  /** {@code ImageOps.equalize}: each channel's histogram equalised. */
  static int[] equalize(int[] img, int width, int height) {
    int plane = width * height;
    int[][] luts = new int[3][];
    for (int c = 0; c < 3; c++) {
      int[] h = histogram(img, c, plane);
      int nonZero = 0;
      int last = 0;
      long total = 0;
      for (int v : h) {
        if (v != 0) {
          nonZero++;
          last = v;
          total += v;
        }
      }
      long step = nonZero <= 1 ? 0 : (total - last) / 255;
      if (step == 0) {
        luts[c] = identityLut();
        continue;
      }
      int[] lut = new int[256];
      long n = step / 2;
      for (int i = 0; i < 256; i++) {
        lut[i] = (int) Math.min(255, n / step);
        n += h[i];
      }
      luts[c] = lut;
    }
    return lutPerChannel(img, plane, luts);
  }

  /**
   * {@code ImageOps.posterize}: keeps the {@code bits} most significant bits (8 or more: as is).
   */
  static int[] posterize(int[] img, int bits) {
    if (bits >= 8) {
      return img;
    }
    int mask = ~((1 << (8 - bits)) - 1);
    int[] lut = new int[256];
    for (int i = 0; i < 256; i++) {
      lut[i] = i & mask & 0xff;
    }
    return lut(img, lut);
  }

  /** {@code ImageOps.solarize}: values at or above {@code threshold} are inverted. */
  static int[] solarizeLut(int threshold) {
    int[] lut = new int[256];
    for (int i = 0; i < 256; i++) {
      lut[i] = i < threshold ? i : 255 - i;
    }
    return lut;
  }

  /**
   * timm's {@code solarize_add}: {@code add} is added (clipped at 255) to values below threshold.
   */
  static int[] solarizeAddLut(int add, int threshold) {
    int[] lut = new int[256];
    for (int i = 0; i < 256; i++) {
      lut[i] = i < threshold ? Math.min(255, i + add) : i;
    }
    return lut;
  }

  // ---- ImageEnhance ----

  /** Pillow's 8-bit {@code L} conversion of one pixel. */
  static int luminance(int r, int g, int b) {
    return (r * 19595 + g * 38470 + b * 7471 + 0x8000) >> 16;
  }

  /**
   * {@code Image.blend(degenerate, img, factor)}: {@code degenerate + factor (img - degenerate)} in
   * single precision, truncated; clipped to [0, 255] when {@code factor} is outside [0, 1].
   */
  static int[] blend(int[] degenerate, int[] img, float factor) {
    int[] out = new int[img.length];
    boolean interpolate = factor >= 0 && factor <= 1.0;
    for (int i = 0; i < img.length; i++) {
      float v = degenerate[i] + factor * (img[i] - degenerate[i]);
      if (interpolate) {
        out[i] = (int) v;
      } else {
        out[i] = v <= 0f ? 0 : v >= 255f ? 255 : (int) v;
      }
    }
    return out;
  }

  /** {@code ImageEnhance.Color}: blend with the grey ({@code L}) version of the image. */
  static int[] color(int[] img, int width, int height, float factor) {
    int plane = width * height;
    int[] grey = new int[img.length];
    for (int i = 0; i < plane; i++) {
      int l = luminance(img[i], img[plane + i], img[2 * plane + i]);
      grey[i] = l;
      grey[plane + i] = l;
      grey[2 * plane + i] = l;
    }
    return blend(grey, img, factor);
  }

  /** {@code ImageEnhance.Contrast}: blend with the image's mean grey level, rounded. */
  static int[] contrast(int[] img, int width, int height, float factor) {
    int plane = width * height;
    long sum = 0;
    for (int i = 0; i < plane; i++) {
      sum += luminance(img[i], img[plane + i], img[2 * plane + i]);
    }
    int mean = (int) ((double) sum / plane + 0.5);
    int[] flat = new int[img.length];
    java.util.Arrays.fill(flat, mean);
    return blend(flat, img, factor);
  }

  /**
   * {@code ImageEnhance.Sharpness}: blend with the image through Pillow's SMOOTH filter (border
   * pixels unfiltered).
   */
  static int[] sharpness(int[] img, int width, int height, float factor) {
    int plane = width * height;
    int[] smooth = img.clone();
    for (int c = 0; c < 3; c++) {
      int base = c * plane;
      for (int y = 1; y < height - 1; y++) {
        for (int x = 1; x < width - 1; x++) {
          int sum = 0;
          for (int dy = -1; dy <= 1; dy++) {
            int row = base + (y + dy) * width;
            sum += img[row + x - 1] + img[row + x] + img[row + x + 1];
          }
          sum += 4 * img[base + y * width + x];
          float v = sum / 13f;
          smooth[base + y * width + x] = Math.min(255, (int) (v + 0.5f));
        }
      }
    }
    return blend(smooth, img, factor);
  }

  // ---- geometry ----

  /** {@code Image.rotate(degrees, BICUBIC, fillcolor=fill)} about the image centre, same size. */
  static int[] rotate(int[] img, int width, int height, double degrees, int[] fill) {
    double angle = -Math.toRadians(degrees);
    double cos = Math.cos(angle);
    double sin = Math.sin(angle);
    double cx = width / 2.0;
    double cy = height / 2.0;
    double[] m = {cos, sin, 0, -sin, cos, 0};
    m[2] = m[0] * -cx + m[1] * -cy + cx;
    m[5] = m[3] * -cx + m[4] * -cy + cy;
    return affine(img, width, height, m, fill);
  }

  /**
   * {@code Image.transform(size, AFFINE, m, BICUBIC, fillcolor=fill)}: output pixel (x, y) samples
   * the input at {@code (m0 (x+.5) + m1 (y+.5) + m2, m3 (x+.5) + m4 (y+.5) + m5)}; points outside
   * the input get {@code fill}.
   */
  static int[] affine(int[] img, int width, int height, double[] m, int[] fill) {
    int plane = width * height;
    int[] out = new int[img.length];
    double[] wx = new double[4];
    double[] wy = new double[4];
    int[] xs = new int[4];
    int[] ys = new int[4];
    for (int y = 0; y < height; y++) {
      for (int x = 0; x < width; x++) {
        double xin = m[0] * (x + 0.5) + m[1] * (y + 0.5) + m[2];
        double yin = m[3] * (x + 0.5) + m[4] * (y + 0.5) + m[5];
        int o = y * width + x;
        if (xin < 0 || xin >= width || yin < 0 || yin >= height) {
          for (int c = 0; c < 3; c++) {
            out[c * plane + o] = fill[c];
          }
          continue;
        }
        xin -= 0.5;
        yin -= 0.5;
        int x0 = (int) Math.floor(xin);
        int y0 = (int) Math.floor(yin);
        cubicWeights(xin - x0, wx);
        cubicWeights(yin - y0, wy);
        for (int k = 0; k < 4; k++) {
          xs[k] = Math.max(0, Math.min(width - 1, x0 - 1 + k));
          ys[k] = Math.max(0, Math.min(height - 1, y0 - 1 + k));
        }
        for (int c = 0; c < 3; c++) {
          int base = c * plane;
          double v = 0;
          for (int j = 0; j < 4; j++) {
            int row = base + ys[j] * width;
            double r = 0;
            for (int k = 0; k < 4; k++) {
              r += wx[k] * img[row + xs[k]];
            }
            v += wy[j] * r;
          }
          out[c * plane + o] = v <= 0 ? 0 : v >= 255 ? 255 : (int) v;
        }
      }
    }
    return out;
  }

  /**
   * Weights of the four taps at offsets -1, 0, 1, 2 for fractional position {@code d}: Pillow's
   * affine bicubic, {@code v2 + d(-v1 + v3) + d^2(2v1 - 2v2 + v3 - v4) + d^3(-v1 + v2 - v3 + v4)}.
   */
  private static void cubicWeights(double d, double[] w) {
    double d2 = d * d;
    double d3 = d2 * d;
    w[0] = -d + 2 * d2 - d3;
    w[1] = 1 - 2 * d2 + d3;
    w[2] = d + d2 - d3;
    w[3] = -d2 + d3;
  }
}
