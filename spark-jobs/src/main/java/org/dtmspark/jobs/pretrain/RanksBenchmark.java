package org.dtmspark.jobs.pretrain;

import com.typesafe.config.Config;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.SparkSession;
import org.dtmspark.core.config.ConfigLoader;
import org.dtmspark.core.metrics.MetricsLog;
import org.dtmspark.core.teacher.ClipVisionConfig;
import org.dtmspark.core.teacher.RandomClipCheckpoint;
import org.dtmspark.jobs.SparkSessions;

/**
 * Step time of data-parallel pretraining with 1 rank against N ranks at the same per-rank batch,
 * every rank an executor JVM of an embedded {@code local-cluster}, and the share of the step spent
 * averaging gradients (device-to-host copy, ring all-reduce, host-to-device copy).
 *
 * <p>The targets come from a small random CLIP-layout teacher (2 layers, width 192, projection 512)
 * so that the student's step dominates; medians skip the warm-up steps.
 */
public final class RanksBenchmark {
  private RanksBenchmark() {}

  /**
   * One configuration's medians.
   *
   * @param ranks number of ranks
   * @param perRankBatch images per rank and step
   * @param stepSeconds median wall time of a training step (rank 0)
   * @param allreduceSeconds median time of the gradient exchange within it
   * @param imagesPerSecond global batch / median step time
   */
  public record Row(
      int ranks,
      int perRankBatch,
      double stepSeconds,
      double allreduceSeconds,
      double imagesPerSecond) {
    /** Share of the step spent exchanging gradients. */
    public double communicationShare() {
      return allreduceSeconds / stepSeconds;
    }
  }

  /**
   * Runs the benchmark.
   *
   * @param modelSize student size ({@code small} = ViT-S/16)
   * @param imageSize resolution
   * @param perRankBatch images per rank and step
   * @param steps steps per configuration, including {@code warmup}
   * @param ranks the rank counts to compare
   * @param wire {@code fp32} or {@code fp16} on the wire
   * @param work scratch directory
   */
  public static List<Row> run(
      String modelSize,
      int imageSize,
      int perRankBatch,
      int steps,
      int warmup,
      List<Integer> ranks,
      String wire,
      Path work)
      throws IOException {
    Path teacher = work.resolve("teacher");
    RandomClipCheckpoint.write(
        teacher,
        new ClipVisionConfig(
            192, 768, 2, 3, imageSize, 16, ClipVisionConfig.Activation.QUICK_GELU, 1e-5, 512),
        1);
    int maxRanks = ranks.stream().mapToInt(Integer::intValue).max().orElse(1);
    int images = perRankBatch * maxRanks * 2;
    List<Row> rows = new ArrayList<>();
    for (int r : ranks) {
      Config config =
          ConfigLoader.load(
              List.of(),
              List.of(
                  "model.size=" + modelSize,
                  "model.image-size=" + imageSize,
                  "model.patch-size=16",
                  "pretrain.train.batch-size=" + perRankBatch * r,
                  "pretrain.train.epochs=1000",
                  "pretrain.train.max-steps=" + steps,
                  "pretrain.train.log-every-steps=1",
                  "pretrain.train.checkpoint-every-steps=0",
                  "pretrain.distributed.wire=" + wire));
      Path out = work.resolve("ranks-" + r);
      SparkSession spark = SparkSessions.localCluster("dtm bench-ranks", r, 4096);
      try {
        DistributedPretrainJob.run(
            new DistributedPretrainJob.Options(
                "demo:train?limit=" + images,
                new DistributedPretrainJob.TargetSource(null, teacher.toString()),
                out.toString(),
                r,
                false,
                config),
            spark);
      } finally {
        spark.stop();
      }
      List<Map<String, Object>> metrics = MetricsLog.read(out.resolve("metrics.jsonl"));
      double[] step = column(metrics, "step_seconds", warmup);
      double[] comm = column(metrics, "allreduce_seconds", warmup);
      double stepMedian = median(step);
      rows.add(new Row(r, perRankBatch, stepMedian, median(comm), perRankBatch * r / stepMedian));
    }
    return rows;
  }

  private static double[] column(List<Map<String, Object>> records, String key, int skip) {
    return records.stream()
        .skip(skip)
        .map(m -> m.get(key))
        .filter(v -> v instanceof Number)
        .mapToDouble(v -> ((Number) v).doubleValue())
        .toArray();
  }

  static double median(double[] values) {
    if (values.length == 0) {
      return Double.NaN;
    }
    double[] v = values.clone();
    Arrays.sort(v);
    int n = v.length;
    return n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
  }

  /** The rows as a Markdown table. */
  public static String table(List<Row> rows) {
    StringBuilder md = new StringBuilder();
    md.append("| ranks | batch per rank | median step (s) | median all-reduce (s) |");
    md.append(" communication share | images/s |\n");
    md.append("| ---: | ---: | ---: | ---: | ---: | ---: |\n");
    for (Row r : rows) {
      md.append(
          String.format(
              "| %d | %d | %.3f | %.3f | %.1f %% | %.2f |%n",
              r.ranks(),
              r.perRankBatch(),
              r.stepSeconds(),
              r.allreduceSeconds(),
              100 * r.communicationShare(),
              r.imagesPerSecond()));
    }
    return md.toString();
  }

  /** The rows as a JSON-ready map. */
  public static Map<String, Object> json(List<Row> rows) {
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("rows", rows);
    out.put("cores", Runtime.getRuntime().availableProcessors());
    return out;
  }
}
