package org.dtmspark.core.train;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.Shape;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.function.IntPredicate;
import org.dtmspark.core.config.ConfigError;
import org.dtmspark.core.config.PretrainSettings;
import org.dtmspark.core.data.ImageDataset;
import org.dtmspark.core.data.ViewSampler;
import org.dtmspark.core.metrics.ProgressMeter;
import org.dtmspark.core.morph.DtmLoss;
import org.dtmspark.core.morph.MorphLevel;
import org.dtmspark.core.morph.MorphSchedule;
import org.dtmspark.core.morph.MorphScheduleSampler;
import org.dtmspark.core.nn.Tensors;
import org.dtmspark.core.nn.VisionTransformer;
import org.dtmspark.core.nn.VitConfig;
import org.dtmspark.core.optim.AdamW;
import org.dtmspark.core.optim.CosineSchedule;
import org.dtmspark.core.optim.FlatParameters;
import org.dtmspark.core.optim.ParameterGroups;
import org.dtmspark.core.precision.Autocast;
import org.dtmspark.core.precision.LossScaler;
import org.dtmspark.core.precision.Precision;
import org.dtmspark.core.teacher.TargetStore;
import org.dtmspark.core.teacher.Teacher;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * DTM pretraining: masked student, frozen teacher targets for the same unmasked view (from an
 * online teacher or replayed from a target cache), DTM loss, gradients summed over the
 * micro-batches of a step and averaged over the ranks of a data-parallel run, global-norm clipping,
 * AdamW with decay exclusion, warmup plus cosine; fp32 or mixed precision ({@code
 * pretrain.precision}, fp16 with a dynamic loss scale).
 *
 * <p>A single-JVM run ({@link #run(ImageDataset, Targets, Path, Optional)}) writes under its
 * directory {@code metrics.jsonl}, {@code loss.png}, {@code lr.png}, and checkpoints {@code
 * checkpoints/step-<n>} plus {@code checkpoints/last} (the final one). A rank of a data-parallel
 * run ({@link #run(ImageDataset, Targets, Replica, RunOutput, Optional)}) trains on its slice of
 * every global batch ({@link BatchPlan}) and publishes through the {@link RunOutput} it is given.
 */
public final class Pretrainer {
  private static final Logger LOG = LoggerFactory.getLogger(Pretrainer.class);

  private final PretrainSettings settings;

  public Pretrainer(PretrainSettings settings) {
    this.settings = settings;
  }

  /** Where the target tokens come from. */
  public sealed interface Targets permits Online, Cached {
    /** Identity for logs and provenance. */
    String id();

    /** Tokens per image, N. */
    int numTokens();

    /** Token dimension, P. */
    int dim();
  }

  /** A frozen teacher run on every batch. */
  public record Online(Teacher teacher) implements Targets {
    @Override
    public String id() {
      return teacher.id();
    }

    @Override
    public int numTokens() {
      return teacher.numTokens();
    }

    @Override
    public int dim() {
      return teacher.dim();
    }
  }

  /** Targets replayed from a cache: each image's stored view and tokens. */
  public record Cached(TargetStore store) implements Targets {
    @Override
    public String id() {
      return store.id();
    }

    @Override
    public int numTokens() {
      return store.numTokens();
    }

    @Override
    public int dim() {
      return store.dim();
    }
  }

  /**
   * This JVM's place in a data-parallel run.
   *
   * @param rank 0-based rank; rank 0 is the one whose output is published
   * @param worldSize number of ranks
   * @param reducer averages the gradients over the ranks
   * @param device where this rank trains (its GPU, or the CPU)
   */
  public record Replica(int rank, int worldSize, GradientReducer reducer, Device device) {
    /** The only rank of a single-JVM run, on DJL's default device. */
    public static final Replica SINGLE =
        new Replica(0, 1, GradientReducer.LOCAL, Engine.getInstance().defaultDevice());

    public Replica {
      if (worldSize < 1 || rank < 0 || rank >= worldSize) {
        throw new IllegalArgumentException(
            "Rank must be in [0, world size " + worldSize + "), cannot be: " + rank);
      }
    }
  }

  /**
   * What one rank's run did.
   *
   * @param stepsRun optimizer steps executed by this run (excluding steps before a resume)
   * @param finalStep global step reached
   * @param finalLoss loss of the last step, averaged over the ranks
   * @param meanLossLastEpoch mean loss over the last {@code min(stepsPerEpoch, stepsRun)} steps
   * @param imagesPerSecond training throughput of all ranks together
   * @param checkpoint where the final checkpoint was published (empty on ranks other than 0)
   */
  public record Outcome(
      long stepsRun,
      long finalStep,
      double finalLoss,
      double meanLossLastEpoch,
      double imagesPerSecond,
      String checkpoint) {}

  /** The student architecture for a teacher of dimension {@code teacherDim}. */
  public VitConfig studentConfig(int teacherDim) {
    return settings.model().toVitConfig(teacherDim, 0, 0.0);
  }

  /** The batch plan of a single-JVM run on {@code data} with {@code targets}. */
  public BatchPlan plan(ImageDataset data, Targets targets) {
    return plan(data, targets, Replica.SINGLE);
  }

  /**
   * The batch plan of {@code replica}: {@code train.batch-size} is the global batch of an optimizer
   * step, each rank takes {@code batch-size / ranks} (in {@code train.accum-steps} micro-batches);
   * the images are dealt to {@code pretrain.data.streams} streams.
   *
   * @throws ConfigError when the batch size is not a multiple of the number of ranks times the
   *     accumulation steps, or the streams are not a multiple of the ranks or a divisor of the
   *     batch size
   */
  public BatchPlan plan(ImageDataset data, Targets targets, Replica replica) {
    int batch = settings.train().batchSize();
    int ranks = replica.worldSize();
    int accum = settings.train().accumSteps();
    if (batch % (ranks * accum) != 0) {
      throw new ConfigError(
          "pretrain.train.batch-size must be a multiple of the number of ranks ("
              + ranks
              + ") times pretrain.train.accum-steps ("
              + accum
              + "), cannot be: "
              + batch);
    }
    int streams = settings.data().streamsFor(ranks);
    IntPredicate keep = targets instanceof Cached c ? c.store()::has : i -> true;
    return BatchPlan.of(data.blocks(), keep, batch / ranks, settings.seed())
        .forRank(batch / ranks, replica.rank(), ranks, streams);
  }

  /**
   * Trains with an online teacher in this JVM; see {@link #run(ImageDataset, Targets, Path,
   * Optional)}.
   */
  public PretrainResult run(
      ImageDataset data, Teacher teacher, Path outDir, Optional<Path> resumeFrom)
      throws IOException {
    return run(data, new Online(teacher), outDir, resumeFrom);
  }

  /**
   * Trains in this JVM, writing the run directory {@code outDir}.
   *
   * @param resumeFrom checkpoint to continue from (model, optimizer, step), if any
   */
  public PretrainResult run(
      ImageDataset data, Targets targets, Path outDir, Optional<Path> resumeFrom)
      throws IOException {
    LocalRunOutput output = new LocalRunOutput(outDir);
    Outcome outcome;
    try (output) {
      outcome = run(data, targets, Replica.SINGLE, output, resumeFrom);
    }
    return new PretrainResult(
        outcome.stepsRun(),
        outcome.finalStep(),
        outcome.finalLoss(),
        outcome.meanLossLastEpoch(),
        outcome.imagesPerSecond(),
        output.checkpointPath("last"),
        output.metricsPath());
  }

  /**
   * Trains as one rank of a data-parallel run (or the only one).
   *
   * @param data training images, the same on every rank
   * @param targets the teacher, or the cache, whose token count must match the student's patches
   * @param replica this rank and how gradients are averaged
   * @param output where metrics and checkpoints go; {@link RunOutput#NONE} on ranks other than 0
   * @param resumeFrom local checkpoint to continue from (model, optimizer, step), if any
   */
  public Outcome run(
      ImageDataset data,
      Targets targets,
      Replica replica,
      RunOutput output,
      Optional<Path> resumeFrom)
      throws IOException {
    VitConfig config = studentConfig(targets.dim());
    checkTargets(targets, config);
    var train = settings.train();
    BatchPlan plan = plan(data, targets, replica);
    long stepsPerEpoch = plan.stepsPerEpoch();
    long totalSteps = stepsPerEpoch * train.epochs();
    long endStep = train.endStep(stepsPerEpoch);
    int globalBatch = plan.globalBatch();
    CosineSchedule lrSchedule = settings.optim().schedule(globalBatch, stepsPerEpoch, totalSteps);
    MorphScheduleSampler morphSampler = settings.morph().sampler(config.numPatches());
    DtmLoss loss = new DtmLoss(settings.morph().lossConfig());
    ViewSampler views = new ViewSampler(settings.augment().toAugmentConfig(config.imageSize()));
    var masks = settings.masking().generator(config.gridSize());
    int numMasked = settings.masking().count(config.numPatches());
    TargetStore store = targets instanceof Cached c ? c.store() : null;
    Teacher teacher = targets instanceof Online o ? o.teacher() : null;
    Precision precision = settings.precisionOn(replica.device());
    if (precision.mixed()) {
      Autocast.ensureAvailable();
    }

    try (NDManager manager = NDManager.newBaseManager(replica.device())) {
      ModelCheckpoints.Loaded loaded =
          resumeFrom.map(p -> ModelCheckpoints.load(p, manager)).orElse(null);
      VisionTransformer student =
          loaded != null
              ? loaded.model()
              : VisionTransformer.initialize(
                  config, manager, Seeds.derive(settings.seed(), "init"));
      if (!student.config().equals(config)) {
        throw new ConfigError(
            "Checkpoint "
                + resumeFrom.orElseThrow()
                + " holds model "
                + student.config()
                + " but the configuration asks for "
                + config);
      }
      if (loaded != null && ModelCheckpoints.streams(loaded.meta()) != plan.streams()) {
        int saved = ModelCheckpoints.streams(loaded.meta());
        throw new ConfigError(
            "Checkpoint "
                + resumeFrom.orElseThrow()
                + (saved < 0
                    ? " records no data streams (written before pretrain.data.streams existed)"
                    : " was trained with pretrain.data.streams = " + saved)
                + "; this run deals the data to "
                + plan.streams()
                + " streams: resume with the same number of streams (and ranks dividing it)");
      }
      long startStep = loaded != null ? loaded.step() : 0;
      var params = student.parameters();
      ParameterGroups groups =
          ParameterGroups.of(
              params,
              config.depth(),
              settings.optim().layerDecay(),
              settings.optim().noDecayRule());
      LossScaler scaler = settings.lossScale().scaler(precision);
      try (FlatParameters flat = FlatParameters.of(params);
          AdamW optimizer = new AdamW(settings.optim().adamW(), groups, flat);
          GradientUpdate update =
              new GradientUpdate(
                  flat, optimizer, scaler, settings.optim().clipGrad(), replica.reducer());
          BatchLoader loader =
              new BatchLoader(
                  data,
                  plan,
                  views,
                  masks,
                  store,
                  config.imageSize(),
                  null,
                  startStep,
                  endStep,
                  2,
                  loaderThreads())) {
        if (loaded != null) {
          loaded.restoreOptimizer(optimizer);
          if (!loaded.restoreScaler(scaler) && scaler.enabled()) {
            LOG.info(
                "Checkpoint {} has no loss scale; starting at {}",
                resumeFrom.orElseThrow(),
                scaler.scale());
          }
        }
        replica.reducer().prepare(flat.shapes());
        DtmStep dtmStep = new DtmStep(student, update, loss, train.accumSteps(), precision);
        LOG.info(
            "Pretraining {} ({} parameters) from {} on {} ({} images){}: {} steps of batch {}"
                + " ({} per epoch, {} micro-batches per step), {}, masking {} of {} patches,"
                + " morphing {}",
            config.name(),
            params.numel(),
            store != null ? "cached targets " + targets.id() : "teacher " + targets.id(),
            data.id(),
            plan.size(),
            replica.worldSize() > 1
                ? " as rank " + replica.rank() + " of " + replica.worldSize()
                : "",
            endStep - startStep,
            globalBatch,
            stepsPerEpoch,
            train.accumSteps(),
            precision.configName(),
            numMasked,
            config.numPatches(),
            settings.morph().enabled() ? "on" : "off (token-wise)");
        output.started(startStep, endStep);
        ProgressMeter progress =
            new ProgressMeter(
                "pretrain steps" + (startStep > 0 ? " after step " + startStep : ""),
                endStep - startStep,
                LOG,
                Duration.ofSeconds(10));
        ArrayDeque<Double> recent = new ArrayDeque<>();
        double lastLoss = Double.NaN;
        long started = System.nanoTime();
        for (long step = startStep; step < endStep; step++) {
          Batch b = loader.next();
          double lr = lrSchedule.at(step);
          long stepStarted = System.nanoTime();
          DtmStep.Stats stats = trainStep(student, teacher, dtmStep, morphSampler, b, lr);
          double stepSeconds = (System.nanoTime() - stepStarted) / 1e9;
          lastLoss = stats.loss();
          recent.addLast(lastLoss);
          if (recent.size() > stepsPerEpoch) {
            recent.removeFirst();
          }
          long done = step + 1;
          if (done % train.logEverySteps() == 0 || done == endStep) {
            Map<String, Object> record = new LinkedHashMap<>();
            record.put("step", done);
            record.put("epoch", (double) done / stepsPerEpoch);
            record.put("loss", stats.loss());
            record.put("lr", lr);
            record.put("grad_norm", stats.gradNorm());
            record.put(
                "levels", stats.schedule().levels().stream().map(MorphLevel::toString).toList());
            record.put("step_seconds", stepSeconds);
            record.put("allreduce_seconds", stats.communicationSeconds());
            record.put("loss_scale", stats.lossScale());
            record.put("skipped_steps", scaler.skippedSteps());
            record.put(
                "images_per_second",
                (done - startStep) * (double) globalBatch / elapsedSeconds(started));
            output.metrics(record);
          }
          if (b.read() != null) {
            output.dataRead(replica.rank(), b.read());
          }
          progress.update(done - startStep, Map.of("loss", String.format("%.4f", stats.loss())));
          if (train.checkpointEverySteps() > 0
              && done % train.checkpointEverySteps() == 0
              && done < endStep) {
            saveCheckpoint(output, "step-" + done, student, update, done, plan, data);
          }
        }
        progress.finish();
        double seconds = elapsedSeconds(started);
        String last = saveCheckpoint(output, "last", student, update, endStep, plan, data);
        double mean = recent.stream().mapToDouble(Double::doubleValue).average().orElse(Double.NaN);
        long run = endStep - startStep;
        return new Outcome(run, endStep, lastLoss, mean, run * globalBatch / seconds, last);
      }
    }
  }

  /**
   * {@code pretrain.data.loader-threads}, by default this JVM's CPUs less libtorch's intra-op
   * threads ({@code ai.djl.pytorch.num_threads} when set, else one per CPU), at least 1.
   */
  int loaderThreads() {
    int cpus = Runtime.getRuntime().availableProcessors();
    int intraOp = Integer.getInteger("ai.djl.pytorch.num_threads", cpus);
    return settings.data().loaderThreadsFor(cpus, intraOp);
  }

  private static double elapsedSeconds(long startedNanos) {
    return Math.max((System.nanoTime() - startedNanos) / 1e9, 1e-9);
  }

  private String saveCheckpoint(
      RunOutput output,
      String name,
      VisionTransformer student,
      GradientUpdate update,
      long step,
      BatchPlan plan,
      ImageDataset data)
      throws IOException {
    return output.checkpoint(
        name,
        dir ->
            ModelCheckpoints.save(
                dir,
                student,
                update.optimizer(),
                update.scaler(),
                step,
                plan.stepsPerEpoch(),
                plan.streams(),
                settings,
                data.id(),
                "dtm-student"));
  }

  private static void checkTargets(Targets targets, VitConfig config) {
    if (targets instanceof Online o
        && (o.teacher().numTokens() != config.numPatches()
            || o.teacher().imageSize() != config.imageSize())) {
      throw new ConfigError(
          "Teacher "
              + o.teacher().id()
              + " gives "
              + o.teacher().numTokens()
              + " tokens at "
              + o.teacher().imageSize()
              + " px but the student has "
              + config.numPatches()
              + " patches at "
              + config.imageSize()
              + " px (model.image-size, model.patch-size)");
    }
    if (targets.numTokens() != config.numPatches()) {
      throw new ConfigError(
          "Targets "
              + targets.id()
              + " have "
              + targets.numTokens()
              + " tokens per image but the student has "
              + config.numPatches()
              + " patches at "
              + config.imageSize()
              + " px (model.image-size, model.patch-size)");
    }
  }

  private DtmStep.Stats trainStep(
      VisionTransformer student,
      Teacher teacher,
      DtmStep step,
      MorphScheduleSampler morphSampler,
      Batch b,
      double lr) {
    VitConfig config = student.config();
    int s = config.imageSize();
    MorphSchedule schedule =
        settings.morph().enabled()
            ? morphSampler.sample(Seeds.rng(settings.seed(), "morph", b.step()))
            : MorphSchedule.tokenWise(settings.morph().levels());
    try (NDScope scope = new NDScope();
        NDManager m = student.parameters().manager().getParentManager().newSubManager()) {
      scope.suppressNotUsedWarning();
      NDArray pixels = Tensors.pixelsFromHost(m, b.pixels(), new Shape(b.size(), 3, s, s));
      NDArray mask = Tensors.fromHost(m, b.mask(), new Shape(b.size(), config.numPatches()));
      NDArray targets =
          b.targets() != null
              ? Tensors.fromHost(
                  m, b.targets(), new Shape(b.size(), config.numPatches(), config.tokenHeadDim()))
              : teacher.targets(pixels);
      return step.run(pixels, mask, targets, schedule, lr);
    }
  }
}
