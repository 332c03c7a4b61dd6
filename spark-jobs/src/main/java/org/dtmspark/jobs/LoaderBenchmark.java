package org.dtmspark.jobs;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import org.dtmspark.core.data.AugmentConfig;
import org.dtmspark.core.data.ImageSource;
import org.dtmspark.core.data.LoaderPool;
import org.dtmspark.core.data.RgbImage;
import org.dtmspark.core.data.SyntheticPhotos;
import org.dtmspark.core.data.ViewParams;
import org.dtmspark.core.data.ViewRenderer;
import org.dtmspark.core.data.ViewSampler;
import org.dtmspark.core.io.AtomicFiles;
import org.dtmspark.data.image.ShardRasterDecoder;

/**
 * The loader figures of BENCHMARKS.md: images/s of decode + random resized crop + flip + colour
 * jitter to a square view, for today's single-thread path and for the {@link LoaderPool}, on
 * photo-like JPEGs the benchmark writes ({@link SyntheticPhotos}).
 *
 * <p>Variants, each over all images in every round:
 *
 * <ul>
 *   <li>{@code single-thread (getRGB, double)}: what training did before the pool, on the calling
 *       thread: {@link RgbImage#decode} (ImageIO, {@code getRGB} to floats), then {@link
 *       ViewRenderer} (double sums, float output);
 *   <li>{@code pool N thread(s)}: {@link LoaderPool} with {@link ShardRasterDecoder} (the reader's
 *       byte buffer, only the crop box decoded) and the float renderer to 8 bits;
 *   <li>{@code pool 1 thread, whole decode}: the same with region decoding off, to show its share.
 * </ul>
 *
 * <p>Rounds are interleaved (every round runs every variant, in an order rotated from round to
 * round) so that load from other processes hits all variants alike; the first {@code warmup} rounds
 * are left out of the medians. Views are sampled per round and image from the seed and are the same
 * for every variant. The largest difference between the pool's bytes and 255 times the old
 * renderer's floats over one round is reported.
 */
public final class LoaderBenchmark {
  /** Name of the variant of today's single-thread path. */
  public static final String BASELINE = "single-thread (getRGB, double)";

  private LoaderBenchmark() {}

  /**
   * Settings.
   *
   * @param images number of distinct JPEGs, at least 1
   * @param width width of each JPEG
   * @param height height of each JPEG
   * @param quality JPEG quality in (0, 1]
   * @param size side of the square views
   * @param threads the pool sizes to measure, each at least 1
   * @param rounds rounds, including {@code warmup}
   * @param warmup rounds left out of the medians, less than {@code rounds}
   * @param seed seeds the images and the views
   * @param work where the JPEGs are written
   */
  public record Options(
      int images,
      int width,
      int height,
      float quality,
      int size,
      List<Integer> threads,
      int rounds,
      int warmup,
      long seed,
      Path work) {
    public Options {
      if (images < 1) {
        throw new IllegalArgumentException("--images must be at least 1, cannot be: " + images);
      }
      if (width < 1 || height < 1) {
        throw new IllegalArgumentException(
            "Image size must be at least 1 x 1, cannot be: " + width + " x " + height);
      }
      if (!(quality > 0 && quality <= 1)) {
        throw new IllegalArgumentException("--quality must be in (0, 1], cannot be: " + quality);
      }
      if (size < 1) {
        throw new IllegalArgumentException("--size must be at least 1, cannot be: " + size);
      }
      if (threads.isEmpty()) {
        throw new IllegalArgumentException("--threads must list at least one pool size");
      }
      threads.forEach(LoaderPool::requireThreads);
      threads = List.copyOf(threads);
      if (warmup < 0 || rounds <= warmup) {
        throw new IllegalArgumentException(
            "--rounds must be larger than --warmup (" + warmup + "), cannot be: " + rounds);
      }
    }
  }

  /**
   * One variant's figures.
   *
   * @param variant what ran
   * @param threads threads that loaded
   * @param imagesPerSecond images/s of each timed round, in round order
   * @param medianImagesPerSecond their median
   * @param medianImagesPerCpuSecond median over the timed rounds of images per CPU second of the
   *     threads that loaded (the calling thread, or the pool's threads): what one thread would
   *     deliver with a core of its own, less sensitive to other processes than wall time
   */
  public record Variant(
      String variant,
      int threads,
      double[] imagesPerSecond,
      double medianImagesPerSecond,
      double medianImagesPerCpuSecond) {}

  /**
   * The outcome.
   *
   * @param options the settings
   * @param meanJpegBytes mean size of the JPEGs
   * @param maxAbsDiff255 largest {@code |pool byte - 255 * old float|} over one round's views
   * @param variants the variants, baseline first
   */
  public record Result(
      Options options, double meanJpegBytes, double maxAbsDiff255, List<Variant> variants) {
    /** The variant named {@code name}. */
    public Variant variant(String name) {
      return variants.stream()
          .filter(v -> v.variant().equals(name))
          .findFirst()
          .orElseThrow(() -> new IllegalArgumentException("No variant " + name));
    }
  }

  /** The name of the pool variant with {@code threads} threads. */
  public static String poolVariant(int threads) {
    return "pool " + threads + (threads == 1 ? " thread" : " threads");
  }

  private static final String WHOLE_DECODE = "pool 1 thread, whole decode";

  /** Writes the JPEGs and measures. */
  public static Result run(Options o) throws IOException {
    List<byte[]> jpegs = writeJpegs(o);
    List<ImageSource> sources = new ArrayList<>();
    long totalBytes = 0;
    for (int i = 0; i < jpegs.size(); i++) {
      sources.add(ImageSource.encoded("synthetic-" + i, jpegs.get(i), "jpeg"));
      totalBytes += jpegs.get(i).length;
    }
    ViewSampler sampler = new ViewSampler(AugmentConfig.defaultPretrain(o.size()));
    int each = 3 * o.size() * o.size();
    byte[] batch = new byte[Math.multiplyExact(sources.size(), each)];

    List<String> names = new ArrayList<>();
    List<LoaderPool> pools = new ArrayList<>();
    names.add(BASELINE);
    pools.add(null);
    for (int t : o.threads()) {
      names.add(poolVariant(t));
      pools.add(new LoaderPool(t, ShardRasterDecoder::new));
    }
    names.add(WHOLE_DECODE);
    pools.add(new LoaderPool(1, () -> new ShardRasterDecoder(false)));
    double[][] rates = new double[names.size()][o.rounds() - o.warmup()];
    double[][] cpuRates = new double[names.size()][o.rounds() - o.warmup()];
    ThreadMXBean mx = ManagementFactory.getThreadMXBean();
    double maxDiff = 0;
    try {
      for (int round = 0; round < o.rounds(); round++) {
        List<ViewParams> views = new ArrayList<>();
        for (int i = 0; i < sources.size(); i++) {
          views.add(
              sampler.sample(
                  o.width(),
                  o.height(),
                  new SplittableRandom(o.seed() ^ (round * 1_000_003L + i))));
        }
        for (int k = 0; k < names.size(); k++) {
          int v = (k + round) % names.size();
          long cpu0 = mx.getCurrentThreadCpuTime() + loaderThreadsCpuNanos(mx);
          long t0 = System.nanoTime();
          if (pools.get(v) == null) {
            renderToday(jpegs, views, o.size());
          } else {
            pools.get(v).render(sources, views, o.size(), batch);
          }
          double seconds = (System.nanoTime() - t0) / 1e9;
          double cpuSeconds =
              (mx.getCurrentThreadCpuTime() + loaderThreadsCpuNanos(mx) - cpu0) / 1e9;
          if (round >= o.warmup()) {
            rates[v][round - o.warmup()] = sources.size() / seconds;
            cpuRates[v][round - o.warmup()] = sources.size() / cpuSeconds;
          }
        }
        if (round == 0) {
          pools.get(1).render(sources, views, o.size(), batch);
          maxDiff = maxDifference(jpegs, views, o.size(), batch);
        }
      }
    } finally {
      for (LoaderPool pool : pools) {
        if (pool != null) {
          pool.close();
        }
      }
    }
    List<Variant> variants = new ArrayList<>();
    for (int v = 0; v < names.size(); v++) {
      int threads = v == 0 ? 1 : (v <= o.threads().size() ? o.threads().get(v - 1) : 1);
      variants.add(
          new Variant(names.get(v), threads, rates[v], median(rates[v]), median(cpuRates[v])));
    }
    return new Result(o, (double) totalBytes / jpegs.size(), maxDiff, variants);
  }

  /**
   * CPU time of the pools' threads ({@code dtm-loader-*}), all pools together: only the pool that
   * is rendering uses CPU, the others wait for work.
   */
  private static long loaderThreadsCpuNanos(ThreadMXBean mx) {
    long sum = 0;
    for (Thread t : Thread.getAllStackTraces().keySet()) {
      if (t.getName().startsWith("dtm-loader-")) {
        long cpu = mx.getThreadCpuTime(t.getId());
        sum += Math.max(0, cpu);
      }
    }
    return sum;
  }

  /** Today's path: ImageIO decode and getRGB to floats, the double renderer. */
  private static void renderToday(List<byte[]> jpegs, List<ViewParams> views, int size) {
    for (int i = 0; i < jpegs.size(); i++) {
      RgbImage image = RgbImage.decode(jpegs.get(i), "synthetic-" + i);
      ViewRenderer.render(image, views.get(i), size);
    }
  }

  private static double maxDifference(
      List<byte[]> jpegs, List<ViewParams> views, int size, byte[] batch) {
    int each = 3 * size * size;
    double max = 0;
    for (int i = 0; i < jpegs.size(); i++) {
      float[] old = ViewRenderer.render(RgbImage.decode(jpegs.get(i), "check"), views.get(i), size);
      for (int j = 0; j < each; j++) {
        max = Math.max(max, Math.abs((batch[i * each + j] & 0xFF) - 255.0 * old[j]));
      }
    }
    return max;
  }

  private static List<byte[]> writeJpegs(Options o) throws IOException {
    Path dir = o.work().resolve("jpeg");
    Files.createDirectories(dir);
    List<byte[]> jpegs = new ArrayList<>();
    for (int i = 0; i < o.images(); i++) {
      byte[] jpeg = SyntheticPhotos.jpeg(o.width(), o.height(), o.seed() + i, o.quality());
      String name = String.format(Locale.ROOT, "synthetic_%05d.JPEG", i);
      AtomicFiles.writeAtomically(dir.resolve(name), out -> out.write(jpeg));
      jpegs.add(jpeg);
    }
    return jpegs;
  }

  static double median(double[] values) {
    double[] s = values.clone();
    Arrays.sort(s);
    int n = s.length;
    return n % 2 == 1 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
  }

  /** The result as JSON-ready maps. */
  public static Map<String, Object> json(Result r) {
    Options o = r.options();
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("images", o.images());
    out.put("width", o.width());
    out.put("height", o.height());
    out.put("jpeg_quality", o.quality());
    out.put("mean_jpeg_bytes", r.meanJpegBytes());
    out.put("view_size", o.size());
    out.put("rounds", o.rounds());
    out.put("warmup_rounds", o.warmup());
    out.put("seed", o.seed());
    out.put("available_processors", Runtime.getRuntime().availableProcessors());
    out.put("java", System.getProperty("java.vm.name") + " " + System.getProperty("java.version"));
    out.put("max_abs_diff_255", r.maxAbsDiff255());
    List<Map<String, Object>> variants = new ArrayList<>();
    double base = r.variants().get(0).medianImagesPerSecond();
    for (Variant v : r.variants()) {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("variant", v.variant());
      m.put("threads", v.threads());
      m.put("median_images_per_s", v.medianImagesPerSecond());
      m.put("median_images_per_s_per_thread", v.medianImagesPerSecond() / v.threads());
      m.put("vs_single_thread", v.medianImagesPerSecond() / base);
      m.put("median_images_per_cpu_s", v.medianImagesPerCpuSecond());
      m.put("images_per_s", v.imagesPerSecond());
      variants.add(m);
    }
    out.put("variants", variants);
    return out;
  }

  /** A Markdown table and a summary line. */
  public static String table(Result r) {
    StringBuilder s = new StringBuilder();
    s.append(
        "| variant | threads | images/s (median) | per thread | vs single-thread |"
            + " images per CPU-second |\n");
    s.append("| --- | ---: | ---: | ---: | ---: | ---: |\n");
    double base = r.variants().get(0).medianImagesPerSecond();
    for (Variant v : r.variants()) {
      s.append(
          String.format(
              Locale.ROOT,
              "| %s | %d | %.0f | %.0f | %.2fx | %.0f |%n",
              v.variant(),
              v.threads(),
              v.medianImagesPerSecond(),
              v.medianImagesPerSecond() / v.threads(),
              v.medianImagesPerSecond() / base,
              v.medianImagesPerCpuSecond()));
    }
    s.append(
        String.format(
            Locale.ROOT,
            "bench-loader: %d JPEGs %dx%d q%.2f (mean %.0f KB) to %d: %s; max |pool - 255 x old| ="
                + " %.3f%n",
            r.options().images(),
            r.options().width(),
            r.options().height(),
            r.options().quality(),
            r.meanJpegBytes() / 1000,
            r.options().size(),
            summary(r),
            r.maxAbsDiff255()));
    return s.toString();
  }

  private static String summary(Result r) {
    StringBuilder s = new StringBuilder();
    double base = r.variants().get(0).medianImagesPerSecond();
    s.append(String.format(Locale.ROOT, "single-thread %.0f images/s", base));
    double one = Double.NaN;
    for (Variant v : r.variants().subList(1, r.variants().size())) {
      if (v.variant().equals(poolVariant(1))) {
        one = v.medianImagesPerSecond();
      }
    }
    for (int t : r.options().threads()) {
      double rate = r.variant(poolVariant(t)).medianImagesPerSecond();
      s.append(String.format(Locale.ROOT, ", %s %.0f", poolVariant(t), rate));
      if (t > 1 && !Double.isNaN(one)) {
        s.append(String.format(Locale.ROOT, " (%.2fx 1 thread)", rate / one));
      }
    }
    return s.toString();
  }
}
