package org.dtmspark.jobs.pretrain;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.dtmspark.core.metrics.MetricsLog;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DriverMetricsTest {
  @TempDir Path dir;

  private final Configuration conf = new Configuration();

  @Test
  void oneRecordPerStepIsKeptAcrossARetriedAttempt() throws Exception {
    DriverMetrics metrics = new DriverMetrics(List.of());
    metrics.accept(Map.of("event", "start", "first_step", 0, "end_step", 6));
    for (int step = 1; step <= 5; step++) {
      metrics.accept(Map.of("step", step, "loss", 1.0 / step));
    }
    // The attempt failed after step 5; the next one resumes from the checkpoint of step 4.
    metrics.accept(Map.of("event", "start", "first_step", 4, "end_step", 6));
    metrics.accept(Map.of("step", 5, "loss", 0.5));
    metrics.accept(Map.of("step", 6, "loss", 0.25));
    metrics.publish(conf, new org.apache.hadoop.fs.Path(dir.toUri()));

    List<Map<String, Object>> written = MetricsLog.read(dir.resolve("metrics.jsonl"));
    assertThat(written)
        .extracting(r -> ((Number) r.get("step")).intValue())
        .containsExactly(1, 2, 3, 4, 5, 6);
    assertThat(written.get(4).get("loss")).isEqualTo(0.5);
    assertThat(dir.resolve("loss.png")).isNotEmptyFile();
  }
}
