package org.dtmspark.core.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.Shape;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import org.dtmspark.core.config.ConfigError;
import org.dtmspark.core.config.PretrainSettings;
import org.dtmspark.core.data.ImageDataset;
import org.dtmspark.core.data.ViewSampler;
import org.dtmspark.core.metrics.CurvePlot;
import org.dtmspark.core.metrics.MetricsLog;
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
import org.dtmspark.core.optim.ParameterGroups;
import org.dtmspark.core.teacher.Teacher;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Single-JVM DTM pretraining with an online teacher: masked student, frozen teacher on the same
 * unmasked view, DTM loss, AdamW with decay exclusion, global-norm clipping, warmup plus cosine.
 *
 * <p>Writes under {@code outDir}: {@code metrics.jsonl}, {@code loss.png}, {@code lr.png}, and
 * checkpoints {@code checkpoints/step-<n>} plus {@code checkpoints/last} (the final one).
 */
public final class Pretrainer {
  private static final Logger LOG = LoggerFactory.getLogger(Pretrainer.class);

  private final PretrainSettings settings;

  public Pretrainer(PretrainSettings settings) {
    this.settings = settings;
  }

  /** The student architecture for a teacher of dimension {@code teacherDim}. */
  public VitConfig studentConfig(int teacherDim) {
    return settings.model().toVitConfig(teacherDim, 0, 0.0);
  }

  /**
   * Trains.
   *
   * @param data training images
   * @param teacher the frozen teacher; its token count and resolution must match the student's
   * @param outDir run directory (created)
   * @param resumeFrom checkpoint to continue from (model, optimizer, step), if any
   */
  public PretrainResult run(
      ImageDataset data, Teacher teacher, Path outDir, Optional<Path> resumeFrom)
      throws IOException {
    VitConfig config = studentConfig(teacher.dim());
    if (teacher.numTokens() != config.numPatches() || teacher.imageSize() != config.imageSize()) {
      throw new ConfigError(
          "Teacher "
              + teacher.id()
              + " gives "
              + teacher.numTokens()
              + " tokens at "
              + teacher.imageSize()
              + " px but the student has "
              + config.numPatches()
              + " patches at "
              + config.imageSize()
              + " px (model.image-size, model.patch-size)");
    }
    var train = settings.train();
    long stepsPerEpoch = train.stepsPerEpoch(data.size());
    long totalSteps = stepsPerEpoch * train.epochs();
    long endStep = train.stepsToRun(data.size());
    int batch = train.batchSize();
    CosineSchedule lrSchedule = settings.optim().schedule(batch, stepsPerEpoch, totalSteps);
    MorphScheduleSampler morphSampler = settings.morph().sampler(config.numPatches());
    DtmLoss loss = new DtmLoss(settings.morph().lossConfig());
    ViewSampler views = new ViewSampler(settings.augment().toAugmentConfig(config.imageSize()));
    var masks = settings.masking().generator(config.gridSize());
    int numMasked = settings.masking().count(config.numPatches());
    Files.createDirectories(outDir);
    Path metricsPath = outDir.resolve("metrics.jsonl");
    Path checkpoints = outDir.resolve("checkpoints");

    try (NDManager manager = NDManager.newBaseManager()) {
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
      long startStep = loaded != null ? loaded.step() : 0;
      var params = student.parameters();
      ParameterGroups groups =
          ParameterGroups.of(params, config.depth(), settings.optim().layerDecay());
      try (AdamW optimizer = new AdamW(settings.optim().adamW(), groups, manager);
          MetricsLog metrics = new MetricsLog(metricsPath);
          BatchLoader loader =
              new BatchLoader(
                  data,
                  views,
                  masks,
                  batch,
                  config.imageSize(),
                  settings.seed(),
                  stepsPerEpoch,
                  startStep,
                  endStep,
                  2)) {
        if (loaded != null) {
          loaded.restoreOptimizer(optimizer);
        }
        params.requireGradients();
        DtmStep dtmStep = new DtmStep(student, optimizer, loss, settings.optim().clipGrad());
        LOG.info(
            "Pretraining {} ({} parameters) from teacher {} on {} ({} images): {} steps of batch {}"
                + " ({} per epoch), masking {} of {} patches, morphing {}",
            config.name(),
            params.numel(),
            teacher.id(),
            data.id(),
            data.size(),
            endStep - startStep,
            batch,
            stepsPerEpoch,
            numMasked,
            config.numPatches(),
            settings.morph().enabled() ? "on" : "off (token-wise)");
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
          DtmStep.Stats stats = trainStep(student, teacher, dtmStep, morphSampler, b, lr);
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
            metrics.log(record);
          }
          progress.update(done - startStep, Map.of("loss", String.format("%.4f", stats.loss())));
          if (train.checkpointEverySteps() > 0
              && done % train.checkpointEverySteps() == 0
              && done < endStep) {
            ModelCheckpoints.save(
                checkpoints.resolve("step-" + done),
                student,
                optimizer,
                done,
                stepsPerEpoch,
                settings,
                data.id(),
                "dtm-student");
          }
        }
        progress.finish();
        double seconds = (System.nanoTime() - started) / 1e9;
        Path last = checkpoints.resolve("last");
        ModelCheckpoints.save(
            last, student, optimizer, endStep, stepsPerEpoch, settings, data.id(), "dtm-student");
        metrics.close();
        CurvePlot.renderTrainingCurves(metricsPath, outDir);
        double mean = recent.stream().mapToDouble(Double::doubleValue).average().orElse(Double.NaN);
        long run = endStep - startStep;
        return new PretrainResult(
            run, endStep, lastLoss, mean, run * batch / Math.max(seconds, 1e-9), last, metricsPath);
      }
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
      NDArray pixels = Tensors.fromHost(m, b.pixels(), new Shape(b.size(), 3, s, s));
      NDArray mask = Tensors.fromHost(m, b.mask(), new Shape(b.size(), config.numPatches()));
      NDArray targets = teacher.targets(pixels);
      return step.run(pixels, mask, targets, schedule, lr);
    }
  }
}
