package org.dtmspark.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BenchAllReduceCommandTest {
  @TempDir Path dir;

  @Test
  void measuresEveryConfigurationAndWritesTableAndJson() throws Exception {
    Path json = dir.resolve("allreduce.json");
    DtmCliTest.Run r =
        DtmCliTest.run(
            "bench-allreduce",
            "--params",
            "1000,2K",
            "--ranks",
            "2,3",
            "--wire",
            "fp32,fp16",
            "--bucket-size",
            "1k",
            "--warmup",
            "1",
            "--repeats",
            "2",
            "--memcpy-size",
            "1m",
            "--output",
            json.toString());
    assertThat(r.code()).as(r.err()).isZero();
    assertThat(r.out()).startsWith("memcpy (System.arraycopy of 1 MiB, median of 10): ");
    assertThat(r.out())
        .contains("| params | ranks | wire | median time | fastest | algbw GB/s | busbw GB/s |");
    assertThat(r.out().lines().filter(l -> l.matches("\\| (1K|2K) \\| [23] \\| fp(32|16) .*")))
        .hasSize(8);

    JsonNode root = new ObjectMapper().readTree(json.toFile());
    assertThat(root.get("memcpy_s")).hasSize(10);
    double memcpy = root.get("memcpy_GBps_median").asDouble();
    assertThat(memcpy).isPositive();
    JsonNode rows = root.get("rows");
    assertThat(rows).hasSize(8);
    for (JsonNode row : rows) {
      int ranks = row.get("ranks").asInt();
      List<Double> seconds = new ArrayList<>();
      row.get("seconds").forEach(s -> seconds.add(s.asDouble()));
      assertThat(seconds).hasSize(2).allSatisfy(s -> assertThat(s).isPositive());
      double median = (seconds.get(0) + seconds.get(1)) / 2;
      assertThat(row.get("median_s").asDouble()).isCloseTo(median, relative(median));
      assertThat(row.get("min_s").asDouble()).isEqualTo(Math.min(seconds.get(0), seconds.get(1)));
      double algbw = row.get("algbw_GBps").asDouble();
      assertThat(algbw).isCloseTo(4.0 * row.get("params").asInt() / median / 1e9, relative(algbw));
      double busbw = row.get("busbw_GBps").asDouble();
      assertThat(busbw).isCloseTo(algbw * 2 * (ranks - 1) / ranks, relative(busbw));
      assertThat(row.get("busbw_over_memcpy").asDouble())
          .isCloseTo(busbw / memcpy, relative(busbw));
      double error = row.get("max_relative_error").asDouble();
      boolean fp16 = row.get("wire").asText().equals("fp16");
      assertThat(error).isLessThanOrEqualTo(ranks * (fp16 ? 0x1p-11 : 0x1p-24));
    }
  }

  private static org.assertj.core.data.Offset<Double> relative(double scale) {
    return org.assertj.core.data.Offset.offset(1e-9 * Math.abs(scale));
  }

  @Test
  void badCountsAndWiresAreErrorsNamingTheOption() {
    DtmCliTest.Run r = DtmCliTest.run("bench-allreduce", "--params", "0");
    assertThat(r.code()).isEqualTo(2);
    assertThat(r.err())
        .contains("--params must be a positive whole count like 1000, 22M or 1.5K, cannot be: 0");
    r = DtmCliTest.run("bench-allreduce", "--params", "10", "--wire", "bf16");
    assertThat(r.code()).isEqualTo(2);
    assertThat(r.err()).contains("Wire format must be fp32 or fp16, cannot be: bf16");
  }

  @Test
  void countsTakeDecimalUnits() {
    assertThat(BenchAllReduceCommand.count("--params", "22M")).isEqualTo(22_000_000);
    assertThat(BenchAllReduceCommand.count("--params", "1.5k")).isEqualTo(1_500);
    assertThat(BenchAllReduceCommand.count("--params", "86000000")).isEqualTo(86_000_000);
  }

  @Test
  void hasHelp() {
    DtmCliTest.Run r = DtmCliTest.run("bench-allreduce", "--help");
    assertThat(r.code()).isZero();
    assertThat(r.out()).contains("Usage: dtm bench-allreduce").contains("--params");
  }
}
