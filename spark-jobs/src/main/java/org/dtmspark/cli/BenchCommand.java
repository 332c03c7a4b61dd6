package org.dtmspark.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import org.dtmspark.core.io.AtomicFiles;
import org.dtmspark.core.nn.VitConfig;
import org.dtmspark.jobs.StepBenchmark;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code dtm bench}: the step-time and throughput figures of BENCHMARKS.md. */
@Command(
    name = "bench",
    mixinStandardHelpOptions = true,
    description = {
      "Times the DTM pretraining step against the token-wise baseline (same model, batch and",
      "targets, interleaved), reports images/s and FLOP/s against the fp32 matrix-product rate",
      "of this machine measured in the same run."
    })
final class BenchCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Option(
      names = "--model",
      split = ",",
      defaultValue = "tiny,small",
      description = "Sizes to measure, comma-separated (default: ${DEFAULT-VALUE}).")
  List<String> models;

  @Option(
      names = "--image-size",
      defaultValue = "224",
      description = "Resolution (default: ${DEFAULT-VALUE}).")
  int imageSize;

  @Option(
      names = "--patch-size",
      defaultValue = "16",
      description = "Patch size (default: ${DEFAULT-VALUE}).")
  int patchSize;

  @Option(
      names = "--target-dim",
      defaultValue = "512",
      description = "Teacher dimension (default: ${DEFAULT-VALUE}).")
  int targetDim;

  @Option(
      names = "--batch",
      defaultValue = "16",
      description = "Images per step (default: ${DEFAULT-VALUE}).")
  int batch;

  @Option(
      names = "--warmup",
      defaultValue = "1",
      description = "Untimed steps per variant (default: ${DEFAULT-VALUE}).")
  int warmup;

  @Option(
      names = "--steps",
      defaultValue = "5",
      description = "Timed steps per variant (default: ${DEFAULT-VALUE}).")
  int steps;

  @Option(
      names = "--matmul-size",
      defaultValue = "2048",
      description = "Roofline matrix side (default: ${DEFAULT-VALUE}).")
  int matmulSize;

  @Option(
      names = "--online-teacher",
      paramLabel = "SIZE",
      description =
          "Run a random-weight teacher of this size (e.g. base, the cost of CLIP ViT-B/16) in"
              + " every timed step instead of using fixed targets.")
  String onlineTeacher;

  @Option(names = "--output", paramLabel = "FILE", description = "Also write the results as JSON.")
  Path output;

  @Option(
      names = "--profile-ops",
      description =
          "Instead of timing, count the native operations of one DTM step per model with"
              + " PyTorch's profiler: in forward and backward, and outside them (the update).")
  boolean profileOps;

  @Option(
      names = "--trace-dir",
      paramLabel = "DIR",
      defaultValue = "runs/bench/traces",
      description = "Where --profile-ops writes the profiler traces (default: ${DEFAULT-VALUE}).")
  Path traceDir;

  @Override
  public Integer call() throws Exception {
    List<Map<String, Object>> json = new ArrayList<>();
    var out = spec.commandLine().getOut();
    if (profileOps) {
      Files.createDirectories(traceDir);
      out.println(
          "| model | batch | native ops per step | in forward + backward | outside (update) |");
      out.println("| --- | ---: | ---: | ---: | ---: |");
      List<StepBenchmark.OpCounts> counts = new ArrayList<>();
      for (String size : models) {
        VitConfig config = VitConfig.preset(size, imageSize, patchSize).withTokenHeadDim(targetDim);
        StepBenchmark.OpCounts c = StepBenchmark.profileOps(config, batch, traceDir);
        counts.add(c);
        out.printf(
            "| %s %d/%d | %d | %d | %d | %d |%n",
            size,
            imageSize,
            patchSize,
            batch,
            c.total(),
            c.forwardBackward().ops(),
            c.update().ops());
        Map<String, Object> row = new LinkedHashMap<>();
        row.put("model", size);
        row.put("batch", batch);
        row.put("ops_per_step", c.total());
        row.put("ops_forward_backward", c.forwardBackward().ops());
        row.put("ops_outside_forward_backward", c.update().ops());
        row.put("outside_by_name", c.update().byName());
        json.add(row);
      }
      for (StepBenchmark.OpCounts c : counts) {
        out.printf("%s outside forward/backward: %s%n", c.config().name(), c.update().top(12));
      }
      writeJson(json);
      return 0;
    }
    List<String> rows = new ArrayList<>();
    for (String size : models) {
      VitConfig config = VitConfig.preset(size, imageSize, patchSize).withTokenHeadDim(targetDim);
      VitConfig teacher =
          onlineTeacher == null
              ? null
              : VitConfig.preset(onlineTeacher, imageSize, patchSize).withTokenHeadDim(targetDim);
      StepBenchmark.Result r =
          StepBenchmark.run(
              new StepBenchmark.Plan(config, batch, warmup, steps, matmulSize, teacher));
      rows.add(r.markdownRow());
      json.add(StepBenchmark.toMap(r));
    }
    out.println(
        "| model | targets | batch | DTM step | token-wise step | DTM overhead | images/s |"
            + " GFLOP/s | matmul GFLOP/s | of roofline |");
    out.println("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
    rows.forEach(out::println);
    for (Map<String, Object> r : json) {
      if (r.containsKey("cached_dtm_step_s_median")) {
        out.printf(
            "%s, DTM step with cached targets %.3f s against the online %s teacher %.3f s: online"
                + " / cached = %.2f%n",
            r.get("model"),
            (Double) r.get("cached_dtm_step_s_median"),
            r.get("online_teacher"),
            (Double) r.get("dtm_step_s_median"),
            (Double) r.get("online_over_cached"));
      }
    }
    writeJson(json);
    return 0;
  }

  private void writeJson(List<Map<String, Object>> json) throws java.io.IOException {
    if (output != null) {
      byte[] bytes =
          new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsBytes(json);
      AtomicFiles.writeAtomically(output, o -> o.write(bytes));
    }
  }
}
