package org.dtmspark.core.data;

import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * Host cost per image of the fine-tuning augmentation, before and after RandAugment and random
 * erasing, measured side by side (interleaved rounds) on one thread: a 500 x 375 source rendered to
 * 224 x 224 by random resized crop and flip, then
 *
 * <ul>
 *   <li>{@code old}: colour jitter 0.4 (what fine-tuning did before),
 *   <li>{@code new}: RandAugment {@code rand-m9-mstd0.5-inc1} and random erasing 0.25 (no jitter).
 * </ul>
 *
 * <pre>
 * mvn -B -q -o -pl dtm-core -am test-compile
 * java -cp dtm-core/target/test-classes:dtm-core/target/classes \
 *     org.dtmspark.core.data.FinetuneAugmentBenchmark [rounds] [imagesPerRound]
 * </pre>
 *
 * Prints the median milliseconds per image of each variant and their ratio.
 */
final class FinetuneAugmentBenchmark {
  private FinetuneAugmentBenchmark() {}

  public static void main(String[] args) {
    int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 9;
    int perRound = args.length > 1 ? Integer.parseInt(args[1]) : 64;
    int size = 224;
    SplittableRandom src = new SplittableRandom(1);
    float[] px = new float[3 * 500 * 375];
    for (int i = 0; i < px.length; i++) {
      px[i] = (float) src.nextDouble();
    }
    RgbImage image = new RgbImage(500, 375, px);
    ViewSampler withJitter =
        new ViewSampler(new AugmentConfig(size, 0.08, 1, 0.75, 4.0 / 3, 0.5, 0.4, 0.4, 0.4));
    ViewSampler noJitter =
        new ViewSampler(new AugmentConfig(size, 0.08, 1, 0.75, 4.0 / 3, 0.5, 0, 0, 0));
    RandAugment randAugment =
        new RandAugment(
            RandAugmentSpec.parse("rand-m9-mstd0.5-inc1"),
            RandAugment.fillFor(ImageNormalization.IMAGENET));
    RandomErasing erasing = new RandomErasing(0.25, RandomErasing.Mode.PIXEL, 1);
    ByteViewRenderer renderer = new ByteViewRenderer();
    byte[] out = new byte[ByteViewRenderer.sampleBytes(size)];
    double[] oldMs = new double[rounds];
    double[] newMs = new double[rounds];
    double[] raMs = new double[rounds];
    long sink = 0;
    for (int r = -2; r < rounds; r++) { // two warm-up rounds
      long t0 = System.nanoTime();
      for (int i = 0; i < perRound; i++) {
        SplittableRandom rng = new SplittableRandom(r * 1000L + i);
        renderer.render(image, withJitter.sample(500, 375, rng), size, out, 0);
        sink += out[i];
      }
      long t1 = System.nanoTime();
      long raNanos = 0;
      for (int i = 0; i < perRound; i++) {
        SplittableRandom rng = new SplittableRandom(r * 1000L + i);
        renderer.render(image, noJitter.sample(500, 375, rng), size, out, 0);
        long a = System.nanoTime();
        randAugment.apply(out, 0, size, size, rng.split());
        raNanos += System.nanoTime() - a;
        sink += erasing.draw(size, size, rng.split()).values().length + out[i];
      }
      long t2 = System.nanoTime();
      if (r >= 0) {
        oldMs[r] = (t1 - t0) / 1e6 / perRound;
        newMs[r] = (t2 - t1) / 1e6 / perRound;
        raMs[r] = raNanos / 1e6 / perRound;
      }
    }
    double o = median(oldMs);
    double n = median(newMs);
    System.out.printf(
        "per image at %d px, median of %d rounds x %d images: old (crop, flip, jitter) %.3f ms,"
            + " new (crop, flip, RandAugment, erasing) %.3f ms (RandAugment alone %.3f ms),"
            + " new/old %.2f  [%d]%n",
        size, rounds, perRound, o, n, median(raMs), n / o, sink & 1);
  }

  private static double median(double[] v) {
    double[] s = v.clone();
    Arrays.sort(s);
    return s[s.length / 2];
  }
}
