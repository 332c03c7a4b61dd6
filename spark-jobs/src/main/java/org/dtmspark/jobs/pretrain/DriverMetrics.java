package org.dtmspark.jobs.pretrain;

import java.io.IOException;
import java.nio.file.Files;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.dtmspark.core.metrics.CurvePlot;
import org.dtmspark.core.metrics.MetricsLog;
import org.dtmspark.core.metrics.ProgressMeter;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The driver's view of a data-parallel run: the metrics records rank 0 sends, keyed by step (a
 * retried stage sends the steps after its checkpoint again and replaces them), progress lines with
 * rate and ETA, and at the end {@code metrics.jsonl}, {@code loss.png} and {@code lr.png} in the
 * run directory.
 */
final class DriverMetrics {
  private static final Logger LOG = LoggerFactory.getLogger(DriverMetrics.class);

  private final TreeMap<Long, Map<String, Object>> records = new TreeMap<>();
  // Every rank's bytes read per epoch, by (epoch, rank); a later attempt's record replaces one.
  private final TreeMap<List<Long>, Map<String, Object>> reads =
      new TreeMap<>(Comparator.comparing((List<Long> k) -> k.get(0)).thenComparing(k -> k.get(1)));
  private ProgressMeter progress;
  private long firstStep;

  /**
   * @param earlier records of the run so far (a resumed run)
   */
  DriverMetrics(List<Map<String, Object>> earlier) {
    for (Map<String, Object> r : earlier) {
      if (r.containsKey(IMAGE_BYTES_READ)) {
        reads.put(readKey(r), r);
      } else {
        records.put(step(r), r);
      }
    }
  }

  /** Reads the metrics of an earlier run from {@code <run>/metrics.jsonl}, if present. */
  static List<Map<String, Object>> readEarlier(Configuration conf, Path run) throws IOException {
    Path file = new Path(run, "metrics.jsonl");
    FileSystem fs = file.getFileSystem(conf);
    if (!fs.exists(file)) {
      return List.of();
    }
    java.nio.file.Path local = Files.createTempFile("dtm-metrics-", ".jsonl");
    try {
      fs.copyToLocalFile(false, file, new Path(local.toUri()), true);
      return MetricsLog.read(local);
    } finally {
      Files.deleteIfExists(local);
    }
  }

  /** The field that marks a rank's data-read record. */
  static final String IMAGE_BYTES_READ = "image_bytes_read";

  private static List<Long> readKey(Map<String, Object> record) {
    if (!(record.get("epoch") instanceof Number epoch)
        || !(record.get("rank") instanceof Number rank)) {
      throw new IllegalArgumentException("Data-read record without epoch and rank: " + record);
    }
    return List.of(epoch.longValue(), rank.longValue());
  }

  private static long step(Map<String, Object> record) {
    Object step = record.get("step");
    if (!(step instanceof Number n)) {
      throw new IllegalArgumentException("Metrics record without a step: " + record);
    }
    return n.longValue();
  }

  /**
   * Takes one record from rank 0: a start event ({@code {"event": "start", "first_step": ...,
   * "end_step": ...}}, sent by every attempt, which drops the records after its first step), or the
   * metrics of a logged step.
   */
  synchronized void accept(Map<String, Object> record) {
    if ("start".equals(record.get("event"))) {
      firstStep = ((Number) record.get("first_step")).longValue();
      long endStep = ((Number) record.get("end_step")).longValue();
      records.tailMap(firstStep, false).clear();
      progress =
          new ProgressMeter(
              "pretrain steps (all ranks)" + (firstStep > 0 ? " after step " + firstStep : ""),
              endStep - firstStep,
              LOG,
              Duration.ofSeconds(10));
      return;
    }
    if (record.containsKey(IMAGE_BYTES_READ)) {
      reads.put(readKey(record), record);
      LOG.info(
          "Rank {} read {} bytes of images and {} bytes of targets in epoch {}",
          record.get("rank"),
          record.get(IMAGE_BYTES_READ),
          record.get("target_bytes_read"),
          record.get("epoch"));
      return;
    }
    long step = step(record);
    records.put(step, record);
    Object loss = record.get("loss");
    if (progress != null) {
      progress.update(
          step - firstStep,
          Map.of("loss", loss instanceof Number n ? String.format("%.4f", n.doubleValue()) : "?"));
    }
  }

  /** Step records received or kept so far, then the data-read records by epoch and rank. */
  synchronized List<Map<String, Object>> records() {
    List<Map<String, Object>> all = new ArrayList<>(records.values());
    all.addAll(reads.values());
    return all;
  }

  /** Writes {@code metrics.jsonl} and the curves into {@code run}, replacing older ones. */
  synchronized void publish(Configuration conf, Path run) throws IOException {
    if (progress != null) {
      progress.finish();
    }
    java.nio.file.Path tmp = Files.createTempDirectory("dtm-metrics-");
    try {
      java.nio.file.Path metrics = tmp.resolve("metrics.jsonl");
      try (MetricsLog log = new MetricsLog(metrics)) {
        records().forEach(log::log);
      }
      List<java.nio.file.Path> files = new ArrayList<>();
      files.add(metrics);
      files.addAll(CurvePlot.renderTrainingCurves(metrics, tmp));
      FileSystem fs = run.getFileSystem(conf);
      fs.mkdirs(run);
      for (java.nio.file.Path f : files) {
        Path target = new Path(run, f.getFileName().toString());
        Path staging = new Path(run, "." + f.getFileName() + ".tmp");
        fs.copyFromLocalFile(false, true, new Path(f.toUri()), staging);
        fs.delete(target, false);
        if (!fs.rename(staging, target)) {
          throw new IOException("Cannot rename " + staging + " to " + target);
        }
      }
    } finally {
      RunDirectory.deleteLocal(tmp);
    }
  }
}
