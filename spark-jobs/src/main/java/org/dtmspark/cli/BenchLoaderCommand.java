package org.dtmspark.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import org.dtmspark.core.io.AtomicFiles;
import org.dtmspark.jobs.LoaderBenchmark;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code dtm bench-loader}: images/s of the data loader, today's path against the pool. */
@Command(
    name = "bench-loader",
    mixinStandardHelpOptions = true,
    description = {
      "Writes photo-like JPEGs, then measures images/s of decode + random resized crop + flip +",
      "colour jitter to a square view: today's single-thread path (ImageIO, getRGB, the double",
      "renderer) and the loader pool with each thread count, in interleaved rounds; medians."
    })
final class BenchLoaderCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Option(
      names = "--images",
      defaultValue = "64",
      description =
          "Distinct JPEGs, each loaded once per variant and round (default: ${DEFAULT-VALUE}).")
  int images;

  @Option(
      names = "--width",
      defaultValue = "500",
      description = "JPEG width (default: ${DEFAULT-VALUE}).")
  int width;

  @Option(
      names = "--height",
      defaultValue = "375",
      description = "JPEG height (default: ${DEFAULT-VALUE}).")
  int height;

  @Option(
      names = "--quality",
      defaultValue = "0.9",
      description = "JPEG quality (default: ${DEFAULT-VALUE}).")
  float quality;

  @Option(
      names = "--size",
      defaultValue = "224",
      description = "Side of the views (default: ${DEFAULT-VALUE}).")
  int size;

  @Option(
      names = "--threads",
      split = ",",
      defaultValue = "1,2",
      description = "Pool sizes (default: ${DEFAULT-VALUE}).")
  List<Integer> threads;

  @Option(
      names = "--rounds",
      defaultValue = "9",
      description = "Rounds, including the warm-up (default: ${DEFAULT-VALUE}).")
  int rounds;

  @Option(
      names = "--warmup",
      defaultValue = "2",
      description = "Rounds left out of the medians (default: ${DEFAULT-VALUE}).")
  int warmup;

  @Option(
      names = "--seed",
      defaultValue = "20261205",
      description = "Seeds the images and the views (default: ${DEFAULT-VALUE}).")
  long seed;

  @Option(
      names = "--work",
      defaultValue = "runs/bench-loader",
      description = "Where the JPEGs and bench-loader.json go (default: ${DEFAULT-VALUE}).")
  Path work;

  @Override
  public Integer call() throws Exception {
    LoaderBenchmark.Result result =
        LoaderBenchmark.run(
            new LoaderBenchmark.Options(
                images,
                width,
                height,
                quality,
                size,
                threads,
                rounds,
                warmup,
                seed,
                work.toAbsolutePath()));
    byte[] json =
        new ObjectMapper()
            .enable(SerializationFeature.INDENT_OUTPUT)
            .writeValueAsBytes(LoaderBenchmark.json(result));
    Path file = work.resolve("bench-loader.json");
    AtomicFiles.writeAtomically(file, out -> out.write(json));
    spec.commandLine().getOut().print(LoaderBenchmark.table(result));
    spec.commandLine().getOut().println("bench-loader: wrote " + file);
    return 0;
  }
}
