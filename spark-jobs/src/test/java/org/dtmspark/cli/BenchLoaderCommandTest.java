package org.dtmspark.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BenchLoaderCommandTest {
  @TempDir Path dir;

  @Test
  void measuresEveryVariantOnTheJpegsItWritesAndWritesTableAndJson() throws Exception {
    DtmCliTest.Run r =
        DtmCliTest.run(
            "bench-loader",
            "--images",
            "5",
            "--width",
            "80",
            "--height",
            "60",
            "--size",
            "24",
            "--threads",
            "1,3",
            "--rounds",
            "3",
            "--warmup",
            "1",
            "--work",
            dir.toString());
    assertThat(r.code()).as(r.err()).isZero();
    assertThat(r.out())
        .contains("| variant | threads | images/s (median) | per thread | vs single-thread |")
        .contains("| single-thread (getRGB, double) | 1 | ")
        .contains("| pool 3 threads | 3 | ")
        .contains("bench-loader: 5 JPEGs 80x60 q0.90");
    try (Stream<Path> jpegs = Files.list(dir.resolve("jpeg"))) {
      assertThat(jpegs.map(p -> p.getFileName().toString()))
          .hasSize(5)
          .contains("synthetic_00000.JPEG");
    }
    JsonNode root = new ObjectMapper().readTree(dir.resolve("bench-loader.json").toFile());
    assertThat(root.get("images").asInt()).isEqualTo(5);
    assertThat(root.get("view_size").asInt()).isEqualTo(24);
    assertThat(root.get("mean_jpeg_bytes").asDouble()).isGreaterThan(1000);
    // The pool's 8-bit views stay within half a step (plus float rounding) of the old renderer.
    assertThat(root.get("max_abs_diff_255").asDouble()).isBetween(0.0, 0.501);
    List<String> names = new ArrayList<>();
    for (JsonNode v : root.get("variants")) {
      names.add(v.get("variant").asText());
      assertThat(v.get("images_per_s")).hasSize(2);
      v.get("images_per_s").forEach(x -> assertThat(x.asDouble()).isPositive());
      assertThat(v.get("median_images_per_s").asDouble()).isPositive();
      assertThat(v.get("median_images_per_cpu_s").asDouble()).isPositive();
    }
    assertThat(names)
        .containsExactly(
            "single-thread (getRGB, double)",
            "pool 1 thread",
            "pool 3 threads",
            "pool 1 thread, whole decode");
    assertThat(root.get("variants").get(0).get("vs_single_thread").asDouble()).isEqualTo(1.0);
  }

  @Test
  void warmupMustLeaveTimedRounds() {
    DtmCliTest.Run r =
        DtmCliTest.run("bench-loader", "--rounds", "2", "--warmup", "2", "--work", dir.toString());
    assertThat(r.code()).isNotZero();
    assertThat(r.err()).contains("--rounds must be larger than --warmup (2), cannot be: 2");
    assertThat(dir.resolve("bench-loader.json")).doesNotExist();
  }
}
