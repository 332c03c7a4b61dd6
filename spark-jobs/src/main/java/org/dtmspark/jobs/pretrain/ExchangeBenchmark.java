package org.dtmspark.jobs.pretrain;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.dtmspark.core.nn.VisionTransformer;
import org.dtmspark.core.nn.VitConfig;
import org.dtmspark.jobs.pretrain.AllReduceGradientReducer.Path;
import org.dtmspark.sync.LoopbackThroughput;
import org.dtmspark.sync.RingAllReduce;
import org.dtmspark.sync.SyncOptions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Times the gradient exchange of one optimizer step, {@link AllReduceGradientReducer#reduce}, on
 * the flat gradient of a real ViT's parameters, with every rank a thread of this JVM on a loopback
 * ring, for each {@link Path} side by side (interleaved step by step), and measures in the same run
 * the bound: a plain socket ring moving the same bytes per rank ({@link LoopbackThroughput}).
 *
 * <p>Per path and step: the wall time of the exchange, first rank's start to last rank's end (the
 * host-side cost of a step: copies, the ring, the loss, the scaling), and the heap bytes every
 * thread of this JVM allocated during the step; the heap is collected (untimed) before every step,
 * so that one path's garbage is not collected while another is timed. Bus bandwidth is the bytes
 * each rank sends, {@code 4 numel 2 (R - 1) / R}, over the median time: the plain ring's is the
 * bound.
 */
public final class ExchangeBenchmark {
  private static final Logger LOG = LoggerFactory.getLogger(ExchangeBenchmark.class);

  /**
   * What to measure.
   *
   * @param model a ViT size ({@link VitConfig#SIZES}) whose parameters give the gradient's layout
   * @param ranks ring size
   * @param bucketBytes the ring's bucket size, also the copy size of the staged path
   * @param paths the exchanges to compare
   */
  public record Plan(
      String model, int ranks, int bucketBytes, List<String> paths, int warmup, int repeats) {
    public Plan {
      VitConfig.preset(model, 224, 16); // validates the size
      paths = List.copyOf(paths);
      for (String p : paths) {
        path(p);
      }
      if (paths.isEmpty()) {
        throw new IllegalArgumentException("Give at least one exchange path");
      }
      if (ranks < 2 || ranks > 8) {
        throw new IllegalArgumentException("Ranks must be between 2 and 8, cannot be: " + ranks);
      }
      if (warmup < 0 || repeats < 1) {
        throw new IllegalArgumentException(
            "Warm-up must be >= 0 and repeats >= 1, cannot be: " + warmup + ", " + repeats);
      }
      SyncOptions.defaults().withBucketBytes(bucketBytes); // validates the bucket size
    }
  }

  /** {@code per-parameter}, {@code direct} or {@code staged}. */
  static Path path(String name) {
    return switch (name) {
      case "per-parameter" -> Path.PER_PARAMETER;
      case "direct" -> Path.DIRECT;
      case "staged" -> Path.STAGED;
      default ->
          throw new IllegalArgumentException(
              "Exchange path must be per-parameter, direct or staged, cannot be: " + name);
    };
  }

  /** One path's timings and allocations, step by step. */
  public record Row(String path, List<Double> seconds, List<Long> allocatedBytes) {
    public double medianSeconds() {
      return median(seconds);
    }

    public double medianAllocatedBytes() {
      return median(allocatedBytes.stream().map(Long::doubleValue).toList());
    }
  }

  /**
   * Everything measured.
   *
   * @param numel floats in the flat gradient
   * @param parameters number of parameter tensors
   * @param socketSeconds the plain socket ring's transfers of the same bytes per rank
   */
  public record Result(
      Plan plan, long numel, int parameters, List<Double> socketSeconds, List<Row> rows) {
    /** Bytes each rank sends in one all-reduce of the flat gradient. */
    public double bytesPerRank() {
      return 4.0 * numel * 2 * (plan.ranks() - 1) / plan.ranks();
    }

    public double socketBusBandwidth() {
      return bytesPerRank() / median(socketSeconds);
    }

    public double busBandwidth(Row row) {
      return bytesPerRank() / row.medianSeconds();
    }
  }

  private ExchangeBenchmark() {}

  /** Runs the plan. */
  public static Result run(Plan plan) throws Exception {
    Map<String, Shape> shapes = new TreeMap<>();
    try (NDManager m = NDManager.newBaseManager(Device.cpu());
        VisionTransformer vit =
            VisionTransformer.initialize(VitConfig.preset(plan.model(), 224, 16), m, 1)) {
      vit.parameters().asMap().forEach((name, array) -> shapes.put(name, array.getShape()));
    }
    long numel = shapes.values().stream().mapToLong(Shape::size).sum();
    int ranks = plan.ranks();
    List<Double> socket = new ArrayList<>();
    long bytesPerRank = 4L * numel * 2 * (ranks - 1) / ranks;
    socket.addAll(LoopbackThroughput.ringTransferSeconds(ranks, bytesPerRank, 1, plan.repeats()));
    ExecutorService pool = Executors.newFixedThreadPool(ranks);
    List<RingAllReduce> rings = new ArrayList<>();
    List<NDManager> managers = new ArrayList<>();
    List<List<AllReduceGradientReducer>> reducers = new ArrayList<>();
    try {
      rings.addAll(connect(ranks, plan.bucketBytes(), pool));
      List<NDArray> flats = new ArrayList<>();
      for (int r = 0; r < ranks; r++) {
        NDManager m = NDManager.newBaseManager(Device.cpu());
        managers.add(m);
        // [numel] ones: the mean of ones is ones, so every step reduces the same values.
        flats.add(m.ones(new Shape(numel)));
        List<AllReduceGradientReducer> mine = new ArrayList<>();
        for (String p : plan.paths()) {
          mine.add(new AllReduceGradientReducer(rings.get(r), plan.bucketBytes() / 4, path(p)));
        }
        reducers.add(mine);
      }
      for (int k = 0; k < plan.paths().size(); k++) {
        int index = k;
        all(
            pool,
            ranks,
            r ->
                () -> {
                  reducers.get(r).get(index).prepare(shapes);
                  return null;
                });
      }
      List<List<Double>> seconds = new ArrayList<>();
      List<List<Long>> allocated = new ArrayList<>();
      plan.paths().forEach(p -> seconds.add(new ArrayList<>()));
      plan.paths().forEach(p -> allocated.add(new ArrayList<>()));
      for (int rep = 0; rep < plan.warmup() + plan.repeats(); rep++) {
        for (int k = 0; k < plan.paths().size(); k++) {
          int index = k;
          CyclicBarrier start = new CyclicBarrier(ranks);
          // Untimed: the garbage of the step before (the per-parameter path makes 687 MB per rank
          // and step for ViT-B) is collected here, not while the next path is timed.
          System.gc();
          long before = allocatedBytes();
          List<long[]> times =
              all(
                  pool,
                  ranks,
                  r ->
                      () -> {
                        start.await();
                        long t0 = System.nanoTime();
                        reducers.get(r).get(index).reduce(flats.get(r), 1);
                        return new long[] {t0, System.nanoTime()};
                      });
          long bytes = allocatedBytes() - before;
          if (rep >= plan.warmup()) {
            long first = times.stream().mapToLong(t -> t[0]).min().orElseThrow();
            long last = times.stream().mapToLong(t -> t[1]).max().orElseThrow();
            seconds.get(k).add((last - first) / 1e9);
            allocated.get(k).add(bytes);
          }
        }
      }
      for (NDArray flat : flats) {
        float[] check = flat.get("0:16").toFloatArray();
        for (float v : check) {
          if (v != 1f) {
            throw new IllegalStateException("The exchange changed the mean of ones into " + v);
          }
        }
      }
      socket.addAll(LoopbackThroughput.ringTransferSeconds(ranks, bytesPerRank, 0, plan.repeats()));
      List<Row> rows = new ArrayList<>();
      for (int k = 0; k < plan.paths().size(); k++) {
        Row row = new Row(plan.paths().get(k), seconds.get(k), allocated.get(k));
        LOG.info(
            "exchange of {} floats on {} ranks, {}: median {} s, {} MB allocated per step",
            numel,
            ranks,
            row.path(),
            String.format("%.4f", row.medianSeconds()),
            String.format("%.1f", row.medianAllocatedBytes() / 1e6));
        rows.add(row);
      }
      return new Result(plan, numel, shapes.size(), socket, rows);
    } finally {
      for (List<AllReduceGradientReducer> mine : reducers) {
        mine.forEach(AllReduceGradientReducer::close);
      }
      rings.forEach(RingAllReduce::close);
      managers.forEach(NDManager::close);
      pool.shutdownNow();
    }
  }

  private static List<RingAllReduce> connect(int ranks, int bucketBytes, ExecutorService pool)
      throws Exception {
    List<RingAllReduce.Endpoint> endpoints = new ArrayList<>();
    try {
      for (int r = 0; r < ranks; r++) {
        endpoints.add(RingAllReduce.listen("127.0.0.1"));
      }
      List<String> addresses = endpoints.stream().map(RingAllReduce.Endpoint::address).toList();
      byte[] secret = RingAllReduce.newSecret();
      SyncOptions options = SyncOptions.defaults().withBucketBytes(bucketBytes);
      return all(
          pool,
          ranks,
          r -> () -> endpoints.get(r).connect(r, addresses, secret, "bench-exchange", options));
    } finally {
      endpoints.forEach(RingAllReduce.Endpoint::close);
    }
  }

  private interface PerRank<T> {
    Callable<T> task(int rank);
  }

  private static <T> List<T> all(ExecutorService pool, int ranks, PerRank<T> work)
      throws Exception {
    List<Future<T>> futures = new ArrayList<>();
    for (int r = 0; r < ranks; r++) {
      futures.add(pool.submit(work.task(r)));
    }
    List<T> values = new ArrayList<>();
    for (Future<T> f : futures) {
      try {
        values.add(f.get());
      } catch (ExecutionException e) {
        if (e.getCause() instanceof Exception cause) {
          throw cause;
        }
        throw e;
      }
    }
    return values;
  }

  /** Heap bytes allocated so far by every live thread of this JVM. */
  static long allocatedBytes() {
    var threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
    long total = 0;
    for (long b : threads.getThreadAllocatedBytes(threads.getAllThreadIds())) {
      total += Math.max(0, b);
    }
    return total;
  }

  static double median(List<Double> values) {
    double[] v = values.stream().mapToDouble(Double::doubleValue).sorted().toArray();
    int n = v.length;
    return n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
  }

  /** The JSON form written by {@code bin/dtm bench-allreduce --exchange --output}. */
  public static Map<String, Object> toMap(Result result) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("cores", Runtime.getRuntime().availableProcessors());
    m.put("model", result.plan().model());
    m.put("numel", result.numel());
    m.put("parameters", result.parameters());
    m.put("ranks", result.plan().ranks());
    m.put("bucket_bytes", result.plan().bucketBytes());
    m.put("warmup", result.plan().warmup());
    m.put("repeats", result.plan().repeats());
    m.put("bytes_per_rank", result.bytesPerRank());
    m.put("socket_s", result.socketSeconds());
    m.put("socket_busbw_GBps", result.socketBusBandwidth() / 1e9);
    List<Map<String, Object>> rows = new ArrayList<>();
    for (Row row : result.rows()) {
      Map<String, Object> r = new LinkedHashMap<>();
      r.put("path", row.path());
      r.put("seconds", row.seconds());
      r.put("median_s", row.medianSeconds());
      r.put("allocated_bytes", row.allocatedBytes());
      r.put("median_allocated_bytes", row.medianAllocatedBytes());
      r.put("busbw_GBps", result.busBandwidth(row) / 1e9);
      r.put("busbw_over_socket", result.busBandwidth(row) / result.socketBusBandwidth());
      rows.add(r);
    }
    m.put("rows", rows);
    return m;
  }

  /** The Markdown table printed by {@code bin/dtm bench-allreduce --exchange}. */
  public static List<String> markdown(Result result) {
    List<String> lines = new ArrayList<>();
    lines.add(
        String.format(
            "ViT-%s gradient: %,d floats in %d tensors, %d ranks, %.0f MB sent per rank and step",
            result.plan().model(),
            result.numel(),
            result.parameters(),
            result.plan().ranks(),
            result.bytesPerRank() / 1e6));
    lines.add(
        String.format(
            "plain socket ring (the bound, median of %d): %.3f s, busbw %.2f GB/s",
            result.socketSeconds().size(),
            median(result.socketSeconds()),
            result.socketBusBandwidth() / 1e9));
    lines.add("");
    lines.add(
        "| exchange | median step | fastest | heap allocated per step | busbw GB/s | busbw /"
            + " socket |");
    lines.add("| --- | ---: | ---: | ---: | ---: | ---: |");
    for (Row row : result.rows()) {
      lines.add(
          String.format(
              "| %s | %.3f s | %.3f s | %.1f MB | %.2f | %.3f |",
              row.path(),
              row.medianSeconds(),
              row.seconds().stream().mapToDouble(Double::doubleValue).min().orElseThrow(),
              row.medianAllocatedBytes() / 1e6,
              result.busBandwidth(row) / 1e9,
              result.busBandwidth(row) / result.socketBusBandwidth()));
    }
    return lines;
  }
}
