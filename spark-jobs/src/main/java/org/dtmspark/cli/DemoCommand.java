package org.dtmspark.cli;

import com.typesafe.config.Config;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import org.dtmspark.core.config.ConfigLoader;
import org.dtmspark.data.Datasets;
import org.dtmspark.jobs.DemoJob;
import org.dtmspark.jobs.JobLog;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code dtm demo}: the whole method on the embedded Fashion-MNIST subset. */
@Command(
    name = "demo",
    mixinStandardHelpOptions = true,
    description = {
      "Runs the method end to end on the embedded Fashion-MNIST subset (10,000 train,",
      "2,000 test): its import as Parquet shards under OUTPUT/data, read back from",
      "them; a supervised tiny teacher; DTM and token-wise pretraining of a tiny",
      "student; a student without pretraining; linear probes of all; and a report",
      "whose path it prints.",
      "Settings: conf/demo.conf (shipped in the jar), then --config files, then --set."
    })
final class DemoCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  /** The demo's configuration, shipped on the classpath from {@code conf/demo.conf}. */
  static final String DEMO_CONF = "conf/demo.conf";

  @Option(
      names = "--output",
      paramLabel = "DIR",
      defaultValue = "runs/demo",
      description = "Output directory (default: ${DEFAULT-VALUE}).")
  Path output;

  @Option(
      names = "--train",
      paramLabel = "DATASET",
      defaultValue = "demo:train",
      description =
          "Training images: "
              + Datasets.SPEC_HELP
              + "; demo: and idx: datasets are imported as shards first"
              + " (default: ${DEFAULT-VALUE}).")
  String train;

  @Option(
      names = "--val",
      paramLabel = "DATASET",
      defaultValue = "demo:test",
      description =
          "Validation images, labelled as the training images (default: ${DEFAULT-VALUE}).")
  String val;

  @Mixin ConfigOptions config;

  @Override
  public Integer call() throws Exception {
    Config effective =
        ConfigLoader.load(ConfigLoader.resource(DEMO_CONF), config.files, config.overrides);
    JobLog.effectiveConfig("demo", effective);
    DemoJob.DemoResult r = DemoJob.run(effective, train, val, output);
    spec.commandLine()
        .getOut()
        .printf("demo: done in %.0f s; report: %s%n", r.seconds(), r.report().toAbsolutePath());
    return 0;
  }
}
