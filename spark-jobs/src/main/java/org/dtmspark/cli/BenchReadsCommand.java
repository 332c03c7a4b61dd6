package org.dtmspark.cli;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import org.dtmspark.jobs.SparkSessions;
import org.dtmspark.jobs.pretrain.ReadsBenchmark;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code dtm bench-reads}: bytes every rank reads per epoch, the data figures of BENCHMARKS.md. */
@Command(
    name = "bench-reads",
    mixinStandardHelpOptions = true,
    description = {
      "Imports Fashion-MNIST into small shards, writes a target cache of K views plus the full",
      "view with a small random CLIP teacher (both once, kept under --work), then runs epoch 0",
      "of every rank's data path (batch plan, loader with read-ahead, cache read by view) for",
      "each number of ranks and reports the bytes each rank read against the totals."
    })
final class BenchReadsCommand implements Callable<Integer> {
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
      defaultValue = "runs/bench-reads",
      description = "Where the shards, teacher and cache go (default: ${DEFAULT-VALUE}).")
  Path work;

  @Option(
      names = "--images",
      defaultValue = "16000",
      description = "Training images (default: ${DEFAULT-VALUE}).")
  int images;

  @Option(
      names = "--rows-per-shard",
      defaultValue = "1000",
      description = "Images per shard (default: ${DEFAULT-VALUE}).")
  int rowsPerShard;

  @Option(
      names = "--views",
      defaultValue = "4",
      description = "Sampled views per image in the cache, K (default: ${DEFAULT-VALUE}).")
  int views;

  @Option(
      names = "--streams",
      defaultValue = "4",
      description = "Virtual streams, V (default: ${DEFAULT-VALUE}).")
  int streams;

  @Option(
      names = "--batch",
      defaultValue = "64",
      description = "Global batch (default: ${DEFAULT-VALUE}).")
  int batch;

  @Option(
      names = "--ranks",
      split = ",",
      defaultValue = "1,2,4",
      description = "Numbers of ranks, each dividing --streams (default: ${DEFAULT-VALUE}).")
  List<Integer> ranks;

  @Override
  public Integer call() throws Exception {
    ReadsBenchmark.Result r =
        ReadsBenchmark.run(
            new ReadsBenchmark.Plan(idx, work, images, rowsPerShard, views, streams, batch, ranks),
            SparkSessions.getOrCreate("dtm bench-reads"));
    var out = spec.commandLine().getOut();
    double oneView = r.cacheBytes() / (double) r.rowsPerImage();
    out.printf(
        "%d images in %d shards (%,d B, largest %,d B); cache K=%d + full view (%,d B, one view"
            + " about %,.0f B); V=%d, global batch %d: %,d images per epoch%n",
        images,
        r.shardFiles(),
        r.shardBytes(),
        r.largestShard(),
        views,
        r.cacheBytes(),
        oneView,
        streams,
        batch,
        r.imagesPerEpoch());
    out.println(
        "| ranks | rank | images | image bytes | / (1/N of shards + 1 shard) | target bytes |"
            + " / (one view of 1/N of the cache) |");
    out.println("| ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
    for (ReadsBenchmark.RankReads x : r.reads()) {
      double imageBound = r.shardBytes() / (double) x.ranks() + r.largestShard();
      double viewShare = oneView / x.ranks();
      out.printf(
          "| %d | %d | %,d | %,d | %.3f | %,d | %.3f |%n",
          x.ranks(),
          x.rank(),
          x.images(),
          x.imageBytes(),
          x.imageBytes() / imageBound,
          x.targetBytes(),
          x.targetBytes() / viewShare);
    }
    return 0;
  }
}
