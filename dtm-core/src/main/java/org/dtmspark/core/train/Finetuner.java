package org.dtmspark.core.train;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.SplittableRandom;
import org.dtmspark.core.config.ConfigError;
import org.dtmspark.core.config.FinetuneSettings;
import org.dtmspark.core.data.AugmentConfig;
import org.dtmspark.core.data.ImageDataset;
import org.dtmspark.core.data.ImageNormalization;
import org.dtmspark.core.data.LoaderPool;
import org.dtmspark.core.data.RandAugment;
import org.dtmspark.core.data.RandomErasing;
import org.dtmspark.core.data.ViewSampler;
import org.dtmspark.core.eval.Evaluation;
import org.dtmspark.core.metrics.CurvePlot;
import org.dtmspark.core.metrics.MetricsLog;
import org.dtmspark.core.metrics.ProgressMeter;
import org.dtmspark.core.nn.Parameters;
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
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Supervised fine-tuning of a ViT classifier, paper Table 13 and the reference's {@code
 * run_class_finetuning.py}: AdamW with layer-wise learning-rate decay, warmup plus cosine,
 * stochastic depth; per image random resized crop, flip, RandAugment ({@link RandAugment}, colour
 * jitter off while it is on, as timm) and random erasing ({@link RandomErasing}), each seeded by
 * the step and the image's position; per step Mixup/CutMix ({@link MixupCutmix}) with label
 * smoothing inside the soft targets and soft-target cross-entropy. The classifier pools the patch
 * tokens and applies {@code fc_norm} instead of the final norm, so its checkpoint is a timm {@code
 * Beit(global_pool='avg')} state dict. Validation uses resize and centre crop ({@link
 * Evaluation#centerCropView}). Starts from a pretrained checkpoint's encoder or from scratch.
 */
public final class Finetuner {
  private static final Logger LOG = LoggerFactory.getLogger(Finetuner.class);

  private final FinetuneSettings settings;

  public Finetuner(FinetuneSettings settings) {
    this.settings = settings;
  }

  /**
   * Fine-tunes.
   *
   * @param pretrained checkpoint whose encoder initialises the model; empty for from scratch
   */
  public FinetuneResult run(
      ImageDataset train, ImageDataset val, Optional<Path> pretrained, Path outDir)
      throws IOException {
    int classes = settings.numClasses() > 0 ? settings.numClasses() : train.numClasses();
    VitConfig config = settings.model().toVitConfig(0, classes, settings.dropPath());
    var t = settings.train();
    int batch = t.batchSize();
    BatchPlan plan = BatchPlan.of(train.blocks(), i -> true, batch, settings.seed());
    long stepsPerEpoch = plan.stepsPerEpoch();
    long totalSteps = stepsPerEpoch * t.epochs();
    long endStep = t.endStep(stepsPerEpoch);
    CosineSchedule lrSchedule = settings.optim().schedule(batch, stepsPerEpoch, totalSteps);
    ViewSampler views = new ViewSampler(viewConfig(settings, config.imageSize()));
    PixelAugmentation augmentation = pixelAugmentation(settings);
    MixupCutmix mixup = new MixupCutmix(settings.mixup());
    Files.createDirectories(outDir);
    Path metricsPath = outDir.resolve("metrics.jsonl");
    try (NDManager manager = NDManager.newBaseManager()) {
      VisionTransformer model =
          VisionTransformer.initialize(config, manager, Seeds.derive(settings.seed(), "init"));
      pretrained.ifPresent(p -> loadEncoder(model, p, manager));
      Parameters params = model.parameters();
      ParameterGroups groups =
          ParameterGroups.of(
              params,
              config.depth(),
              settings.optim().layerDecay(),
              settings.optim().noDecayRule());
      double valTop1 = Double.NaN;
      double lastLoss = Double.NaN;
      Precision precision = settings.precisionOn(manager.getDevice());
      if (precision.mixed()) {
        Autocast.ensureAvailable();
      }
      try (FlatParameters flat = FlatParameters.of(params);
          AdamW optimizer = new AdamW(settings.optim().adamW(), groups, flat);
          GradientUpdate update =
              new GradientUpdate(
                  flat,
                  optimizer,
                  LossScaler.forPrecision(precision),
                  settings.optim().clipGrad(),
                  GradientReducer.LOCAL);
          MetricsLog metrics = new MetricsLog(metricsPath);
          BatchLoader loader =
              new BatchLoader(
                  train,
                  plan,
                  views,
                  null,
                  null,
                  config.imageSize(),
                  augmentation,
                  0,
                  endStep,
                  2,
                  LoaderPool.defaultThreadsForThisJvm())) {
        LOG.info(
            "Fine-tuning {} ({} parameters, {} classes) on {} ({} images), {}: {} steps of batch {}",
            config.name(),
            params.numel(),
            classes,
            train.id(),
            train.size(),
            pretrained.map(p -> "from " + p).orElse("from scratch"),
            endStep,
            batch);
        LOG.info(
            "Fine-tuning recipe: peak lr {} ({} rule), RandAugment {}, random erasing {}, mixup {},"
                + " label smoothing {}, weight decay {} ({} rule), {}",
            settings.optim().peakLr(batch),
            settings.optim().lrRule(),
            settings.randAugment() == null ? "off" : settings.randAugment(),
            settings.erasing(),
            settings.mixup(),
            settings.labelSmoothing(),
            settings.optim().weightDecay(),
            settings.optim().noDecayRule(),
            groups.summary());
        ProgressMeter progress =
            new ProgressMeter("finetune steps", endStep, LOG, Duration.ofSeconds(10));
        for (long step = 0; step < endStep; step++) {
          Batch b = loader.next();
          double lr = lrSchedule.at(step);
          GradientUpdate.Result result =
              trainStep(model, update, precision, mixup, classes, b, lr, step);
          lastLoss = result.loss();
          long done = step + 1;
          boolean epochEnd = done % stepsPerEpoch == 0 || done == endStep;
          if (epochEnd) {
            valTop1 =
                Evaluation.top1(
                    model, val, batch, ImageNormalization.IMAGENET, settings.evalCropRatio());
          }
          if (done % t.logEverySteps() == 0 || epochEnd) {
            Map<String, Object> record = new LinkedHashMap<>();
            record.put("step", done);
            record.put("epoch", (double) done / stepsPerEpoch);
            record.put("loss", lastLoss);
            record.put("lr", lr);
            record.put("grad_norm", result.gradNorm());
            record.put("loss_scale", result.lossScale());
            record.put("skipped_steps", update.scaler().skippedSteps());
            if (epochEnd) {
              record.put("val_top1", valTop1);
            }
            metrics.log(record);
          }
          progress.update(done, Map.of("loss", String.format("%.4f", lastLoss)));
        }
        progress.finish();
        Path last = outDir.resolve("checkpoints").resolve("last");
        ModelCheckpoints.save(
            last,
            model,
            optimizer,
            update.scaler(),
            endStep,
            stepsPerEpoch,
            1, // one stream: fine-tuning runs on one rank
            settings,
            train.id(),
            "classifier");
        metrics.close();
        CurvePlot.renderTrainingCurves(metricsPath, outDir);
        return new FinetuneResult(endStep, lastLoss, valTop1, last, metricsPath);
      }
    }
  }

  /** Copies every encoder tensor of the checkpoint; the heads stay freshly initialised. */
  static void loadEncoder(VisionTransformer model, Path checkpoint, NDManager manager) {
    try (NDManager scratch = manager.newSubManager()) {
      ModelCheckpoints.Loaded loaded = ModelCheckpoints.load(checkpoint, scratch);
      VitConfig source = loaded.model().config();
      VitConfig target = model.config();
      if (source.embedDim() != target.embedDim()
          || source.depth() != target.depth()
          || source.numHeads() != target.numHeads()
          || source.patchSize() != target.patchSize()
          || source.imageSize() != target.imageSize()) {
        throw new ConfigError(
            "Checkpoint "
                + checkpoint
                + " holds encoder "
                + source
                + " which does not match the configured model "
                + target);
      }
      Parameters from = loaded.model().parameters();
      Parameters to = model.parameters();
      int copied = 0;
      for (Map.Entry<String, NDArray> e : from.asMap().entrySet()) {
        String name = e.getKey();
        if (isHead(name) || !to.contains(name)) {
          continue;
        }
        to.replace(name, e.getValue().duplicate());
        copied++;
      }
      if (from.contains(SHARED_TABLE) && !to.contains(SHARED_TABLE) && target.relPosBias()) {
        // Fine-tuning without the shared bias (paper Table 13): fold it into every block's table,
        // which leaves the function the encoder computes unchanged.
        NDArray shared = from.get(SHARED_TABLE);
        for (int i = 0; i < target.depth(); i++) {
          String name = "blocks." + i + ".attn.relative_position_bias_table";
          to.replace(name, to.get(name).add(shared));
        }
        LOG.info(
            "Folded the shared relative position bias into the {} block tables", target.depth());
      }
      LOG.info("Initialised {} encoder tensors from {}", copied, checkpoint);
    }
  }

  private static final String SHARED_TABLE = "rel_pos_bias.relative_position_bias_table";

  private static boolean isHead(String name) {
    return name.startsWith("lm_head.") || name.startsWith("head.") || name.startsWith("fc_norm.");
  }

  /**
   * The view sampler's settings: the {@code augment} section, with colour jitter off when
   * RandAugment is on (timm's {@code create_transform} ignores {@code color_jitter} then).
   */
  static AugmentConfig viewConfig(FinetuneSettings settings, int size) {
    AugmentConfig c = settings.augment().toAugmentConfig(size);
    if (settings.randAugment() == null) {
      return c;
    }
    return new AugmentConfig(
        c.size(),
        c.minScale(),
        c.maxScale(),
        c.minRatio(),
        c.maxRatio(),
        c.flipProbability(),
        0,
        0,
        0);
  }

  /**
   * RandAugment (on the 8-bit image, fill colour the ImageNet mean) then random erasing (in
   * normalised units), each from its own split of the image's generator; null when both are off.
   */
  static PixelAugmentation pixelAugmentation(FinetuneSettings settings) {
    RandAugment randAugment =
        settings.randAugment() == null
            ? null
            : new RandAugment(
                settings.randAugment(), RandAugment.fillFor(ImageNormalization.IMAGENET));
    RandomErasing erasing =
        settings.erasing().probability() > 0
            ? new RandomErasing(
                settings.erasing().probability(),
                RandomErasing.Mode.named(settings.erasing().mode()),
                settings.erasing().count())
            : null;
    if (randAugment == null && erasing == null) {
      return null;
    }
    return (pixels, offset, size, rng) -> {
      SplittableRandom raRng = rng.split();
      SplittableRandom eraseRng = rng.split();
      if (randAugment != null) {
        randAugment.apply(pixels, offset, size, size, raRng);
      }
      return erasing != null ? erasing.draw(size, size, eraseRng) : RandomErasing.Erasure.NONE;
    };
  }

  /**
   * One optimizer step: Mixup/CutMix on the normalised (and erased) batch, then {@code
   * finetune.train.accum-steps} micro-batches (equal slices of the batch), each forward under
   * autocast in mixed precision with the soft-target cross-entropy in fp32, and a backward of its
   * loss times the loss scale over the number of micro-batches; then the update.
   */
  private GradientUpdate.Result trainStep(
      VisionTransformer model,
      GradientUpdate update,
      Precision precision,
      MixupCutmix mixup,
      int classes,
      Batch b,
      double lr,
      long step) {
    int s = model.config().imageSize();
    int accum = settings.train().accumSteps();
    if (b.size() % accum != 0) {
      throw new ConfigError(
          "finetune.train.batch-size ("
              + b.size()
              + ") must be a multiple of finetune.train.accum-steps ("
              + accum
              + ")");
    }
    try (NDScope scope = new NDScope();
        NDManager m = model.parameters().manager().getParentManager().newSubManager()) {
      scope.suppressNotUsedWarning();
      NDArray images =
          ImageNormalization.IMAGENET.apply(
              Tensors.pixelsFromHost(m, b.pixels(), new Shape(b.size(), 3, s, s)));
      if (b.erased() != null) {
        images = b.erased().applyTo(images); // [B, 3, S, S], erased pixels in normalised units
      }
      NDArray labels = Tensors.fromHost(m, b.labels(), new Shape(b.size()));
      MixupCutmix.Mix mix = mixup.sample(Seeds.rng(settings.seed(), "mixup", step), s);
      images = MixupCutmix.mixImages(m, images, mix); // [B, 3, S, S]
      NDArray targets =
          MixupCutmix.mixTargets(labels, classes, settings.labelSmoothing(), mix); // [B, K]
      NDList xs = accum == 1 ? new NDList(images) : images.split(accum);
      NDList ys = accum == 1 ? new NDList(targets) : targets.split(accum);
      NDArray float32Zero = m.zeros(new Shape(1), DataType.FLOAT32);
      SplittableRandom dropRng = Seeds.rng(settings.seed(), "drop-path", step);
      double lossSum = 0;
      for (int i = 0; i < accum; i++) {
        NDArray loss;
        try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
          update.parameters().bindViews();
          NDArray logits;
          try (Autocast autocast =
              precision.mixed() ? Autocast.open(m.getDevice(), precision) : null) {
            logits = model.classify(model.forwardFeatures(xs.get(i), null, true, dropRng));
          }
          if (logits.getDataType() != DataType.FLOAT32) {
            logits = logits.add(float32Zero); // differentiable promotion to fp32
          }
          loss = MixupCutmix.softTargetCrossEntropy(logits, ys.get(i)); // [B/k, K] soft targets
          gc.backward(loss.mul(update.lossFactor(accum)));
        }
        lossSum += loss.getFloat();
      }
      return update.apply(lossSum / accum, lr, "fine-tuning step " + step);
    }
  }
}
