package org.dtmspark.cli;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import org.dtmspark.data.cache.TargetRow;
import org.dtmspark.jobs.SparkSessions;
import org.dtmspark.jobs.targets.TargetsBenchmark;
import org.dtmspark.jobs.targets.TargetsJob;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code dtm bench-targets}: the target-generation figures of BENCHMARKS.md. */
@Command(
    name = "bench-targets",
    mixinStandardHelpOptions = true,
    description = {
      "Runs the targets job with a ViT-B/16-sized CLIP teacher of random weights (written once)",
      "on Fashion-MNIST shards at 224 px in this JVM and reports images/s, bytes per view and",
      "the projected size of an ImageNet-1K cache."
    })
final class BenchTargetsCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Option(
      names = "--idx",
      paramLabel = "DIR",
      defaultValue = "/usr/share/datasets/fashion-mnist",
      description = "Fashion-MNIST idx files (default: ${DEFAULT-VALUE}).")
  Path idx;

  @Option(
      names = "--work",
      paramLabel = "DIR",
      defaultValue = "runs/bench-targets",
      description = "Where the teacher, shards and cache go (default: ${DEFAULT-VALUE}).")
  Path work;

  @Option(
      names = "--images",
      defaultValue = "256",
      description = "Training images (default: ${DEFAULT-VALUE}).")
  int images;

  @Option(
      names = "--rows-per-shard",
      defaultValue = "64",
      description = "Images per shard, one task each (default: ${DEFAULT-VALUE}).")
  int rowsPerShard;

  @Option(
      names = "--views",
      defaultValue = "1",
      description = "Views per image, K (default: ${DEFAULT-VALUE}).")
  int views;

  @Option(
      names = "--batch-size",
      defaultValue = "32",
      description = "Views per teacher call (default: ${DEFAULT-VALUE}).")
  int batchSize;

  @Option(
      names = "--rounds",
      defaultValue = "2",
      description = "Runs of the job; the first loads the teacher (default: ${DEFAULT-VALUE}).")
  int rounds;

  @Override
  public Integer call() throws Exception {
    List<TargetsBenchmark.Round> results =
        TargetsBenchmark.run(
            new TargetsBenchmark.Plan(idx, work, images, rowsPerShard, views, batchSize, rounds),
            SparkSessions.getOrCreate("dtm bench-targets"));
    var out = spec.commandLine().getOut();
    out.printf(
        "ViT-B/16 CLIP teacher (random weights), 224 px, [196, 512] fp16 targets, K=%d, batch %d"
            + " views, %d images in shards of %d%n",
        views, batchSize, images, rowsPerShard);
    out.println(
        "| round | images | views | seconds | images/s | views/s | teacher s | teacher views/s |"
            + " file bytes / view |");
    out.println("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
    for (TargetsBenchmark.Round r : results) {
      TargetsJob.Result j = r.result();
      out.printf(
          "| %d | %d | %d | %.1f | %.2f | %.2f | %.1f | %.2f | %.0f |%n",
          r.round(),
          j.imagesWritten(),
          j.viewsWritten(),
          j.seconds(),
          j.imagesPerSecond(),
          j.viewsPerSecond(),
          j.teacherSeconds(),
          j.viewsWritten() / j.teacherSeconds(),
          j.bytesWritten() / (double) j.viewsWritten());
    }
    long perView = TargetRow.bytesPerView(196, 512, TargetRow.FP16);
    out.printf(
        "Token bytes per view: 196 x 512 x 2 B (fp16) = %,d B; ImageNet-1K train cache:%n",
        perView);
    for (int k : new int[] {1, 2, 4, 10}) {
      out.println("  " + TargetsBenchmark.projection(k, perView));
    }
    return 0;
  }
}
