package org.dtmspark.cli;

import com.typesafe.config.Config;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import org.apache.spark.sql.SparkSession;
import org.dtmspark.core.config.ConfigLoader;
import org.dtmspark.data.Datasets;
import org.dtmspark.jobs.DemoJob;
import org.dtmspark.jobs.JobLog;
import org.dtmspark.jobs.SparkSessions;
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
      "them; a supervised tiny teacher; its target cache (Spark targets job); DTM and",
      "token-wise pretraining of a tiny student from the cache on --ranks executor JVMs",
      "with gradient all-reduce; a student without pretraining; linear probes of all;",
      "and a report whose path it prints.",
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

  @Option(
      names = "--ranks",
      defaultValue = "2",
      paramLabel = "N",
      description =
          "Ranks of the student pretraining runs: executor JVMs of an embedded cluster, gradients"
              + " all-reduced every step (default: ${DEFAULT-VALUE}).")
  int ranks;

  @Option(
      names = "--executor-memory-mb",
      defaultValue = "2048",
      paramLabel = "MB",
      description = "Heap of each executor JVM (default: ${DEFAULT-VALUE}).")
  int executorMemoryMb;

  @Mixin ConfigOptions config;

  @Override
  public Integer call() throws Exception {
    Config effective =
        ConfigLoader.load(ConfigLoader.resource(DEMO_CONF), config.files, config.overrides);
    JobLog.effectiveConfig("demo", effective);
    SparkSession spark = SparkSessions.forRanks("dtm demo", ranks, executorMemoryMb);
    DemoJob.DemoResult r;
    try {
      r = DemoJob.run(effective, train, val, output, ranks, spark);
    } finally {
      SparkSessions.stopEmbeddedCluster(spark);
    }
    spec.commandLine()
        .getOut()
        .printf("demo: done in %.0f s; report: %s%n", r.seconds(), r.report().toAbsolutePath());
    return 0;
  }
}
