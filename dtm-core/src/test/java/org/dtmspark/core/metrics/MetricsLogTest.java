package org.dtmspark.core.metrics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MetricsLogTest {
  @TempDir Path tmp;

  private static Map<String, Object> record(Object... keyValues) {
    Map<String, Object> m = new LinkedHashMap<>();
    for (int i = 0; i < keyValues.length; i += 2) {
      m.put((String) keyValues[i], keyValues[i + 1]);
    }
    return m;
  }

  @Test
  void eachRecordIsOneFlushedLine() throws IOException {
    Path file = tmp.resolve("run/metrics.jsonl");
    try (MetricsLog log = new MetricsLog(file)) {
      log.log(record("step", 1, "loss", 0.75, "lr", 1.5e-3, "phase", "train"));
      // Flushed: readable before close.
      assertThat(Files.readAllLines(file))
          .containsExactly("{\"step\":1,\"loss\":0.75,\"lr\":0.0015,\"phase\":\"train\"}");
      log.log(record("step", 2, "loss", 0.5, "ok", true, "tags", List.of("a", "b")));
    }
    List<Map<String, Object>> back = MetricsLog.read(file);
    assertThat(back).hasSize(2);
    assertThat(back.get(0))
        .containsExactly(
            Map.entry("step", 1),
            Map.entry("loss", 0.75),
            Map.entry("lr", 0.0015),
            Map.entry("phase", "train"));
    assertThat(back.get(1).get("tags")).isEqualTo(List.of("a", "b"));
    assertThat(back.get(1).get("ok")).isEqualTo(true);
  }

  @Test
  void nonFiniteNumbersRoundTripAsPythonStyleTokens() throws IOException {
    Path file = tmp.resolve("metrics.jsonl");
    try (MetricsLog log = new MetricsLog(file)) {
      log.log(record("step", 3, "loss", Double.NaN, "grad_norm", Double.POSITIVE_INFINITY));
    }
    assertThat(Files.readString(file))
        .isEqualTo("{\"step\":3,\"loss\":NaN,\"grad_norm\":Infinity}\n");
    Map<String, Object> back = MetricsLog.read(file).get(0);
    assertThat((Double) back.get("loss")).isNaN();
    assertThat(back.get("grad_norm")).isEqualTo(Double.POSITIVE_INFINITY);
  }

  @Test
  void reopeningAppends() throws IOException {
    Path file = tmp.resolve("metrics.jsonl");
    try (MetricsLog log = new MetricsLog(file)) {
      log.log(record("step", 1));
    }
    try (MetricsLog log = new MetricsLog(file)) {
      log.log(record("step", 2));
    }
    assertThat(MetricsLog.read(file)).containsExactly(record("step", 1), record("step", 2));
  }

  @Test
  void lineCutShortByACrashIsSkippedAndEndedBeforeAppending() throws IOException {
    Path file = tmp.resolve("metrics.jsonl");
    Files.writeString(file, "{\"step\":1}\n{\"step\":2,\"lo");
    assertThat(MetricsLog.read(file)).containsExactly(record("step", 1));
    try (MetricsLog log = new MetricsLog(file)) {
      log.log(record("step", 3));
    }
    assertThat(Files.readAllLines(file))
        .containsExactly("{\"step\":1}", "{\"step\":2,\"lo", "{\"step\":3}");
    assertThatThrownBy(() -> MetricsLog.read(file))
        .isInstanceOf(IOException.class)
        .hasMessageStartingWith("Malformed metrics record at line 2 of " + file);
  }

  @Test
  void blankLinesAreSkipped() throws IOException {
    Path file = tmp.resolve("metrics.jsonl");
    Files.writeString(file, "\n{\"a\":1}\n\n", StandardOpenOption.CREATE);
    assertThat(MetricsLog.read(file)).containsExactly(record("a", 1));
  }

  @Test
  void valuesThatAreNotJsonAreRejected() throws IOException {
    try (MetricsLog log = new MetricsLog(tmp.resolve("m.jsonl"))) {
      assertThatThrownBy(() -> log.log(record("thing", new Object())))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageStartingWith("Metrics record must hold JSON values only");
    }
  }
}
