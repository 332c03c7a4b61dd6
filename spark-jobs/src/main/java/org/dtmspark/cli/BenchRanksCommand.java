package org.dtmspark.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import org.dtmspark.core.io.AtomicFiles;
import org.dtmspark.jobs.pretrain.RanksBenchmark;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code dtm bench-ranks}: step time of 1 rank against N ranks, and the communication share. */
@Command(
    name = "bench-ranks",
    mixinStandardHelpOptions = true,
    description = {
      "Runs data-parallel pretraining with each rank count in executor JVMs of an embedded",
      "cluster, the same batch per rank, and reports the median step time, the median time of",
      "the gradient exchange within it, and its share of the step."
    })
final class BenchRanksCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Option(
      names = "--model",
      defaultValue = "small",
      description = "Student size (default: ${DEFAULT-VALUE}).")
  String model;

  @Option(
      names = "--image-size",
      defaultValue = "224",
      description = "Resolution (default: ${DEFAULT-VALUE}).")
  int imageSize;

  @Option(
      names = "--batch-per-rank",
      defaultValue = "8",
      description = "Images per rank and step (default: ${DEFAULT-VALUE}).")
  int batch;

  @Option(
      names = "--steps",
      defaultValue = "8",
      description = "Steps per configuration (default: ${DEFAULT-VALUE}).")
  int steps;

  @Option(
      names = "--warmup",
      defaultValue = "2",
      description = "Steps left out of the medians (default: ${DEFAULT-VALUE}).")
  int warmup;

  @Option(
      names = "--ranks",
      split = ",",
      defaultValue = "1,2",
      description = "Rank counts (default: ${DEFAULT-VALUE}).")
  List<Integer> ranks;

  @Option(
      names = "--wire",
      defaultValue = "fp32",
      description = "fp32 or fp16 (default: ${DEFAULT-VALUE}).")
  String wire;

  @Option(
      names = "--work",
      defaultValue = "runs/bench-ranks",
      description = "Scratch directory (default: ${DEFAULT-VALUE}).")
  Path work;

  @Override
  public Integer call() throws Exception {
    if (steps <= warmup) {
      throw new IllegalArgumentException(
          "--steps must be larger than --warmup (" + warmup + "), cannot be: " + steps);
    }
    if (Files.exists(work)) {
      throw new IllegalArgumentException("--work " + work + " exists: remove it or choose another");
    }
    List<RanksBenchmark.Row> rows =
        RanksBenchmark.run(
            model, imageSize, batch, steps, warmup, ranks, wire, work.toAbsolutePath());
    spec.commandLine().getOut().printf("%s", RanksBenchmark.table(rows));
    byte[] json =
        new ObjectMapper()
            .enable(SerializationFeature.INDENT_OUTPUT)
            .writeValueAsBytes(RanksBenchmark.json(rows));
    AtomicFiles.writeAtomically(work.resolve("bench-ranks.json"), out -> out.write(json));
    return 0;
  }
}
