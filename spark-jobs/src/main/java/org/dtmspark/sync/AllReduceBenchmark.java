package org.dtmspark.sync;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.dtmspark.core.train.Seeds;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Times {@link RingAllReduce#sumInPlace} with every rank a thread of this JVM talking to the others
 * over loopback TCP, for several parameter counts, world sizes and wire formats in one run, and
 * measures this machine's memory-copy bandwidth in the same run as the yardstick.
 *
 * <p>Bandwidths follow NCCL's definitions: algorithm bandwidth is the buffer's fp32 bytes ({@code 4
 * * params}, for both wires, so that fp16's saving shows as a higher rate) over the time of the
 * all-reduce, from the first rank starting to the last rank finishing; bus bandwidth is {@code
 * algbw * 2 (R - 1) / R}, the rate at which each rank moves data in a ring, comparable across world
 * sizes. Bandwidths use the median time; the fastest time is reported beside it. All ranks share
 * this machine's cores and memory, so the figures bound what the code can do, not what a network
 * would; with more ranks than cores, a descheduled rank stalls the whole ring.
 */
public final class AllReduceBenchmark {
  private static final Logger LOG = LoggerFactory.getLogger(AllReduceBenchmark.class);

  /**
   * What to measure.
   *
   * @param params parameter counts (floats per buffer)
   * @param ranks world sizes
   * @param wires wire formats
   * @param bucketBytes bucket size of every ring
   * @param warmup untimed all-reduces per configuration
   * @param repeats timed all-reduces per configuration
   * @param memcpyBytes size of the buffer copied to measure memory bandwidth
   */
  public record Plan(
      List<Integer> params,
      List<Integer> ranks,
      List<Wire> wires,
      int bucketBytes,
      int warmup,
      int repeats,
      long memcpyBytes) {
    public Plan {
      params = List.copyOf(params);
      ranks = List.copyOf(ranks);
      wires = List.copyOf(wires);
      for (int p : params) {
        if (p < 1) {
          throw new IllegalArgumentException("Parameter count must be at least 1, cannot be: " + p);
        }
      }
      for (int r : ranks) {
        if (r < 2 || r > 64) {
          throw new IllegalArgumentException("Ranks must be between 2 and 64, cannot be: " + r);
        }
      }
      if (params.isEmpty() || ranks.isEmpty() || wires.isEmpty()) {
        throw new IllegalArgumentException(
            "Give at least one parameter count, rank count and wire");
      }
      if (warmup < 0) {
        throw new IllegalArgumentException("Warm-up must be at least 0, cannot be: " + warmup);
      }
      if (repeats < 1) {
        throw new IllegalArgumentException("Repeats must be at least 1, cannot be: " + repeats);
      }
      if (memcpyBytes < 4 || memcpyBytes / 4 > Integer.MAX_VALUE - 8) {
        throw new IllegalArgumentException(
            "Memory-copy size must be between 4 bytes and 8 GiB, cannot be: " + memcpyBytes);
      }
      new SyncOptions(
          SyncOptions.DEFAULT_CONNECT_TIMEOUT,
          SyncOptions.DEFAULT_OPERATION_TIMEOUT,
          bucketBytes,
          Wire.FP32); // validates the bucket size
    }
  }

  /**
   * One configuration's timings.
   *
   * @param seconds every timed all-reduce, first rank's start to last rank's end
   * @param maxRelativeError largest |result - exact| / |exact| over a sample of the last result
   */
  public record Row(
      int params,
      int ranks,
      Wire wire,
      int bucketBytes,
      List<Double> seconds,
      double maxRelativeError) {
    public double medianSeconds() {
      return median(seconds);
    }

    /** The fastest timed all-reduce: the least disturbed by other work on the machine. */
    public double minSeconds() {
      return seconds.stream().mapToDouble(Double::doubleValue).min().orElseThrow();
    }

    /** Bytes per second: {@code 4 * params / median time}. */
    public double algorithmBandwidth() {
      return 4.0 * params / medianSeconds();
    }

    /** Bytes per second: {@code algbw * 2 (R - 1) / R}. */
    public double busBandwidth() {
      return algorithmBandwidth() * 2 * (ranks - 1) / ranks;
    }
  }

  /**
   * Everything measured.
   *
   * @param memcpySeconds every timed copy of {@code plan.memcpyBytes()}, before and after the rings
   */
  public record Result(Plan plan, List<Double> memcpySeconds, List<Row> rows) {
    /** Median bytes copied per second. */
    public double memcpyBandwidth() {
      return plan.memcpyBytes() / median(memcpySeconds);
    }
  }

  private AllReduceBenchmark() {}

  /** Runs the plan. */
  public static Result run(Plan plan) throws InterruptedException {
    List<Double> memcpy = new ArrayList<>(memcpySeconds(plan.memcpyBytes(), 5));
    List<Row> rows = new ArrayList<>();
    int maxRanks = plan.ranks().stream().mapToInt(Integer::intValue).max().orElseThrow();
    ExecutorService pool = Executors.newFixedThreadPool(maxRanks);
    try {
      for (int params : plan.params()) {
        float[] source = new float[params];
        SplittableRandom rng = Seeds.rng(0, "bench-allreduce", params);
        for (int i = 0; i < params; i++) {
          source[i] = (float) (rng.nextDouble() * 2 - 1);
        }
        float[][] data = new float[maxRanks][params];
        for (int ranks : plan.ranks()) {
          rows.addAll(measure(plan, params, ranks, source, data, pool));
        }
      }
    } finally {
      pool.shutdownNow();
    }
    memcpy.addAll(memcpySeconds(plan.memcpyBytes(), 5));
    return new Result(plan, memcpy, rows);
  }

  /** Every wire for one parameter count and world size, interleaved repetition by repetition. */
  private static List<Row> measure(
      Plan plan, int params, int ranks, float[] source, float[][] data, ExecutorService pool)
      throws InterruptedException {
    List<List<RingAllReduce>> rings = new ArrayList<>();
    try {
      for (Wire wire : plan.wires()) {
        rings.add(connect(ranks, wire, plan.bucketBytes(), pool));
      }
      List<List<Double>> seconds = new ArrayList<>();
      plan.wires().forEach(w -> seconds.add(new ArrayList<>()));
      double[] errors = new double[plan.wires().size()];
      for (int rep = 0; rep < plan.warmup() + plan.repeats(); rep++) {
        for (int w = 0; w < plan.wires().size(); w++) {
          double s = timeOne(rings.get(w), source, data, pool);
          if (rep >= plan.warmup()) {
            seconds.get(w).add(s);
          }
          errors[w] = maxRelativeError(data[0], source, ranks);
        }
      }
      List<Row> rows = new ArrayList<>();
      for (int w = 0; w < plan.wires().size(); w++) {
        Row row =
            new Row(
                params, ranks, plan.wires().get(w), plan.bucketBytes(), seconds.get(w), errors[w]);
        LOG.info(
            "all-reduce of {} floats on {} ranks, {} wire: median {} s, busbw {} GB/s",
            params,
            ranks,
            row.wire().label(),
            String.format("%.4f", row.medianSeconds()),
            String.format("%.2f", row.busBandwidth() / 1e9));
        rows.add(row);
      }
      return rows;
    } finally {
      for (List<RingAllReduce> ring : rings) {
        ring.forEach(RingAllReduce::close);
      }
    }
  }

  private static List<RingAllReduce> connect(
      int ranks, Wire wire, int bucketBytes, ExecutorService pool) throws InterruptedException {
    List<RingAllReduce.Endpoint> endpoints = new ArrayList<>();
    try {
      for (int r = 0; r < ranks; r++) {
        endpoints.add(RingAllReduce.listen("127.0.0.1"));
      }
      List<String> addresses = endpoints.stream().map(RingAllReduce.Endpoint::address).toList();
      byte[] secret = RingAllReduce.newSecret();
      SyncOptions options = SyncOptions.defaults().withWire(wire).withBucketBytes(bucketBytes);
      List<Callable<RingAllReduce>> tasks = new ArrayList<>();
      for (int r = 0; r < ranks; r++) {
        tasks.add(new Connect(endpoints.get(r), r, addresses, secret, options));
      }
      return all(pool.invokeAll(tasks));
    } finally {
      endpoints.forEach(RingAllReduce.Endpoint::close);
    }
  }

  /** Seconds from the first rank's start to the last rank's end of one all-reduce. */
  private static double timeOne(
      List<RingAllReduce> ring, float[] source, float[][] data, ExecutorService pool)
      throws InterruptedException {
    CyclicBarrier start = new CyclicBarrier(ring.size());
    List<Callable<long[]>> tasks = new ArrayList<>();
    for (int r = 0; r < ring.size(); r++) {
      tasks.add(new Reduce(ring.get(r), source, data[r], start));
    }
    List<long[]> times = all(pool.invokeAll(tasks));
    long first = times.stream().mapToLong(t -> t[0]).min().orElseThrow();
    long last = times.stream().mapToLong(t -> t[1]).max().orElseThrow();
    return (last - first) / 1e9;
  }

  /** One rank's part of a timed all-reduce: refill its buffer, wait for the others, reduce. */
  private record Reduce(RingAllReduce ring, float[] source, float[] data, CyclicBarrier start)
      implements Callable<long[]> {
    @Override
    public long[] call() throws Exception {
      System.arraycopy(source, 0, data, 0, source.length);
      start.await();
      long t0 = System.nanoTime();
      ring.sumInPlace(data);
      return new long[] {t0, System.nanoTime()};
    }
  }

  /** One rank's connect. */
  private record Connect(
      RingAllReduce.Endpoint endpoint,
      int rank,
      List<String> addresses,
      byte[] secret,
      SyncOptions options)
      implements Callable<RingAllReduce> {
    @Override
    public RingAllReduce call() {
      return endpoint.connect(rank, addresses, secret, "bench-allreduce", options);
    }
  }

  private static <T> List<T> all(List<Future<T>> futures) throws InterruptedException {
    List<T> values = new ArrayList<>();
    for (Future<T> f : futures) {
      try {
        values.add(f.get());
      } catch (ExecutionException e) {
        Throwable cause = e.getCause();
        if (cause instanceof RuntimeException r) {
          throw r;
        }
        throw new IllegalStateException(cause);
      }
    }
    return values;
  }

  /** Every rank held {@code source}: the sum is {@code ranks * source}. Sampled, 4096 points. */
  private static double maxRelativeError(float[] result, float[] source, int ranks) {
    double worst = 0;
    int stride = Math.max(1, source.length / 4096);
    for (int i = 0; i < source.length; i += stride) {
      double exact = (double) ranks * source[i];
      if (exact != 0) {
        worst = Math.max(worst, Math.abs(result[i] - exact) / Math.abs(exact));
      }
    }
    return worst;
  }

  /** {@code count} timed copies of a {@code bytes}-byte float array, after one untimed. */
  static List<Double> memcpySeconds(long bytes, int count) {
    float[] from = new float[(int) (bytes / 4)];
    Arrays.fill(from, 1f);
    float[] to = new float[from.length];
    List<Double> seconds = new ArrayList<>();
    for (int i = 0; i <= count; i++) {
      long t0 = System.nanoTime();
      System.arraycopy(from, 0, to, 0, from.length);
      long t1 = System.nanoTime();
      if (i > 0) {
        seconds.add((t1 - t0) / 1e9);
      }
    }
    return seconds;
  }

  static double median(List<Double> values) {
    double[] v = values.stream().mapToDouble(Double::doubleValue).sorted().toArray();
    int n = v.length;
    return n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
  }

  /** The JSON form written by {@code bin/dtm bench-allreduce --output}. */
  public static Map<String, Object> toMap(Result result) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("cores", Runtime.getRuntime().availableProcessors());
    m.put("bucket_bytes", result.plan().bucketBytes());
    m.put("warmup", result.plan().warmup());
    m.put("repeats", result.plan().repeats());
    m.put("memcpy_bytes", result.plan().memcpyBytes());
    m.put("memcpy_s", result.memcpySeconds());
    m.put("memcpy_GBps_median", result.memcpyBandwidth() / 1e9);
    List<Map<String, Object>> rows = new ArrayList<>();
    for (Row row : result.rows()) {
      Map<String, Object> r = new LinkedHashMap<>();
      r.put("params", row.params());
      r.put("ranks", row.ranks());
      r.put("wire", row.wire().label());
      r.put("bytes", 4L * row.params());
      r.put("seconds", row.seconds());
      r.put("median_s", row.medianSeconds());
      r.put("min_s", row.minSeconds());
      r.put("algbw_GBps", row.algorithmBandwidth() / 1e9);
      r.put("busbw_GBps", row.busBandwidth() / 1e9);
      r.put("busbw_over_memcpy", row.busBandwidth() / result.memcpyBandwidth());
      r.put("max_relative_error", row.maxRelativeError());
      rows.add(r);
    }
    m.put("rows", rows);
    return m;
  }

  /** The Markdown table printed by {@code bin/dtm bench-allreduce}. */
  public static List<String> markdown(Result result) {
    List<String> lines = new ArrayList<>();
    lines.add(
        String.format(
            "memcpy (System.arraycopy of %s, median of %d): %.2f GB/s",
            RingAllReduce.bytes(result.plan().memcpyBytes()),
            result.memcpySeconds().size(),
            result.memcpyBandwidth() / 1e9));
    lines.add("");
    lines.add(
        "| params | ranks | wire | median time | fastest | algbw GB/s | busbw GB/s | busbw / memcpy"
            + " | max rel. error |");
    lines.add("| ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: |");
    for (Row row : result.rows()) {
      lines.add(
          String.format(
              "| %s | %d | %s | %.3f s | %.3f s | %.2f | %.2f | %.3f | %.1e |",
              count(row.params()),
              row.ranks(),
              row.wire().label(),
              row.medianSeconds(),
              row.minSeconds(),
              row.algorithmBandwidth() / 1e9,
              row.busBandwidth() / 1e9,
              row.busBandwidth() / result.memcpyBandwidth(),
              row.maxRelativeError()));
    }
    return lines;
  }

  private static String count(int params) {
    if (params % 1_000_000 == 0) {
      return params / 1_000_000 + "M";
    }
    if (params % 1_000 == 0) {
      return params / 1_000 + "K";
    }
    return Integer.toString(params);
  }
}
