package org.dtmspark.cli;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import org.dtmspark.jobs.SparkSessions;
import org.dtmspark.jobs.shard.ShardBenchmark;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code dtm bench-shard}: the sharding throughput figures of BENCHMARKS.md. */
@Command(
    name = "bench-shard",
    mixinStandardHelpOptions = true,
    description = {
      "Makes a JPEG ImageFolder tree from the 70,000 Fashion-MNIST images (once), then measures in",
      "one run: reading the files' bytes, sharding them passthrough, and re-encoding all."
    })
final class BenchShardCommand implements Callable<Integer> {
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
      defaultValue = "runs/bench-shard",
      description = "Where the tree and the shards go (default: ${DEFAULT-VALUE}).")
  Path work;

  @Option(
      names = "--shards",
      defaultValue = "8",
      description = "Shards per split (default: ${DEFAULT-VALUE}).")
  int shards;

  @Override
  public Integer call() throws Exception {
    List<ShardBenchmark.Phase> phases =
        ShardBenchmark.run(idx, work, shards, SparkSessions.getOrCreate("dtm bench-shard"));
    var out = spec.commandLine().getOut();
    double read = phases.get(0).seconds();
    out.println(
        "| phase | images | MB | seconds | images/s | MB/s | time / read time | peak RSS MB |");
    out.println("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
    for (ShardBenchmark.Phase p : phases) {
      out.printf(
          "| %s | %d | %.1f | %.2f | %.0f | %.1f | %.1f | %.0f |%n",
          p.phase(),
          p.images(),
          p.megabytes(),
          p.seconds(),
          p.imagesPerSecond(),
          p.megabytesPerSecond(),
          p.seconds() / read,
          p.peakRssMb());
    }
    return 0;
  }
}
