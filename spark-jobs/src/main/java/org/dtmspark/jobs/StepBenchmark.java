package org.dtmspark.jobs;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.Shape;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.dtmspark.core.data.BlockMaskGenerator;
import org.dtmspark.core.data.ImageNormalization;
import org.dtmspark.core.morph.DtmLoss;
import org.dtmspark.core.morph.DtmLossConfig;
import org.dtmspark.core.morph.MorphSchedule;
import org.dtmspark.core.morph.MorphScheduleSampler;
import org.dtmspark.core.nn.Tensors;
import org.dtmspark.core.nn.VisionTransformer;
import org.dtmspark.core.nn.VitConfig;
import org.dtmspark.core.nn.VitFlops;
import org.dtmspark.core.optim.AdamW;
import org.dtmspark.core.optim.AdamWConfig;
import org.dtmspark.core.optim.FlatParameters;
import org.dtmspark.core.optim.ParameterGroups;
import org.dtmspark.core.precision.LossScaler;
import org.dtmspark.core.precision.Precision;
import org.dtmspark.core.teacher.Teacher;
import org.dtmspark.core.teacher.VitTeacher;
import org.dtmspark.core.train.DtmStep;
import org.dtmspark.core.train.GradientReducer;
import org.dtmspark.core.train.GradientUpdate;
import org.dtmspark.core.train.Seeds;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Times the pretraining step with DTM against the token-wise baseline on the same model, batch and
 * targets, interleaving the two so that drift on a shared machine hits both alike, and measures the
 * machine's fp32 matrix-product rate through the same library in the same run.
 *
 * <p>Targets are fixed random tokens, as when training from a target cache: the teacher's forward,
 * identical in both variants, is left out, which makes the DTM share an upper bound.
 */
public final class StepBenchmark {
  private static final Logger LOG = LoggerFactory.getLogger(StepBenchmark.class);

  /**
   * Benchmark parameters.
   *
   * @param config student architecture (its token head width is the target dimension)
   * @param batch images per step
   * @param warmup untimed steps per variant
   * @param steps timed steps per variant
   * @param matmulSize side of the square matrices of the roofline product
   * @param teacher architecture of a random-weight online teacher run inside every timed step (its
   *     token head gives the targets), or null for fixed targets as from a cache
   */
  public record Plan(
      VitConfig config, int batch, int warmup, int steps, int matmulSize, VitConfig teacher) {}

  /**
   * Measured medians.
   *
   * @param dtmSeconds median step time with DTM (default 2-level schedule)
   * @param tokenWiseSeconds median step time token-wise
   * @param overhead {@code dtmSeconds / tokenWiseSeconds - 1}
   * @param imagesPerSecond token-wise throughput
   * @param trainingFlops counted FLOPs of one token-wise step
   * @param achievedFlops {@code trainingFlops / tokenWiseSeconds}
   * @param rooflineFlops median fp32 matrix-product rate, before and after the steps
   */
  public record Result(
      Plan plan,
      double dtmSeconds,
      double tokenWiseSeconds,
      double overhead,
      double imagesPerSecond,
      double trainingFlops,
      double achievedFlops,
      double rooflineFlops,
      List<Double> dtmSamples,
      List<Double> tokenWiseSamples,
      List<Double> rooflineSamples,
      List<Double> cachedDtmSamples) {
    /** Median DTM step with fixed (cached) targets, timed beside the online steps; NaN without. */
    public double cachedDtmSeconds() {
      return cachedDtmSamples.isEmpty() ? Double.NaN : median(cachedDtmSamples);
    }

    public double rooflineFraction() {
      return achievedFlops / rooflineFlops;
    }

    /** A markdown table row: model, batch, step times, overhead, images/s, GFLOP/s, fraction. */
    public String markdownRow() {
      return String.format(
          "| %s %d/%d | %s | %d | %.3f s | %.3f s | %+.1f %% | %.1f | %.1f | %.1f | %.0f %% |",
          plan.config().name(),
          plan.config().imageSize(),
          plan.config().patchSize(),
          plan.teacher() == null ? "cached" : "online " + plan.teacher().name(),
          plan.batch(),
          dtmSeconds,
          tokenWiseSeconds,
          100 * overhead,
          imagesPerSecond,
          achievedFlops / 1e9,
          rooflineFlops / 1e9,
          100 * rooflineFraction());
    }
  }

  private StepBenchmark() {}

  /** Runs the plan. */
  public static Result run(Plan plan) {
    VitConfig config = plan.config();
    List<Double> roofline = new ArrayList<>(matmulRates(plan.matmulSize(), 5));
    List<Double> dtm = new ArrayList<>();
    List<Double> tokenWise = new ArrayList<>();
    List<Double> cachedDtm = new ArrayList<>();
    try (NDManager manager = NDManager.newBaseManager()) {
      VisionTransformer student = VisionTransformer.initialize(config, manager, 1);
      ParameterGroups groups = ParameterGroups.of(student.parameters(), config.depth(), 1.0);
      try (FlatParameters flat = FlatParameters.of(student.parameters());
          AdamW adamW = new AdamW(AdamWConfig.PRETRAIN, groups, flat);
          GradientUpdate update =
              new GradientUpdate(
                  flat,
                  adamW,
                  LossScaler.forPrecision(Precision.FP32),
                  3.0,
                  GradientReducer.LOCAL);
          Teacher teacher = onlineTeacher(plan, manager)) {
        DtmStep step =
            new DtmStep(student, update, new DtmLoss(DtmLossConfig.DEFAULT), 1, Precision.FP32);
        MorphScheduleSampler sampler = MorphScheduleSampler.withDefaults(config.numPatches());
        BlockMaskGenerator masks =
            BlockMaskGenerator.forRatio(config.gridSize(), config.gridSize(), 75.0 / 196);
        int b = plan.batch();
        int s = config.imageSize();
        SplittableRandom rng = new SplittableRandom(7);
        float[] pixels = new float[b * 3 * s * s];
        for (int i = 0; i < pixels.length; i++) {
          pixels[i] = (float) rng.nextDouble();
        }
        float[] targets = new float[b * config.numPatches() * config.tokenHeadDim()];
        for (int i = 0; i < targets.length; i++) {
          targets[i] = (float) rng.nextGaussian();
        }
        for (int i = 0; i < plan.warmup() + plan.steps(); i++) {
          MorphSchedule schedule = sampler.sample(Seeds.rng(0, "morph", i));
          double tDtm = timeStep(step, teacher, manager, plan, pixels, masks, targets, schedule, i);
          double tTok =
              timeStep(
                  step,
                  teacher,
                  manager,
                  plan,
                  pixels,
                  masks,
                  targets,
                  MorphSchedule.tokenWise(2),
                  i);
          double tCached =
              teacher == null
                  ? Double.NaN
                  : timeStep(step, null, manager, plan, pixels, masks, targets, schedule, i);
          if (i >= plan.warmup()) {
            dtm.add(tDtm);
            tokenWise.add(tTok);
            if (teacher != null) {
              cachedDtm.add(tCached);
            }
          }
          LOG.info(
              "bench {} step {}: dtm {} s ({}), token-wise {} s",
              config.name(),
              i,
              String.format("%.3f", tDtm),
              schedule,
              String.format("%.3f", tTok));
        }
      }
    }
    roofline.addAll(matmulRates(plan.matmulSize(), 5));
    double dtmMedian = median(dtm);
    double tokMedian = median(tokenWise);
    double flops = VitFlops.trainingPerImage(config) * plan.batch();
    if (plan.teacher() != null) {
      flops += VitFlops.forwardPerImage(plan.teacher()) * plan.batch();
    }
    return new Result(
        plan,
        dtmMedian,
        tokMedian,
        dtmMedian / tokMedian - 1,
        plan.batch() / tokMedian,
        flops,
        flops / tokMedian,
        median(roofline),
        dtm,
        tokenWise,
        roofline,
        cachedDtm);
  }

  /**
   * Native operations of one DTM step (cached targets, default schedule), counted by PyTorch's
   * profiler after one unprofiled step.
   *
   * @param forwardBackward forward, loss and backward ({@link DtmStep#accumulate})
   * @param update what follows backward: norm, overflow check, unscale and clipping, AdamW, zeroing
   *     ({@link DtmStep#update})
   */
  public record OpCounts(
      VitConfig config, int batch, OpProfile.Counts forwardBackward, OpProfile.Counts update) {
    /** All operations of the step. */
    public long total() {
      return forwardBackward.ops() + update.ops();
    }
  }

  /** Counts the native operations of a step of {@code config} on {@code batch} images. */
  public static OpCounts profileOps(VitConfig config, int batch, Path traceDir) {
    try (NDManager manager = NDManager.newBaseManager()) {
      VisionTransformer student = VisionTransformer.initialize(config, manager, 1);
      ParameterGroups groups = ParameterGroups.of(student.parameters(), config.depth(), 1.0);
      try (FlatParameters flat = FlatParameters.of(student.parameters());
          AdamW adamW = new AdamW(AdamWConfig.PRETRAIN, groups, flat);
          GradientUpdate update =
              new GradientUpdate(
                  flat,
                  adamW,
                  LossScaler.forPrecision(Precision.FP32),
                  3.0,
                  GradientReducer.LOCAL)) {
        DtmStep step =
            new DtmStep(student, update, new DtmLoss(DtmLossConfig.DEFAULT), 1, Precision.FP32);
        MorphSchedule schedule =
            MorphScheduleSampler.withDefaults(config.numPatches()).sample(Seeds.rng(0, "morph", 0));
        BlockMaskGenerator masks =
            BlockMaskGenerator.forRatio(config.gridSize(), config.gridSize(), 75.0 / 196);
        SplittableRandom rng = new SplittableRandom(7);
        int s = config.imageSize();
        float[] pixels = new float[batch * 3 * s * s];
        for (int i = 0; i < pixels.length; i++) {
          pixels[i] = (float) rng.nextDouble();
        }
        float[] targets = new float[batch * config.numPatches() * config.tokenHeadDim()];
        for (int i = 0; i < targets.length; i++) {
          targets[i] = (float) rng.nextGaussian();
        }
        OpProfile.Counts fb = null;
        OpProfile.Counts up = null;
        for (int i = 0; i < 2; i++) {
          float[] mask = masks.sampleBatch(batch, Seeds.rng(0, "mask", i));
          try (NDScope scope = new NDScope();
              NDManager m = manager.newSubManager()) {
            scope.suppressNotUsedWarning();
            NDArray px = Tensors.fromHost(m, pixels, new Shape(batch, 3, s, s));
            NDArray mk = Tensors.fromHost(m, mask, new Shape(batch, config.numPatches()));
            NDArray tg =
                Tensors.fromHost(
                    m, targets, new Shape(batch, config.numPatches(), config.tokenHeadDim()));
            if (i == 0) {
              step.run(px, mk, tg, schedule, 1e-4);
            } else {
              double[] loss = new double[1];
              fb =
                  OpProfile.count(
                      () -> loss[0] = step.accumulate(px, mk, tg, schedule),
                      traceDir.resolve(config.name() + "-forward-backward.json"));
              up =
                  OpProfile.count(
                      () -> step.update(loss[0], schedule, 1e-4),
                      traceDir.resolve(config.name() + "-update.json"));
            }
          }
        }
        return new OpCounts(config, batch, fb, up);
      }
    }
  }

  /** A frozen random-weight teacher, or null when the plan uses fixed targets. */
  private static Teacher onlineTeacher(Plan plan, NDManager manager) {
    if (plan.teacher() == null) {
      return null;
    }
    VisionTransformer model = VisionTransformer.initialize(plan.teacher(), manager, 2);
    return new VitTeacher("random-" + plan.teacher().name(), model, ImageNormalization.CLIP, true);
  }

  private static double timeStep(
      DtmStep step,
      Teacher teacher,
      NDManager manager,
      Plan plan,
      float[] pixels,
      BlockMaskGenerator masks,
      float[] targets,
      MorphSchedule schedule,
      int i) {
    VitConfig c = plan.config();
    int b = plan.batch();
    float[] mask = masks.sampleBatch(b, Seeds.rng(0, "mask", i));
    try (NDScope scope = new NDScope();
        NDManager m = manager.newSubManager()) {
      scope.suppressNotUsedWarning();
      NDArray px = Tensors.fromHost(m, pixels, new Shape(b, 3, c.imageSize(), c.imageSize()));
      NDArray mk = Tensors.fromHost(m, mask, new Shape(b, c.numPatches()));
      NDArray tg = Tensors.fromHost(m, targets, new Shape(b, c.numPatches(), c.tokenHeadDim()));
      long start = System.nanoTime();
      if (teacher != null) {
        tg = teacher.targets(px);
      }
      step.run(px, mk, tg, schedule, 1e-4);
      return (System.nanoTime() - start) / 1e9;
    }
  }

  /** FLOP/s of {@code repeats} fp32 products of two {@code n x n} matrices, one per sample. */
  public static List<Double> matmulRates(int n, int repeats) {
    List<Double> rates = new ArrayList<>();
    try (NDManager m = NDManager.newBaseManager()) {
      NDArray a = m.randomNormal(new Shape(n, n));
      NDArray b = m.randomNormal(new Shape(n, n));
      a.matMul(b).close();
      for (int i = 0; i < repeats; i++) {
        long start = System.nanoTime();
        NDArray c = a.matMul(b);
        c.getFloat(0, 0); // forces completion
        double seconds = (System.nanoTime() - start) / 1e9;
        c.close();
        rates.add(2.0 * n * n * n / seconds);
      }
    }
    return rates;
  }

  static double median(List<Double> values) {
    double[] v = values.stream().mapToDouble(Double::doubleValue).toArray();
    Arrays.sort(v);
    int n = v.length;
    return n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
  }

  /** The result as a JSON-friendly map. */
  public static Map<String, Object> toMap(Result r) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("model", r.plan().config().name());
    m.put("image_size", r.plan().config().imageSize());
    m.put("patch_size", r.plan().config().patchSize());
    m.put("embed_dim", r.plan().config().embedDim());
    m.put("batch", r.plan().batch());
    m.put("online_teacher", r.plan().teacher() == null ? null : r.plan().teacher().name());
    m.put("steps", r.plan().steps());
    m.put("dtm_step_s_median", r.dtmSeconds());
    m.put("token_wise_step_s_median", r.tokenWiseSeconds());
    m.put("dtm_overhead", r.overhead());
    m.put("images_per_s", r.imagesPerSecond());
    m.put("training_gflop_per_step", r.trainingFlops() / 1e9);
    m.put("achieved_gflops", r.achievedFlops() / 1e9);
    m.put("matmul_gflops_median", r.rooflineFlops() / 1e9);
    m.put("roofline_fraction", r.rooflineFraction());
    m.put("dtm_samples_s", r.dtmSamples());
    m.put("token_wise_samples_s", r.tokenWiseSamples());
    m.put("matmul_samples_gflops", r.rooflineSamples().stream().map(x -> x / 1e9).toList());
    if (!r.cachedDtmSamples().isEmpty()) {
      m.put("cached_dtm_step_s_median", r.cachedDtmSeconds());
      m.put("cached_dtm_samples_s", r.cachedDtmSamples());
      m.put("online_over_cached", r.dtmSeconds() / r.cachedDtmSeconds());
    }
    return m;
  }
}
