package org.dtmspark.jobs.pretrain;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigRenderOptions;
import java.io.IOException;
import java.io.Serializable;
import java.security.SecureRandom;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import org.apache.spark.SparkContext;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.SparkSession;
import org.dtmspark.core.config.ConfigError;
import org.dtmspark.core.config.PretrainSettings;
import org.dtmspark.data.Datasets;
import org.dtmspark.jobs.HadoopConf;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Data-parallel DTM pretraining on Spark: one barrier task per rank, each driving one device (its
 * GPU, or the CPU) through DJL in its own executor JVM, gradients averaged every step by a ring
 * all-reduce among the ranks (SPEC section 6).
 *
 * <p>The driver checks the configuration and the cluster, creates the job's secret, receives rank
 * 0's metrics (logged with rate and ETA, written as {@code metrics.jsonl} and PNG curves), and
 * resubmits the stage after a failure up to {@code pretrain.distributed.max-retries} times; every
 * attempt resumes from the last checkpoint in the run directory. A configuration mistake a rank
 * reports (ranks that disagree, targets that do not fit the images) is not retried. See {@link
 * RankTask} for what a rank does.
 */
public final class DistributedPretrainJob {
  private static final Logger LOG = LoggerFactory.getLogger(DistributedPretrainJob.class);

  private DistributedPretrainJob() {}

  /**
   * What to train.
   *
   * @param images dataset spec of the training images ({@code shards:DIR#train}, ...), readable
   *     from every executor
   * @param targets where targets come from: a target cache directory, or a teacher
   * @param output run directory on any Hadoop filesystem
   * @param ranks number of ranks (barrier tasks, one per executor JVM)
   * @param resume continue from the run directory's last checkpoint
   * @param config the effective configuration (resolved; only its values travel)
   */
  public record Options(
      String images,
      TargetSource targets,
      String output,
      int ranks,
      boolean resume,
      Config config) {
    public Options {
      if (ranks < 1) {
        throw new ConfigError("--ranks must be at least 1, cannot be: " + ranks);
      }
    }

    /** These options with every location absolute (Hadoop-qualified where it is a Hadoop path). */
    Options qualified(Configuration conf) throws IOException {
      return new Options(
          Datasets.qualified(images, conf),
          targets.qualified(conf),
          qualify(conf, output),
          ranks,
          resume,
          config);
    }
  }

  private static String qualify(Configuration conf, String location) throws IOException {
    Path path = new Path(location);
    return path.getFileSystem(conf).makeQualified(path).toString();
  }

  /**
   * Where the targets come from.
   *
   * @param cache a target cache directory (any Hadoop filesystem), or null
   * @param teacher a teacher path readable on every executor, or null
   */
  public record TargetSource(String cache, String teacher) implements Serializable {
    public TargetSource {
      if ((cache == null) == (teacher == null)) {
        throw new ConfigError(
            "pretrain needs exactly one source of targets: --targets CACHE or --teacher PATH");
      }
    }

    /** The cache qualified on its filesystem; a local teacher path made absolute. */
    TargetSource qualified(Configuration conf) throws IOException {
      return new TargetSource(
          cache == null ? null : qualify(conf, cache),
          teacher == null ? null : java.nio.file.Path.of(teacher).toAbsolutePath().toString());
    }
  }

  /**
   * What the run did.
   *
   * @param attempts stage attempts (1 without failures)
   * @param finalStep global step reached
   * @param finalLoss loss of the last step, averaged over the ranks
   * @param imagesPerSecond throughput of the last attempt, all ranks together
   * @param checkpoint the final checkpoint, fully qualified
   * @param metrics the metrics file
   */
  public record Result(
      int attempts,
      long finalStep,
      double finalLoss,
      double imagesPerSecond,
      String checkpoint,
      String metrics) {}

  /** Runs the job on {@code spark}. */
  public static Result run(Options options, SparkSession spark) throws IOException {
    PretrainSettings settings = PretrainSettings.from(options.config());
    var distributed = settings.distributed();
    if (settings.train().batchSize() % options.ranks() != 0) {
      throw new ConfigError(
          "pretrain.train.batch-size must be a multiple of --ranks ("
              + options.ranks()
              + "), cannot be: "
              + settings.train().batchSize());
    }
    int streams = settings.data().streamsFor(options.ranks());
    if (settings.train().batchSize() % streams != 0) {
      throw new ConfigError(
          "pretrain.train.batch-size ("
              + settings.train().batchSize()
              + ") must be a multiple of pretrain.data.streams ("
              + streams
              + "): every global batch takes as many images from every stream");
    }
    SparkContext sc = spark.sparkContext();
    Configuration conf = sc.hadoopConfiguration();
    // Executors run in their own working directories: every location travels fully qualified.
    options = options.qualified(conf);
    RunDirectory run = new RunDirectory(conf, new Path(options.output()));
    Optional<RunDirectory.Checkpoint> latest = run.latestCheckpoint();
    if (latest.isPresent() && !options.resume()) {
      throw new ConfigError(
          "Run directory "
              + options.output()
              + " already holds checkpoint "
              + latest.get().path()
              + ": pass --resume to continue it, or choose another --output");
    }
    Slots.await(sc, options.ranks(), distributed.executorWaitSeconds());

    byte[] secret = new byte[32];
    new SecureRandom().nextBytes(secret);
    List<Map<String, Object>> earlier =
        options.resume() ? DriverMetrics.readEarlier(conf, run.root()) : List.of();
    DriverMetrics metrics = new DriverMetrics(earlier);
    String driverHost = sc.getConf().get("spark.driver.host", "127.0.0.1");
    String rendered = options.config().root().render(ConfigRenderOptions.concise());
    JavaSparkContext jsc = JavaSparkContext.fromSparkContext(sc);
    jsc.setJobGroup(
        "dtm-pretrain",
        "DTM pretraining: "
            + settings.model().size()
            + " on "
            + options.images()
            + ", "
            + options.ranks()
            + " ranks, to "
            + options.output(),
        true);
    LOG.info(
        "Pretraining on {} ranks from {} (targets: {}) into {}{}",
        options.ranks(),
        options.images(),
        options.targets().cache() != null
            ? "cache " + options.targets().cache()
            : "teacher " + options.targets().teacher(),
        options.output(),
        latest.map(c -> ", resuming from " + c.path()).orElse(""));
    try (MetricsChannel.Receiver receiver =
        new MetricsChannel.Receiver(driverHost, secret, metrics::accept)) {
      RankTask task =
          new RankTask(
              rendered,
              options.images(),
              options.targets(),
              options.output(),
              options.ranks(),
              secret,
              receiver.address(),
              new HadoopConf(conf));
      int attempt = 0;
      List<RankTask.RankResult> results;
      while (true) {
        attempt++;
        try {
          results = BarrierStage.run(jsc, options.ranks(), task, RankTask.RankResult.class);
          break;
        } catch (Exception e) { // SparkException is checked but thrown through Scala undeclared
          Optional<String> mistake = configurationMistake(e);
          if (mistake.isPresent()) {
            metrics.publish(conf, run.root());
            throw new ConfigError(mistake.get());
          }
          if (attempt > distributed.maxRetries()) {
            metrics.publish(conf, run.root());
            throw new IllegalStateException(
                "Pretraining failed after "
                    + attempt
                    + " attempt(s) (pretrain.distributed.max-retries = "
                    + distributed.maxRetries()
                    + "): "
                    + rootMessage(e),
                e);
          }
          Optional<RunDirectory.Checkpoint> resumeFrom = run.latestCheckpoint();
          LOG.warn(
              "Training attempt {} failed: {}. Resubmitting the stage ({} of {} retries), resuming"
                  + " from {}",
              attempt,
              rootMessage(e),
              attempt,
              distributed.maxRetries(),
              resumeFrom.map(c -> c.path().toString()).orElse("the start (no checkpoint yet)"));
        }
      }
      metrics.publish(conf, run.root());
      RankTask.RankResult rank0 = results.get(0);
      return new Result(
          attempt,
          rank0.finalStep(),
          rank0.finalLoss(),
          rank0.imagesPerSecond(),
          rank0.checkpoint(),
          new Path(run.root(), "metrics.jsonl").toString());
    } finally {
      jsc.clearJobGroup();
    }
  }

  /** Parses a rendered configuration on an executor. */
  static PretrainSettings settings(String rendered) {
    return PretrainSettings.from(ConfigFactory.parseString(rendered).resolve());
  }

  /** Task failures that a retry cannot fix: the ranks disagree, or the configuration is wrong. */
  private static final java.util.List<String> NOT_RETRIED =
      java.util.List.of(
          ConfigError.class.getName(), org.dtmspark.sync.RingMismatchException.class.getName());

  /**
   * The message of a configuration mistake a rank reported, if that is why the stage failed. Spark
   * hands the driver the task's exception as text: {@code ... ClassName: message}.
   */
  static Optional<String> configurationMistake(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
      if (NOT_RETRIED.contains(t.getClass().getName())) {
        return Optional.ofNullable(t.getMessage());
      }
      String text = t.getMessage();
      if (text == null) {
        continue;
      }
      for (String type : NOT_RETRIED) {
        int at = text.indexOf(type + ": ");
        if (at >= 0) {
          String rest = text.substring(at + type.length() + 2);
          int end = rest.indexOf('\n');
          return Optional.of(end >= 0 ? rest.substring(0, end) : rest);
        }
      }
    }
    return Optional.empty();
  }

  private static String rootMessage(Throwable e) {
    Throwable t = e;
    String message = e.getMessage();
    while (t.getCause() != null && t.getCause() != t) {
      t = t.getCause();
      if (t.getMessage() != null) {
        message = t.getMessage();
      }
    }
    return message == null ? e.toString() : message;
  }
}
