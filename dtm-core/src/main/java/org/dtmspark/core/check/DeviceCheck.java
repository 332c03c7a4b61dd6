package org.dtmspark.core.check;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.jni.LibUtils;
import ai.djl.util.cuda.CudaUtils;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.function.Supplier;
import org.dtmspark.core.data.BlockMaskGenerator;
import org.dtmspark.core.io.AtomicFiles;
import org.dtmspark.core.io.Npy;
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
import org.dtmspark.core.precision.Autocast;
import org.dtmspark.core.precision.LossScaler;
import org.dtmspark.core.teacher.ClipVisionConfig;
import org.dtmspark.core.teacher.ClipVisionTeacher;
import org.dtmspark.core.teacher.RandomClipCheckpoint;
import org.dtmspark.core.train.DtmStep;
import org.dtmspark.core.train.GradientReducer;
import org.dtmspark.core.train.GradientUpdate;
import org.dtmspark.core.train.Seeds;

/**
 * The Java half of {@code deploy/gpu/device-check.sh}: on one device (a CUDA GPU, or the CPU where
 * there is none) it measures what the GPU check reports for this project's code, and writes one
 * JSON file; the Python half ({@code deploy/gpu/torch_reference.py}) then runs the PyTorch
 * references on the same inputs.
 *
 * <ul>
 *   <li><b>teacher</b>: a CLIP-layout ViT teacher with random weights ({@link
 *       RandomClipCheckpoint}) run in float32 on the CPU (the reference) and, on the device, in
 *       float32 and float16: the largest absolute difference of each against the reference, and
 *       images/s. The pixels and every token array are saved as {@code .npy} for the Python half.
 *   <li><b>train</b>: DTM pretraining steps of the student ({@link DtmStep}: masked forward, DTM
 *       loss with a sampled two-level morphing schedule, backward, global-norm clipping, AdamW) on
 *       fixed random targets, as from a target cache: images/s, median step time, the losses, and
 *       on a GPU the device memory in use (CUDA's {@code total - free}, so the caching allocator's
 *       reserve and the context count). One row per precision, fp16 with autocast and a dynamic
 *       loss scale, as {@code pretrain.precision=fp16} trains.
 * </ul>
 *
 * <p>Nothing is downloaded: the teacher's weights are drawn from the seed.
 */
public final class DeviceCheck {
  /** Version of the JSON this writes; the Python half refuses others. */
  public static final String FORMAT = "dtm-device-check/1";

  private static final ObjectMapper JSON =
      new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  /** Training precisions the check knows. */
  public enum Precision {
    FP32,
    FP16;

    /** {@code fp32} or {@code fp16}. */
    public String label() {
      return name().toLowerCase(Locale.ROOT);
    }

    /** Parses {@code fp32} or {@code fp16}; fails naming the value otherwise. */
    public static Precision parse(String s) {
      for (Precision p : values()) {
        if (p.label().equals(s)) {
          return p;
        }
      }
      throw new IllegalArgumentException(
          "--precisions entries must be fp32 or fp16, cannot be: '" + s + "'");
    }

    /** The training step's mode for this precision ({@code pretrain.precision}). */
    org.dtmspark.core.precision.Precision training() {
      return this == FP32
          ? org.dtmspark.core.precision.Precision.FP32
          : org.dtmspark.core.precision.Precision.FP16;
    }
  }

  /**
   * What to run.
   *
   * @param work directory for the teacher checkpoint and the {@code .npy} files (created)
   * @param gpu run on {@code gpu(0)}; else the CPU is the device (the CPU reference runs anyway)
   * @param clip the teacher's architecture
   * @param student the student's architecture; its token head width must equal the teacher's
   *     projection width
   * @param accuracyBatch images of the accuracy comparison (also run on the CPU)
   * @param benchBatch images per timed teacher call and per training step
   * @param warmup untimed repetitions before each timed series
   * @param reps timed teacher calls per series
   * @param steps timed training steps per precision
   * @param precisions training precisions to report, in order
   * @param seed seed of the weights, pixels, masks, targets and schedules
   */
  public record Plan(
      Path work,
      boolean gpu,
      ClipVisionConfig clip,
      VitConfig student,
      int accuracyBatch,
      int benchBatch,
      int warmup,
      int reps,
      int steps,
      List<Precision> precisions,
      long seed) {
    public Plan {
      requirePositive("--accuracy-batch", accuracyBatch);
      requirePositive("--batch", benchBatch);
      requirePositive("--reps", reps);
      requirePositive("--steps", steps);
      if (warmup < 0) {
        throw new IllegalArgumentException("--warmup must be at least 0, cannot be: " + warmup);
      }
      if (precisions.isEmpty()) {
        throw new IllegalArgumentException("--precisions must name at least one precision");
      }
      if (student.tokenHeadDim() != clip.projectionDim()) {
        throw new IllegalArgumentException(
            "student token head width must equal the teacher's projection_dim "
                + clip.projectionDim()
                + ", cannot be: "
                + student.tokenHeadDim());
      }
      if (student.imageSize() != clip.imageSize() || student.patchSize() != clip.patchSize()) {
        throw new IllegalArgumentException(
            "student image and patch size must equal the teacher's ("
                + clip.imageSize()
                + "/"
                + clip.patchSize()
                + "), cannot be: "
                + student.imageSize()
                + "/"
                + student.patchSize());
      }
      precisions = List.copyOf(precisions);
    }

    private static void requirePositive(String option, int value) {
      if (value < 1) {
        throw new IllegalArgumentException(option + " must be at least 1, cannot be: " + value);
      }
    }

    /** The device that is checked. */
    public Device device() {
      return gpu ? Device.gpu(0) : Device.cpu();
    }
  }

  private DeviceCheck() {}

  /**
   * {@code DeviceCheck --work DIR --out FILE [--device cpu|gpu] [--model base|small|tiny] [--batch
   * N] [--accuracy-batch N] [--warmup N] [--reps N] [--steps N] [--precisions fp32,fp16] [--seed
   * N]}; writes the JSON to {@code --out}. Exit status 2 on a usage error.
   */
  public static void main(String[] args) throws IOException {
    Map<String, String> opts;
    Plan plan;
    Path out;
    try {
      opts = options(args);
      out = Path.of(required(opts, "--out"));
      plan = plan(opts);
    } catch (IllegalArgumentException e) {
      System.err.println("DeviceCheck: " + e.getMessage());
      System.exit(2);
      return;
    }
    Map<String, Object> result = run(plan);
    byte[] bytes = JSON.writeValueAsBytes(result);
    AtomicFiles.writeAtomically(out, o -> o.write(bytes));
    System.out.println("DeviceCheck: wrote " + out);
  }

  private static final List<String> KEYS =
      List.of(
          "--work",
          "--out",
          "--device",
          "--model",
          "--batch",
          "--accuracy-batch",
          "--warmup",
          "--reps",
          "--steps",
          "--precisions",
          "--seed");

  /** {@code --key value} pairs; fails naming an unknown key or a key without a value. */
  static Map<String, String> options(String[] args) {
    Map<String, String> opts = new LinkedHashMap<>();
    for (int i = 0; i < args.length; i += 2) {
      String key = args[i];
      if (!KEYS.contains(key)) {
        throw new IllegalArgumentException("unknown option '" + key + "', known: " + KEYS);
      }
      if (i + 1 >= args.length) {
        throw new IllegalArgumentException(key + " needs a value");
      }
      opts.put(key, args[i + 1]);
    }
    return opts;
  }

  private static String required(Map<String, String> opts, String key) {
    String v = opts.get(key);
    if (v == null) {
      throw new IllegalArgumentException(key + " is required");
    }
    return v;
  }

  private static int intOption(Map<String, String> opts, String key, int fallback) {
    String v = opts.get(key);
    if (v == null) {
      return fallback;
    }
    try {
      return Integer.parseInt(v);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(key + " must be an integer, cannot be: '" + v + "'", e);
    }
  }

  /**
   * The plan of parsed options. {@code --model base} (the default) pairs the ViT-B/16 student with
   * the CLIP ViT-B/16 teacher; {@code small} and {@code tiny} pair smaller students with a 4-layer
   * CLIP-layout teacher of width 192, for quick runs.
   */
  static Plan plan(Map<String, String> opts) {
    String device = opts.getOrDefault("--device", "cpu");
    if (!device.equals("cpu") && !device.equals("gpu")) {
      throw new IllegalArgumentException(
          "--device must be cpu or gpu, cannot be: '" + device + "'");
    }
    String model = opts.getOrDefault("--model", "base");
    ClipVisionConfig clip =
        switch (model) {
          case "base" -> RandomClipCheckpoint.vitB16();
          case "small", "tiny" ->
              new ClipVisionConfig(
                  192, 768, 4, 3, 224, 16, ClipVisionConfig.Activation.QUICK_GELU, 1e-5, 512);
          default ->
              throw new IllegalArgumentException(
                  "--model must be base, small or tiny, cannot be: '" + model + "'");
        };
    VitConfig student = VitConfig.preset(model, 224, 16).withTokenHeadDim(clip.projectionDim());
    List<Precision> precisions = new ArrayList<>();
    for (String p : opts.getOrDefault("--precisions", "fp32,fp16").split(",")) {
      precisions.add(Precision.parse(p.strip()));
    }
    return new Plan(
        Path.of(required(opts, "--work")),
        device.equals("gpu"),
        clip,
        student,
        intOption(opts, "--accuracy-batch", 4),
        intOption(opts, "--batch", 64),
        intOption(opts, "--warmup", 3),
        intOption(opts, "--reps", 10),
        intOption(opts, "--steps", 10),
        precisions,
        intOption(opts, "--seed", 0));
  }

  /** Runs the plan; the result is the JSON document, as ordered maps and lists. */
  public static Map<String, Object> run(Plan plan) throws IOException {
    Files.createDirectories(plan.work());
    Map<String, Object> result = new LinkedHashMap<>();
    result.put("format", FORMAT);
    result.put("engine", engine(plan));
    result.put("student", studentConfig(plan.student()));
    result.put("teacher", teacher(plan));
    List<Object> train = new ArrayList<>();
    for (Precision p : plan.precisions()) {
      train.add(train(plan, p));
    }
    result.put("train", train);
    return result;
  }

  private static Map<String, Object> engine(Plan plan) {
    Engine engine = Engine.getEngine("PyTorch");
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("djl", Engine.getDjlVersion());
    m.put("pytorch", engine.getVersion());
    m.put("libtorch_dir", LibUtils.getLibtorchPath());
    m.put("device", plan.device().toString());
    m.put("java", System.getProperty("java.version"));
    m.put("cpus", Runtime.getRuntime().availableProcessors());
    m.put("gpu_count_seen_by_djl", CudaUtils.getGpuCount());
    return m;
  }

  // ---- teacher ----------------------------------------------------------------------------

  private static Map<String, Object> teacher(Plan plan) throws IOException {
    ClipVisionConfig c = plan.clip();
    Path checkpoint = plan.work().resolve("clip-random");
    RandomClipCheckpoint.write(checkpoint, c, plan.seed());
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("checkpoint", checkpoint.toString());
    m.put("config", clipConfig(c));
    m.put("accuracy_batch", plan.accuracyBatch());
    m.put("bench_batch", plan.benchBatch());

    int s = c.imageSize();
    Shape accShape = new Shape(plan.accuracyBatch(), 3, s, s);
    float[] pixels = uniform(accShape.size(), Seeds.rng(plan.seed(), "check-pixels"));
    Npy.write(plan.work().resolve("pixels.npy"), accShape.getShape(), pixels);
    m.put("pixels_npy", "pixels.npy");

    float[] reference;
    try (NDManager cpu = NDManager.newBaseManager(Device.cpu())) {
      reference = tokens(checkpoint, cpu, DataType.FLOAT32, pixels, accShape);
    }
    Npy.write(plan.work().resolve("tokens-cpu-fp32.npy"), tokenShape(plan), reference);
    Map<String, Object> runs = new LinkedHashMap<>();
    Map<String, Object> ref = new LinkedHashMap<>();
    ref.put("tokens_npy", "tokens-cpu-fp32.npy");
    if (!plan.gpu()) {
      ref.putAll(timeTeacher(plan, checkpoint, Device.cpu(), DataType.FLOAT32));
    }
    runs.put("cpu_fp32", ref);

    Device device = plan.device();
    String prefix = plan.gpu() ? "gpu" : "cpu";
    float[] deviceFp32 = reference; // the device's float32 tokens, once computed
    for (DataType type : List.of(DataType.FLOAT32, DataType.FLOAT16)) {
      String label = type == DataType.FLOAT32 ? "fp32" : "fp16";
      String key = prefix + "_" + label;
      if (!plan.gpu() && type == DataType.FLOAT32) {
        continue; // the reference itself
      }
      Map<String, Object> row = new LinkedHashMap<>();
      try (NDManager dm = NDManager.newBaseManager(device)) {
        float[] t = tokens(checkpoint, dm, type, pixels, accShape);
        String file = "tokens-" + key.replace('_', '-') + ".npy";
        Npy.write(plan.work().resolve(file), tokenShape(plan), t);
        row.put("tokens_npy", file);
        row.put("max_abs_diff_vs_cpu_fp32", maxAbsDiff(t, reference));
        row.put("mean_abs_diff_vs_cpu_fp32", meanAbsDiff(t, reference));
        if (type == DataType.FLOAT32) {
          deviceFp32 = t;
        } else {
          row.put("max_abs_diff_vs_fp32_same_device", maxAbsDiff(t, deviceFp32));
        }
      }
      if (plan.gpu()) {
        row.putAll(timeTeacher(plan, checkpoint, device, type));
      } else {
        row.put("timing", "skipped: fp16 on the CPU is checked for accuracy only");
      }
      runs.put(key, row);
    }
    if (!plan.gpu()) {
      String why = "skipped: no CUDA device (--device cpu)";
      runs.put("gpu_fp32", Map.of("status", why));
      runs.put("gpu_fp16", Map.of("status", why));
    }
    m.put("runs", runs);
    m.put("reference_max_abs", maxAbs(reference));
    return m;
  }

  private static long[] tokenShape(Plan plan) {
    return new long[] {plan.accuracyBatch(), plan.clip().numPatches(), plan.clip().projectionDim()};
  }

  /** The teacher's tokens of {@code pixels} on the manager's device: {@code [B, N, P]} floats. */
  private static float[] tokens(
      Path checkpoint, NDManager manager, DataType type, float[] pixels, Shape shape)
      throws IOException {
    try (ClipVisionTeacher teacher =
            ClipVisionTeacher.load(checkpoint, manager, Optional.empty(), type);
        NDManager m = manager.newSubManager()) {
      NDArray px = Tensors.fromHost(m, pixels, shape);
      return teacher.targets(px).toFloatArray();
    }
  }

  /** images/s of the teacher on {@code device} in {@code type} at the bench batch. */
  private static Map<String, Object> timeTeacher(
      Plan plan, Path checkpoint, Device device, DataType type) throws IOException {
    int s = plan.clip().imageSize();
    Shape shape = new Shape(plan.benchBatch(), 3, s, s);
    float[] pixels = uniform(shape.size(), Seeds.rng(plan.seed(), "check-bench-pixels"));
    List<Double> seconds = new ArrayList<>();
    try (NDManager manager = NDManager.newBaseManager(device);
        ClipVisionTeacher teacher =
            ClipVisionTeacher.load(checkpoint, manager, Optional.empty(), type)) {
      NDArray px = Tensors.fromHost(manager, pixels, shape); // [B, 3, S, S] on the device
      for (int i = 0; i < plan.warmup() + plan.reps(); i++) {
        try (NDScope scope = new NDScope()) {
          scope.suppressNotUsedWarning();
          long start = System.nanoTime();
          NDArray t = teacher.targets(px);
          t.getFloat(0, 0, 0); // waits for the device
          double took = (System.nanoTime() - start) / 1e9;
          t.close();
          if (i >= plan.warmup()) {
            seconds.add(took);
          }
        }
      }
    }
    double median = median(seconds);
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("batch", plan.benchBatch());
    m.put("call_s_median", median);
    m.put("images_per_s", plan.benchBatch() / median);
    m.put("call_samples_s", seconds);
    return m;
  }

  // ---- training ---------------------------------------------------------------------------

  private static Map<String, Object> train(Plan plan, Precision precision) {
    Map<String, Object> row = new LinkedHashMap<>();
    row.put("precision", precision.label());
    row.put("device", plan.device().toString());
    VitConfig config = plan.student();
    int b = plan.benchBatch();
    int s = config.imageSize();
    int n = config.numPatches();
    int p = config.tokenHeadDim();
    SplittableRandom rng = Seeds.rng(plan.seed(), "check-train");
    float[] pixels = uniform((long) b * 3 * s * s, rng);
    float[] targets = new float[b * n * p];
    for (int i = 0; i < targets.length; i++) {
      targets[i] = (float) rng.nextGaussian();
    }
    BlockMaskGenerator masks =
        BlockMaskGenerator.forRatio(config.gridSize(), config.gridSize(), 75.0 / 196);
    MorphScheduleSampler sampler = MorphScheduleSampler.withDefaults(n);
    Supplier<Long> memory = memoryProbe(plan);
    long before = memory.get();
    long peak = before;
    List<Double> seconds = new ArrayList<>();
    List<Double> tokenWiseSeconds = new ArrayList<>();
    List<Double> losses = new ArrayList<>();
    int skipped = 0;
    double lossScale = 1;
    try (NDManager manager = NDManager.newBaseManager(plan.device())) {
      VisionTransformer student = VisionTransformer.initialize(config, manager, plan.seed());
      student.parameters().requireGradients();
      ParameterGroups groups = ParameterGroups.of(student.parameters(), config.depth(), 1.0);
      NDArray px = Tensors.fromHost(manager, pixels, new Shape(b, 3, s, s)); // [B, 3, S, S]
      NDArray tg = Tensors.fromHost(manager, targets, new Shape(b, n, p)); // [B, N, P]
      org.dtmspark.core.precision.Precision mode = precision.training();
      if (mode.mixed()) {
        Autocast.ensureAvailable();
      }
      try (FlatParameters flat = FlatParameters.of(student.parameters());
          AdamW adamW = new AdamW(AdamWConfig.PRETRAIN, groups, flat);
          GradientUpdate update =
              new GradientUpdate(
                  flat, adamW, LossScaler.forPrecision(mode), 3.0, GradientReducer.LOCAL)) {
        DtmStep step = new DtmStep(student, update, new DtmLoss(DtmLossConfig.DEFAULT), 1, mode);
        NDArray probe = flat.data(); // [numel] fp32 masters, written by the optimizer
        for (int i = 0; i < plan.warmup() + plan.steps(); i++) {
          float[] mask = masks.sampleBatch(b, Seeds.rng(plan.seed(), "check-mask", i));
          MorphSchedule schedule = sampler.sample(Seeds.rng(plan.seed(), "check-morph", i));
          // DTM and token-wise steps interleaved, so that drift hits both alike
          double[] dtm = timedStep(step, manager, px, mask, tg, schedule, probe);
          double[] tokenWise = timedStep(step, manager, px, mask, tg, TOKEN_WISE, probe);
          losses.add(dtm[1]);
          skipped += (int) (dtm[2] + tokenWise[2]);
          lossScale = tokenWise[3];
          if (i >= plan.warmup()) {
            seconds.add(dtm[0]);
            tokenWiseSeconds.add(tokenWise[0]);
          }
          peak = Math.max(peak, memory.get());
        }
      }
    }
    double median = median(seconds);
    row.put("status", "ok");
    row.put("model", config.name());
    row.put("batch", b);
    row.put("warmup_steps", plan.warmup());
    row.put("steps", plan.steps());
    row.put("step_s_median", median);
    row.put("images_per_s", b / median);
    row.put("tflops_achieved", VitFlops.trainingPerImage(config) * b / median / 1e12);
    row.put("loss_first", losses.get(0));
    row.put("loss_last", losses.get(losses.size() - 1));
    row.put("skipped_steps", skipped);
    row.put("loss_scale_last", lossScale);
    row.put("step_samples_s", seconds);
    double tokenWise = median(tokenWiseSeconds);
    row.put("token_wise_step_s_median", tokenWise);
    row.put("token_wise_images_per_s", b / tokenWise);
    row.put("dtm_overhead", median / tokenWise - 1);
    if (before >= 0) {
      row.put("gpu_memory_in_use_before_mib", before / (1024.0 * 1024));
      row.put("gpu_memory_in_use_peak_mib", peak / (1024.0 * 1024));
      row.put("gpu_memory_measure", "cudaMemGetInfo total - free, after each step");
    } else {
      row.put("gpu_memory_measure", plan.gpu() ? "unavailable: DJL found no cudart" : "n/a (CPU)");
    }
    return row;
  }

  /** The token-wise baseline: two levels that merge nothing. */
  private static final MorphSchedule TOKEN_WISE = MorphSchedule.tokenWise(2);

  /**
   * One optimizer step, timed until its update is done.
   *
   * @param mask {@code [B, N]} on the host, 1 = masked
   * @return the seconds, the loss, 1 if the loss scaler skipped the update (else 0), the loss scale
   *     after the step
   */
  private static double[] timedStep(
      DtmStep step,
      NDManager manager,
      NDArray pixels,
      float[] mask,
      NDArray targets,
      MorphSchedule schedule,
      NDArray probe) {
    Shape maskShape = new Shape(pixels.getShape().get(0), mask.length / pixels.getShape().get(0));
    try (NDScope scope = new NDScope();
        NDManager m = manager.newSubManager()) {
      scope.suppressNotUsedWarning();
      NDArray mk = Tensors.fromHost(m, mask, maskShape); // [B, N] on the device
      long start = System.nanoTime();
      DtmStep.Stats stats = step.run(pixels, mk, targets, schedule, 1e-4);
      probe.reshape(-1).getFloat(0); // waits for the optimizer's update
      return new double[] {
        (System.nanoTime() - start) / 1e9, stats.loss(), stats.skipped() ? 1 : 0, stats.lossScale()
      };
    }
  }

  /** Device memory in use in bytes, or -1 where it cannot be read (the CPU, no cudart). */
  private static Supplier<Long> memoryProbe(Plan plan) {
    if (!plan.gpu() || CudaUtils.getGpuCount() < 1) {
      return () -> -1L;
    }
    return () -> CudaUtils.getGpuMemory(plan.device()).getCommitted();
  }

  // ---- helpers ----------------------------------------------------------------------------

  private static Map<String, Object> clipConfig(ClipVisionConfig c) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("hidden_size", c.hiddenSize());
    m.put("intermediate_size", c.intermediateSize());
    m.put("num_hidden_layers", c.numLayers());
    m.put("num_attention_heads", c.numHeads());
    m.put("image_size", c.imageSize());
    m.put("patch_size", c.patchSize());
    m.put("projection_dim", c.projectionDim());
    return m;
  }

  /** The student's shape, for the Python half to build timm's BEiT alike. */
  static Map<String, Object> studentConfig(VitConfig c) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("name", c.name());
    m.put("image_size", c.imageSize());
    m.put("patch_size", c.patchSize());
    m.put("embed_dim", c.embedDim());
    m.put("depth", c.depth());
    m.put("num_heads", c.numHeads());
    m.put("mlp_dim", c.mlpDim());
    m.put("layer_scale_init", c.layerScaleInit());
    m.put("rel_pos_bias", c.relPosBias());
    m.put("shared_rel_pos_bias", c.sharedRelPosBias());
    m.put("token_head_dim", c.tokenHeadDim());
    return m;
  }

  private static float[] uniform(long n, SplittableRandom rng) {
    float[] v = new float[Math.toIntExact(n)];
    for (int i = 0; i < v.length; i++) {
      v[i] = (float) rng.nextDouble();
    }
    return v;
  }

  static double maxAbsDiff(float[] a, float[] b) {
    double max = 0;
    for (int i = 0; i < a.length; i++) {
      max = Math.max(max, Math.abs((double) a[i] - b[i]));
    }
    return max;
  }

  private static double meanAbsDiff(float[] a, float[] b) {
    double sum = 0;
    for (int i = 0; i < a.length; i++) {
      sum += Math.abs((double) a[i] - b[i]);
    }
    return sum / a.length;
  }

  private static double maxAbs(float[] a) {
    double max = 0;
    for (float v : a) {
      max = Math.max(max, Math.abs(v));
    }
    return max;
  }

  static double median(List<Double> values) {
    double[] v = values.stream().mapToDouble(Double::doubleValue).toArray();
    Arrays.sort(v);
    int n = v.length;
    return n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
  }
}
