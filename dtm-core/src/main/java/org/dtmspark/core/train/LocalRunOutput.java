package org.dtmspark.core.train;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.dtmspark.core.io.IOConsumer;
import org.dtmspark.core.metrics.CurvePlot;
import org.dtmspark.core.metrics.MetricsLog;

/**
 * The output of a single-JVM run in a local directory: {@code metrics.jsonl} (appended on resume),
 * {@code loss.png} and {@code lr.png} rendered on close, and {@code checkpoints/<name>}.
 */
public final class LocalRunOutput implements RunOutput {
  private final Path dir;
  private final MetricsLog metrics;

  /** Opens {@code dir} (created when missing). */
  public LocalRunOutput(Path dir) throws IOException {
    this.dir = dir;
    Files.createDirectories(dir);
    this.metrics = new MetricsLog(metricsPath());
  }

  /** The metrics file. */
  public Path metricsPath() {
    return dir.resolve("metrics.jsonl");
  }

  /** Where checkpoint {@code name} lives. */
  public Path checkpointPath(String name) {
    return dir.resolve("checkpoints").resolve(name);
  }

  @Override
  public void metrics(Map<String, Object> record) {
    metrics.log(record);
  }

  @Override
  public String checkpoint(String name, IOConsumer<Path> writer) throws IOException {
    Path target = checkpointPath(name);
    writer.accept(target);
    return target.toString();
  }

  @Override
  public void close() throws IOException {
    metrics.close();
    CurvePlot.renderTrainingCurves(metricsPath(), dir);
  }
}
