package org.dtmspark.jobs;

import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigValueFactory;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.sql.SparkSession;
import org.dtmspark.core.config.FinetuneSettings;
import org.dtmspark.core.config.PretrainSettings;
import org.dtmspark.core.config.ProbeSettings;
import org.dtmspark.core.data.ImageDataset;
import org.dtmspark.core.data.ImageNormalization;
import org.dtmspark.core.eval.FeatureExtractor;
import org.dtmspark.core.eval.Features;
import org.dtmspark.core.eval.LinearProbe;
import org.dtmspark.core.eval.ProbeResult;
import org.dtmspark.core.io.AtomicFiles;
import org.dtmspark.core.metrics.CurvePlot;
import org.dtmspark.core.metrics.MetricsLog;
import org.dtmspark.core.nn.VisionTransformer;
import org.dtmspark.core.nn.VitConfig;
import org.dtmspark.core.train.FinetuneResult;
import org.dtmspark.core.train.Finetuner;
import org.dtmspark.core.train.ModelCheckpoints;
import org.dtmspark.core.train.Seeds;
import org.dtmspark.data.Datasets;
import org.dtmspark.data.idx.IdxClassNames;
import org.dtmspark.data.idx.IdxImport;
import org.dtmspark.data.shard.ShardImageDataset;
import org.dtmspark.data.shard.ShardWriteOptions;
import org.dtmspark.jobs.pretrain.DistributedPretrainJob;
import org.dtmspark.jobs.targets.TargetsJob;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The demo on the embedded Fashion-MNIST subset, end to end through the pipeline's stages:
 *
 * <ol>
 *   <li>the data is imported as Parquet image shards (SPEC section 4) under {@code <out>/data}
 *       ({@link IdxImport}) and read back from them ({@link ShardImageDataset}), as the cluster
 *       jobs read theirs;
 *   <li>a tiny teacher is fine-tuned on the labels (supervised, from scratch);
 *   <li>the Spark targets job writes the teacher's target cache ({@value #CACHE_VIEWS} views per
 *       image) under {@code <out>/targets};
 *   <li>a tiny student is pretrained with DTM from the cache, data-parallel on the given number of
 *       ranks (one executor JVM each, gradients all-reduced);
 *   <li>the same student budget is pretrained token-wise ({@code r = 0}), the paper's baseline;
 *   <li>a fourth encoder stays randomly initialised (no pretraining);
 *   <li>all four are linear-probed on frozen features;
 *   <li>a report (markdown table, PNG curves, JSON) is written and its path returned.
 * </ol>
 */
public final class DemoJob {
  private static final Logger LOG = LoggerFactory.getLogger(DemoJob.class);

  /** One probed encoder. */
  public record Row(String model, String pretraining, double probeTrainTop1, double probeValTop1) {}

  /** What the demo produced. */
  public record DemoResult(
      Path report, double teacherFinetuneValTop1, List<Row> rows, double seconds) {}

  /** Teacher views cached per training image. */
  public static final int CACHE_VIEWS = 4;

  /** Split name of the imported training images under {@code <out>/data}. */
  public static final String TRAIN_SPLIT = "train";

  /** Split name of the imported validation images under {@code <out>/data}. */
  public static final String VAL_SPLIT = "test";

  private DemoJob() {}

  /**
   * Runs the demo on datasets named as on the command line ({@link Datasets#SPEC_HELP}).
   *
   * <p>{@code demo:} and {@code idx:} specs (with their {@code ?limit=N}) are first imported into
   * {@code <out>/data} as splits {@value #TRAIN_SPLIT} and {@value #VAL_SPLIT}, replacing an
   * earlier import there; the embedded subset gets the Fashion-MNIST class names, other idx files
   * the synthetic ones. Both splits come from one import, so their labels index the same sorted
   * class list. {@code shards:} specs are read as they are. Two shard datasets must have the same
   * class list.
   *
   * @param config effective configuration (the demo file plus overrides)
   * @param train training images, e.g. {@code demo:train}
   * @param val validation images, e.g. {@code demo:test}
   * @param out output directory
   * @param ranks data-parallel ranks of the student pretraining runs
   * @param spark the session the targets job and the pretraining runs use; with more than one rank
   *     one that has an executor JVM per rank ({@link SparkSessions#forRanks})
   */
  public static DemoResult run(
      Config config, String train, String val, Path out, int ranks, SparkSession spark)
      throws IOException {
    Optional<IdxImport.Split> trainIdx = Datasets.idxImportSplit(train, TRAIN_SPLIT);
    Optional<IdxImport.Split> valIdx = Datasets.idxImportSplit(val, VAL_SPLIT);
    org.apache.hadoop.fs.Path data =
        new org.apache.hadoop.fs.Path(out.resolve("data").toAbsolutePath().toString());
    Configuration conf = new Configuration();
    if (trainIdx.isPresent() || valIdx.isPresent()) {
      IdxImport.Builder options =
          IdxImport.Options.builder().setOutput(data).optOverwrite(true).optConf(conf);
      trainIdx.ifPresent(options::addSplit);
      valIdx.ifPresent(options::addSplit);
      boolean embedded =
          (trainIdx.isEmpty() || Datasets.isDemo(train))
              && (valIdx.isEmpty() || Datasets.isDemo(val));
      if (embedded) {
        options.optClassNames(IdxClassNames.FASHION_MNIST);
      }
      LOG.info("demo: importing {} and {} as Parquet shards into {}", train, val, data);
      IdxImport.run(options.build());
    }
    String trainSpec = trainIdx.isPresent() ? "shards:" + data + "#" + TRAIN_SPLIT : train;
    ImageDataset trainData = Datasets.open(trainSpec);
    ImageDataset valData =
        valIdx.isPresent() ? ShardImageDataset.open(conf, data, VAL_SPLIT) : Datasets.open(val);
    if (!(trainData instanceof ShardImageDataset t)) {
      throw new IllegalArgumentException(
          "The demo trains from image shards and their target cache: training images must be"
              + " demo:, idx: or shards: datasets, cannot be: "
              + train);
    }
    if (valData instanceof ShardImageDataset v
        && !t.manifest().synsets().equals(v.manifest().synsets())) {
      throw new IllegalArgumentException(
          "Training and validation shards must have the same class list, cannot be: "
              + t.manifest().synsets()
              + " and "
              + v.manifest().synsets());
    }
    return run(config, t, trainSpec, valData, out, ranks, spark);
  }

  /** A student pretraining run of the demo. */
  private record StudentRun(
      double finalLoss, double imagesPerSecond, Path checkpoint, Path metrics) {}

  private static DemoResult run(
      Config config,
      ShardImageDataset train,
      String trainSpec,
      ImageDataset val,
      Path out,
      int ranks,
      SparkSession spark)
      throws IOException {
    long started = System.nanoTime();
    Files.createDirectories(out);
    PretrainSettings pretrain = PretrainSettings.from(config);
    FinetuneSettings finetune = FinetuneSettings.from(config);
    ProbeSettings probe = ProbeSettings.from(config);

    LOG.info("demo 1/6: supervised teacher on {} ({} images)", train.id(), train.size());
    FinetuneResult teacherRun =
        new Finetuner(finetune).run(train, val, Optional.empty(), out.resolve("teacher"));

    Path cache = out.resolve("targets").toAbsolutePath();
    LOG.info(
        "demo 2/6: the teacher's target cache, {} views per image, into {}", CACHE_VIEWS, cache);
    TargetsJob.run(
        new TargetsJob.Options(
            train.root().toString(),
            TRAIN_SPLIT,
            teacherRun.checkpoint().toAbsolutePath().toString(),
            cache.toString(),
            CACHE_VIEWS,
            false,
            "fp16",
            256,
            "teacher",
            false,
            pretrain.model().imageSize(),
            pretrain.model().patchSize(),
            pretrain.augment(),
            pretrain.seed(),
            "fp16",
            ShardWriteOptions.DEFAULTS,
            false,
            true),
        spark);

    List<StudentRun> pretrainRuns = new ArrayList<>();
    String[] variants = {"dtm", "token-wise"};
    for (int i = 0; i < variants.length; i++) {
      LOG.info(
          "demo {}/6: {} pretraining of the student from the cache on {} ranks",
          i + 3,
          variants[i],
          ranks);
      Config variant =
          config.withValue("pretrain.morph.enabled", ConfigValueFactory.fromAnyRef(i == 0));
      Path runDir = out.resolve("student-" + variants[i]).toAbsolutePath();
      deleteTree(runDir);
      DistributedPretrainJob.Result r =
          DistributedPretrainJob.run(
              new DistributedPretrainJob.Options(
                  trainSpec,
                  new DistributedPretrainJob.TargetSource(cache.toString(), null),
                  runDir.toString(),
                  ranks,
                  false,
                  variant),
              spark);
      pretrainRuns.add(
          new StudentRun(
              r.finalLoss(),
              r.imagesPerSecond(),
              runDir.resolve("checkpoints/last"),
              runDir.resolve("metrics.jsonl")));
    }

    LOG.info("demo 5/6: linear probes");
    List<Row> rows = new ArrayList<>();
    rows.add(
        probeRow(
            "teacher",
            "supervised on labels (reference)",
            teacherRun.checkpoint(),
            train,
            val,
            probe));
    rows.add(
        probeRow(
            "student",
            "DTM from the teacher",
            pretrainRuns.get(0).checkpoint(),
            train,
            val,
            probe));
    rows.add(
        probeRow(
            "student",
            "token-wise distillation (r = 0)",
            pretrainRuns.get(1).checkpoint(),
            train,
            val,
            probe));
    rows.add(randomInitRow(pretrain, pretrainRuns.get(0).checkpoint(), train, val, probe));

    LOG.info("demo 6/6: report");
    double seconds = (System.nanoTime() - started) / 1e9;
    Path report = writeReport(out, train, val, teacherRun, pretrainRuns, rows, seconds);
    return new DemoResult(report, teacherRun.valTop1(), rows, seconds);
  }

  private static Row probeRow(
      String model,
      String pretraining,
      Path checkpoint,
      ImageDataset train,
      ImageDataset val,
      ProbeSettings probe) {
    try (NDManager manager = NDManager.newBaseManager()) {
      VisionTransformer encoder = ModelCheckpoints.load(checkpoint, manager).model();
      return probeRow(model, pretraining, encoder, train, val, probe);
    }
  }

  private static Row probeRow(
      String model,
      String pretraining,
      VisionTransformer encoder,
      ImageDataset train,
      ImageDataset val,
      ProbeSettings probe) {
    Features ft = FeatureExtractor.extract(encoder, train, 256, ImageNormalization.IMAGENET);
    Features fv = FeatureExtractor.extract(encoder, val, 256, ImageNormalization.IMAGENET);
    ProbeResult r = new LinearProbe(probe).run(ft, fv);
    LOG.info("probe {} ({}): train {} val {}", model, pretraining, r.trainTop1(), r.valTop1());
    return new Row(model, pretraining, r.trainTop1(), r.valTop1());
  }

  /** The student architecture at its initialisation, never trained. */
  private static Row randomInitRow(
      PretrainSettings pretrain,
      Path pretrainedCheckpoint,
      ImageDataset train,
      ImageDataset val,
      ProbeSettings probe) {
    try (NDManager manager = NDManager.newBaseManager()) {
      VitConfig config = ModelCheckpoints.load(pretrainedCheckpoint, manager).model().config();
      VisionTransformer encoder =
          VisionTransformer.initialize(config, manager, Seeds.derive(pretrain.seed(), "init"));
      return probeRow("student", "none (random initialisation)", encoder, train, val, probe);
    }
  }

  private static Path writeReport(
      Path out,
      ImageDataset train,
      ImageDataset val,
      FinetuneResult teacher,
      List<StudentRun> runs,
      List<Row> rows,
      double seconds)
      throws IOException {
    Map<String, double[][]> loss = new LinkedHashMap<>();
    loss.put("DTM", series(runs.get(0).metrics(), "loss"));
    loss.put("token-wise", series(runs.get(1).metrics(), "loss"));
    CurvePlot.renderPng(
        out.resolve("pretrain-loss.png"), "Student pretraining loss", "step", loss, false);
    Map<String, double[][]> teacherCurves = new LinkedHashMap<>();
    teacherCurves.put("val top-1", series(teacher.metrics(), "val_top1"));
    CurvePlot.renderPng(
        out.resolve("teacher-val-top1.png"),
        "Teacher fine-tuning: val top-1",
        "step",
        teacherCurves,
        false);

    StringBuilder md = new StringBuilder();
    md.append("# dtm-spark demo: Fashion-MNIST subset\n\n");
    md.append(
        String.format(
            "Data: train `%s` (%d images), validation `%s` (%d images), %d classes.%n%n",
            train.id(), train.size(), val.id(), val.size(), train.numClasses()));
    md.append(
        String.format(
            "Teacher (supervised, from scratch): val top-1 %.2f %%%n%n", 100 * teacher.valTop1()));
    md.append("Linear probe on frozen features (mean of final patch tokens):\n\n");
    md.append("| encoder | pretraining | probe train top-1 | probe val top-1 |\n");
    md.append("| --- | --- | ---: | ---: |\n");
    for (Row r : rows) {
      md.append(
          String.format(
              "| %s | %s | %.2f %% | %.2f %% |%n",
              r.model(), r.pretraining(), 100 * r.probeTrainTop1(), 100 * r.probeValTop1()));
    }
    md.append(
        String.format(
            "%nPretraining: DTM final loss %.4f, %.1f images/s; token-wise final loss %.4f, %.1f images/s.%n",
            runs.get(0).finalLoss(),
            runs.get(0).imagesPerSecond(),
            runs.get(1).finalLoss(),
            runs.get(1).imagesPerSecond()));
    md.append(String.format("Total time %.0f s.%n%n", seconds));
    md.append(
        "Curves: `pretrain-loss.png`, `teacher-val-top1.png`, and each run's `loss.png` / `lr.png`.\n");
    Path report = out.resolve("report.md");
    byte[] bytes = md.toString().getBytes(StandardCharsets.UTF_8);
    AtomicFiles.writeAtomically(report, o -> o.write(bytes));

    Map<String, Object> json = new LinkedHashMap<>();
    json.put("teacher_finetune_val_top1", teacher.valTop1());
    json.put("rows", rows);
    json.put("seconds", seconds);
    byte[] jsonBytes =
        new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsBytes(json);
    AtomicFiles.writeAtomically(out.resolve("demo-result.json"), o -> o.write(jsonBytes));
    return report;
  }

  private static void deleteTree(Path dir) throws IOException {
    if (!Files.exists(dir)) {
      return;
    }
    try (var walk = Files.walk(dir)) {
      for (Path p : walk.sorted(java.util.Comparator.reverseOrder()).toList()) {
        Files.delete(p);
      }
    }
  }

  private static double[][] series(Path metrics, String key) throws IOException {
    List<double[]> points = new ArrayList<>();
    for (Map<String, Object> r : MetricsLog.read(metrics)) {
      if (r.get(key) instanceof Number v && r.get("step") instanceof Number s) {
        points.add(new double[] {s.doubleValue(), v.doubleValue()});
      }
    }
    double[][] xy = new double[2][points.size()];
    for (int i = 0; i < points.size(); i++) {
      xy[0][i] = points.get(i)[0];
      xy[1][i] = points.get(i)[1];
    }
    return xy;
  }
}
