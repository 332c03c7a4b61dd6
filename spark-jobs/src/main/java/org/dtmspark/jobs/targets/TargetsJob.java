package org.dtmspark.jobs.targets;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.io.IOException;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.api.java.function.Function;
import org.apache.spark.resource.ResourceInformation;
import org.apache.spark.sql.SparkSession;
import org.dtmspark.core.config.AugmentSettings;
import org.dtmspark.core.data.ByteViewRenderer;
import org.dtmspark.core.data.ImageDecodeException;
import org.dtmspark.core.data.ImageSource;
import org.dtmspark.core.data.LoaderPool;
import org.dtmspark.core.data.RgbImage;
import org.dtmspark.core.data.ViewParams;
import org.dtmspark.core.nn.Tensors;
import org.dtmspark.core.teacher.Teacher;
import org.dtmspark.core.teacher.Teachers;
import org.dtmspark.data.cache.CacheViews;
import org.dtmspark.data.cache.TargetCacheCheck;
import org.dtmspark.data.cache.TargetCacheMeta;
import org.dtmspark.data.cache.TargetCacheReader;
import org.dtmspark.data.cache.TargetCacheSchema;
import org.dtmspark.data.cache.TargetCacheSettings;
import org.dtmspark.data.cache.TargetCacheWriter;
import org.dtmspark.data.cache.TargetRejects;
import org.dtmspark.data.cache.TargetRow;
import org.dtmspark.data.shard.ImageRow;
import org.dtmspark.data.shard.Manifest;
import org.dtmspark.data.shard.RejectRow;
import org.dtmspark.data.shard.RejectSchema;
import org.dtmspark.data.shard.RejectWriter;
import org.dtmspark.data.shard.RowGroupInfo;
import org.dtmspark.data.shard.ShardReader;
import org.dtmspark.data.shard.ShardWriteOptions;
import org.dtmspark.data.shard.WrittenShard;
import org.dtmspark.jobs.HadoopConf;
import org.dtmspark.jobs.StageProgress;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes the teacher target-token cache of one split of an image shard set (SPEC section 4, "Target
 * cache") as batch inference on Spark.
 *
 * <p>The driver reads the shard manifest, loads the teacher once (through {@link TeacherCache}, to
 * learn its token shape and resolution), decides which shards need work (all, or with {@code
 * resume} those without a valid cache file), and runs one Spark task per image shard. A task takes
 * the teacher of its JVM from {@link TeacherCache} (on the GPU Spark assigned it, in float16 unless
 * asked otherwise, else on the CPU in float32), decodes the shard's images in row order, samples
 * each image's views with {@link CacheViews}, renders them in batches at the teacher's resolution
 * and writes {@code <cache>/part-NNNNN.parquet} (rows in shard order, each image's views {@code
 * 0..K-1} then the full view) with commit semantics: the file gets its name only when complete.
 * Images it cannot decode go to {@code <cache>/_rejects/part-NNNNN.parquet}, committed before the
 * cache file. A second stage checks every shard ({@link TargetCacheCheck}: each image has its rows
 * or a reject row); only then does the driver write {@code _cache_meta.json}, the completion
 * marker.
 */
public final class TargetsJob {
  private static final Logger LOG = LoggerFactory.getLogger(TargetsJob.class);

  /** Token storage and compute types. */
  static final List<String> DTYPES = List.of(TargetRow.FP16, TargetRow.FP32);

  /**
   * What to compute and where.
   *
   * @param images root of the image shard set ({@code _manifest.json}, {@code
   *     <split>/part-NNNNN.parquet}), any Hadoop URI
   * @param split the split to cover
   * @param teacher the teacher: local path or Hadoop URI (see {@link TeacherCache})
   * @param output root of the cache, any Hadoop URI
   * @param views K, sampled views per image, at least 0
   * @param fullView also the deterministic whole-image view
   * @param dtype token storage: {@code fp16} or {@code fp32}
   * @param batchSize rendered views per teacher call, at least 1
   * @param normalization the teacher's input statistics: {@code teacher} or {@code imagenet}
   * @param useTokenHead for this project's checkpoints: targets through {@code lm_head}
   * @param imageSize resolution for TorchScript teachers (the others define their own)
   * @param patchSize patch size for TorchScript teachers
   * @param augment the view sampling settings ({@code pretrain.augment})
   * @param seed the seed views are drawn from
   * @param gpuDtype compute type on GPUs: {@code fp16} (default) or {@code fp32}
   * @param write row-group size, compression and commit mode of the cache files
   * @param resume keep valid files of an earlier run with the same settings, redo the rest
   * @param overwrite replace an existing cache
   */
  public record Options(
      String images,
      String split,
      String teacher,
      String output,
      int views,
      boolean fullView,
      String dtype,
      int batchSize,
      String normalization,
      boolean useTokenHead,
      int imageSize,
      int patchSize,
      AugmentSettings augment,
      long seed,
      String gpuDtype,
      ShardWriteOptions write,
      boolean resume,
      boolean overwrite) {
    public Options {
      if (views < 0) {
        throw new IllegalArgumentException("--views must be at least 0, cannot be: " + views);
      }
      if (views == 0 && !fullView) {
        throw new IllegalArgumentException(
            "--views 0 needs --full-view: a cache must hold at least one view per image");
      }
      if (!DTYPES.contains(dtype)) {
        throw new IllegalArgumentException("--dtype must be fp16 or fp32, cannot be: " + dtype);
      }
      if (!DTYPES.contains(gpuDtype)) {
        throw new IllegalArgumentException(
            "--gpu-dtype must be fp16 or fp32, cannot be: " + gpuDtype);
      }
      if (batchSize < 1) {
        throw new IllegalArgumentException(
            "--batch-size must be at least 1, cannot be: " + batchSize);
      }
      if (resume && overwrite) {
        throw new IllegalArgumentException("Give --resume or --overwrite, not both");
      }
      if (split == null || split.isEmpty()) {
        throw new IllegalArgumentException("--split must be a split name, cannot be: " + split);
      }
    }
  }

  /**
   * What the job did.
   *
   * @param images images with targets
   * @param rejected images without (undecodable)
   * @param rows rows in all cache files
   * @param shards cache files in all
   * @param shardsWritten cache files written by this run
   * @param shardsKept valid cache files of an earlier run kept by {@code resume}
   * @param imagesWritten images whose targets this run computed
   * @param viewsWritten rows this run wrote
   * @param bytesWritten bytes of the cache files this run wrote
   * @param numTokens N of every row
   * @param dim P of every row
   * @param teacherSeconds time in teacher calls, summed over tasks
   * @param taskSeconds time of the writing tasks, summed
   * @param seconds wall time
   * @param meta location of {@code _cache_meta.json}
   * @param alreadyComplete the output held a complete cache of the same settings; nothing was run
   */
  public record Result(
      long images,
      long rejected,
      long rows,
      int shards,
      int shardsWritten,
      int shardsKept,
      long imagesWritten,
      long viewsWritten,
      long bytesWritten,
      int numTokens,
      int dim,
      double teacherSeconds,
      double taskSeconds,
      double seconds,
      String meta,
      boolean alreadyComplete) {
    /** Images whose targets this run computed, per second of wall time. */
    public double imagesPerSecond() {
      return seconds > 0 ? imagesWritten / seconds : 0;
    }

    /** Rows (views) this run wrote, per second of wall time. */
    public double viewsPerSecond() {
      return seconds > 0 ? viewsWritten / seconds : 0;
    }
  }

  private TargetsJob() {}

  /** Runs the job on {@code spark}. */
  public static Result run(Options options, SparkSession spark) throws IOException {
    long started = System.nanoTime();
    JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
    Configuration conf = jsc.hadoopConfiguration();
    Path imagesRoot = qualified(conf, new Path(options.images()));
    Path out = qualified(conf, new Path(options.output()));
    FileSystem fs = out.getFileSystem(conf);
    jsc.setJobGroup(
        "dtm-targets",
        String.format(
            Locale.ROOT,
            "dtm targets %s#%s -> %s (teacher %s, K=%d%s, %s, batch %d)",
            imagesRoot,
            options.split(),
            out,
            options.teacher(),
            options.views(),
            options.fullView() ? " + full" : "",
            options.dtype(),
            options.batchSize()),
        false);
    LOG.info("targets: {}", options);

    Manifest manifest = Manifest.read(conf, imagesRoot);
    if (!manifest.splits().containsKey(options.split())) {
      throw new IllegalArgumentException(
          "--split must be one of "
              + manifest.splits().keySet()
              + " in "
              + Manifest.path(imagesRoot)
              + ", cannot be: "
              + options.split());
    }
    List<Manifest.ShardEntry> shards = new ArrayList<>(manifest.shards(options.split()));
    shards.sort(Comparator.comparing(Manifest.ShardEntry::path));
    long splitImages = manifest.splits().get(options.split()).images();

    TeacherSpec base =
        TeacherSpec.onCpu(
            options.teacher(),
            options.normalization(),
            options.useTokenHead(),
            options.imageSize(),
            options.patchSize());
    Teacher teacher = TeacherCache.get(base, conf);
    java.nio.file.Path localTeacher = TeacherCache.localPath(options.teacher(), conf);
    CacheViews views =
        new CacheViews(
            options.augment().toAugmentConfig(teacher.imageSize()),
            options.seed(),
            options.views(),
            options.fullView());
    TargetCacheSettings settings =
        new TargetCacheSettings(
            options.teacher(),
            TeacherCache.weightsSha256(localTeacher),
            teacher.numTokens(),
            teacher.dim(),
            options.dtype(),
            describe(teacher),
            views.policy(),
            options.views(),
            options.fullView(),
            options.seed(),
            options.split(),
            Manifest.fileSha256(conf, imagesRoot));
    LOG.info(
        "Teacher {}: [{}, {}] tokens at {} px; {} images in {} shards of split {}",
        teacher.id(),
        teacher.numTokens(),
        teacher.dim(),
        teacher.imageSize(),
        splitImages,
        shards.size(),
        options.split());

    TargetCacheMeta existing = prepareOutput(conf, fs, out, options, settings, splitImages);
    if (existing != null) {
      LOG.info("Target cache {} is already complete for these settings", out);
      return new Result(
          existing.images(),
          existing.rejectedImages(),
          existing.rows(),
          existing.files().size(),
          0,
          existing.files().size(),
          0,
          0,
          0,
          existing.numTokens(),
          existing.dim(),
          0,
          0,
          (System.nanoTime() - started) / 1e9,
          TargetCacheMeta.path(out).toString(),
          true);
    }

    List<ShardWork> work = new ArrayList<>();
    int kept = 0;
    for (Manifest.ShardEntry shard : shards) {
      if (options.resume() && finished(conf, out, shard, settings)) {
        kept++;
      } else {
        work.add(new ShardWork(shard.path(), shard.rows()));
      }
    }
    if (options.resume()) {
      LOG.info("Resume: {} of {} shards are done, {} to write", kept, shards.size(), work.size());
    }

    HadoopConf hadoop = new HadoopConf(conf);
    List<ShardOutcome> outcomes = List.of();
    List<TargetCacheCheck.ShardCheck> checks;
    try (StageProgress progress = StageProgress.attach(spark.sparkContext(), "targets")) {
      if (!work.isEmpty()) {
        boolean fp16 = Teachers.supportsFloat16(localTeacher);
        outcomes =
            jsc.parallelize(work, work.size())
                .map(
                    new WriteTargets(
                        hadoop,
                        imagesRoot.toString(),
                        out.toString(),
                        base,
                        fp16,
                        options.gpuDtype(),
                        views,
                        settings,
                        options.batchSize(),
                        options.write()))
                .collect();
      }
      List<String> paths = shards.stream().map(Manifest.ShardEntry::path).toList();
      List<CheckOutcome> checked =
          paths.isEmpty()
              ? List.of()
              : jsc.parallelize(paths, paths.size())
                  .map(
                      new CheckShard(
                          hadoop, imagesRoot.toString(), out.toString(), settings, views))
                  .collect();
      checks = new ArrayList<>();
      List<String> failures = new ArrayList<>();
      for (CheckOutcome c : checked) {
        if (c.failure() != null) {
          failures.add(c.failure());
        } else {
          checks.add(c.check());
        }
      }
      if (!failures.isEmpty()) {
        throw new IllegalStateException(
            "Target cache "
                + out
                + " is incomplete; no "
                + TargetCacheMeta.FILE_NAME
                + " written: "
                + String.join("; ", failures));
      }
    }

    long images = checks.stream().mapToLong(TargetCacheCheck.ShardCheck::images).sum();
    long rejected = checks.stream().mapToLong(TargetCacheCheck.ShardCheck::rejected).sum();
    long rows = checks.stream().mapToLong(TargetCacheCheck.ShardCheck::rows).sum();
    if (images + rejected != splitImages) {
      throw new IllegalStateException(
          "Accounting failed for "
              + out
              + ": "
              + images
              + " images with targets + "
              + rejected
              + " rejected != "
              + splitImages
              + " images of split "
              + options.split()
              + "; no "
              + TargetCacheMeta.FILE_NAME
              + " written");
    }
    List<String> files =
        checks.stream().map(TargetCacheCheck.ShardCheck::cacheFile).sorted().toList();
    Path metaPath = TargetCacheMeta.of(settings, images, rejected, rows, files).write(conf, out);
    double seconds = (System.nanoTime() - started) / 1e9;
    Result result =
        new Result(
            images,
            rejected,
            rows,
            files.size(),
            outcomes.size(),
            kept,
            outcomes.stream().mapToLong(ShardOutcome::images).sum(),
            outcomes.stream().mapToLong(ShardOutcome::rows).sum(),
            outcomes.stream().mapToLong(ShardOutcome::bytes).sum(),
            settings.numTokens(),
            settings.dim(),
            outcomes.stream().mapToDouble(ShardOutcome::teacherSeconds).sum(),
            outcomes.stream().mapToDouble(ShardOutcome::seconds).sum(),
            seconds,
            metaPath.toString(),
            false);
    LOG.info(
        "Target cache {}: {} images ({} rejected), {} rows in {} files; this run wrote {} files"
            + " ({} images, {} MB) in {} s, {} images/s",
        out,
        images,
        rejected,
        rows,
        files.size(),
        outcomes.size(),
        result.imagesWritten(),
        String.format(Locale.ROOT, "%.1f", result.bytesWritten() / 1e6),
        String.format(Locale.ROOT, "%.1f", seconds),
        String.format(Locale.ROOT, "%.2f", result.imagesPerSecond()));
    return result;
  }

  private static Path qualified(Configuration conf, Path path) throws IOException {
    return path.getFileSystem(conf).makeQualified(path);
  }

  /** The teacher's input normalisation in words, for the settings. */
  static String describe(Teacher teacher) {
    return "mean="
        + Arrays.toString(teacher.normalization().mean())
        + " std="
        + Arrays.toString(teacher.normalization().std());
  }

  /**
   * Makes {@code out} ready and returns the meta of a complete cache that {@code resume} keeps as
   * it is, or null when there is work. Nothing is deleted that this job does not write: an output
   * holding other files is refused.
   */
  static TargetCacheMeta prepareOutput(
      Configuration conf,
      FileSystem fs,
      Path out,
      Options options,
      TargetCacheSettings settings,
      long splitImages)
      throws IOException {
    if (!fs.exists(out)) {
      fs.mkdirs(out);
      return null;
    }
    List<FileStatus> owned = new ArrayList<>();
    for (FileStatus e : fs.listStatus(out)) {
      String name = e.getPath().getName();
      boolean ours =
          e.isDirectory()
              ? name.equals(RejectSchema.DIRECTORY) && onlyOurFiles(fs, e.getPath())
              : isOurFile(name) || name.equals(TargetCacheMeta.FILE_NAME);
      if (!ours) {
        throw new IllegalArgumentException(
            "Output "
                + out
                + " holds "
                + e.getPath()
                + ", which this job does not write; choose an empty or new output directory");
      }
      owned.add(e);
    }
    if (owned.isEmpty()) {
      return null;
    }
    boolean complete = fs.exists(TargetCacheMeta.path(out));
    if (options.overwrite()) {
      LOG.warn("Replacing the {} target cache at {}", complete ? "complete" : "incomplete", out);
      for (FileStatus e : owned) {
        fs.delete(e.getPath(), true);
      }
      return null;
    }
    if (!options.resume()) {
      throw new IllegalArgumentException(
          "Output "
              + out
              + (complete
                  ? " already holds a complete target cache (" + TargetCacheMeta.FILE_NAME + ")"
                  : " holds an incomplete target cache (no "
                      + TargetCacheMeta.FILE_NAME
                      + ": an interrupted run?)")
              + "; pass --resume to finish or keep it, or --overwrite to replace it");
    }
    if (complete) {
      TargetCacheMeta meta = TargetCacheMeta.read(conf, out);
      if (!meta.settings().sameTargetsAs(settings)) {
        throw new IllegalArgumentException(
            "Output "
                + out
                + " holds a target cache made with other settings ("
                + meta.settings().differences(settings)
                + "); pass --overwrite to replace it");
      }
      if (meta.complete(splitImages)) {
        return meta;
      }
      fs.delete(TargetCacheMeta.path(out), false);
    }
    // Leftovers of killed writers: hidden staging files ("." + name + ".inprogress-<uuid>").
    for (Path dir : List.of(out, new Path(out, RejectSchema.DIRECTORY))) {
      if (!fs.exists(dir)) {
        continue;
      }
      for (FileStatus f : fs.listStatus(dir)) {
        if (f.getPath().getName().contains(".inprogress-")) {
          LOG.info("Removing {}, left by an interrupted writer", f.getPath());
          fs.delete(f.getPath(), false);
        }
      }
    }
    return null;
  }

  /** Files of a cache: {@code part-*.parquet}, and hidden files (staging files, checksums). */
  private static boolean isOurFile(String name) {
    return name.startsWith(".") || (name.startsWith("part-") && name.endsWith(".parquet"));
  }

  private static boolean onlyOurFiles(FileSystem fs, Path dir) throws IOException {
    for (FileStatus f : fs.listStatus(dir)) {
      if (f.isDirectory() || !isOurFile(f.getPath().getName())) {
        return false;
      }
    }
    return true;
  }

  /**
   * Whether an earlier run finished the cache file of {@code shard}: it exists, records the same
   * settings, and its footer holds one row per view of every image that is not rejected.
   */
  static boolean finished(
      Configuration conf, Path out, Manifest.ShardEntry shard, TargetCacheSettings settings) {
    String name = TargetCacheSchema.fileFor(shard.path());
    Path file = new Path(out, name);
    try {
      if (!file.getFileSystem(conf).exists(file)) {
        return false;
      }
      var recorded = TargetCacheReader.settings(conf, file);
      if (recorded.isEmpty() || !recorded.get().sameTargetsAs(settings)) {
        LOG.info(
            "Redoing {}: made with other settings ({})",
            name,
            recorded.map(r -> r.differences(settings)).orElse("none recorded"));
        return false;
      }
      long rows = 0;
      for (RowGroupInfo g : TargetCacheReader.rowGroups(conf, file)) {
        rows += g.rows();
      }
      long rejected = TargetRejects.read(conf, out, name).size();
      long expected = (shard.rows() - rejected) * settings.rowsPerImage();
      if (rows != expected) {
        LOG.info("Redoing {}: {} rows, expected {}", name, rows, expected);
        return false;
      }
      return true;
    } catch (IOException | RuntimeException e) {
      LOG.info("Redoing {}: cannot read it ({})", name, e.toString());
      return false;
    }
  }

  /**
   * One image shard to process.
   *
   * @param shardPath the shard's path relative to the image root, e.g. {@code
   *     train/part-00003.parquet}
   * @param rows its image rows, from the manifest
   */
  record ShardWork(String shardPath, long rows) implements Serializable {
    private static final long serialVersionUID = 1L;
  }

  /**
   * What a task wrote.
   *
   * @param cacheFile the cache file's name
   * @param images images with targets
   * @param rejected images rejected
   * @param rows rows written
   * @param bytes bytes of the cache file
   * @param device where the teacher ran, {@code cpu} or {@code gpu:N}, and in what type
   * @param teacherSeconds time in teacher calls
   * @param seconds task time
   */
  record ShardOutcome(
      String cacheFile,
      long images,
      long rejected,
      long rows,
      long bytes,
      String device,
      double teacherSeconds,
      double seconds)
      implements Serializable {
    private static final long serialVersionUID = 1L;
  }

  /** A shard check's result, or why it failed. */
  record CheckOutcome(TargetCacheCheck.ShardCheck check, String failure) implements Serializable {
    private static final long serialVersionUID = 1L;
  }

  /** Stage 1: the targets of one image shard. */
  static final class WriteTargets implements Function<ShardWork, ShardOutcome> {
    private static final long serialVersionUID = 1L;
    private final HadoopConf conf;
    private final String imagesRoot;
    private final String out;
    private final TeacherSpec teacher;
    private final boolean teacherSupportsFp16;
    private final String gpuDtype;
    private final CacheViews views;
    private final TargetCacheSettings settings;
    private final int batchSize;
    private final ShardWriteOptions write;

    WriteTargets(
        HadoopConf conf,
        String imagesRoot,
        String out,
        TeacherSpec teacher,
        boolean teacherSupportsFp16,
        String gpuDtype,
        CacheViews views,
        TargetCacheSettings settings,
        int batchSize,
        ShardWriteOptions write) {
      this.conf = conf;
      this.imagesRoot = imagesRoot;
      this.out = out;
      this.teacher = teacher;
      this.teacherSupportsFp16 = teacherSupportsFp16;
      this.gpuDtype = gpuDtype;
      this.views = views;
      this.settings = settings;
      this.batchSize = batchSize;
      this.write = write;
    }

    @Override
    public ShardOutcome call(ShardWork work) throws IOException {
      long started = System.nanoTime();
      TeacherSpec spec = teacher.forTask(gpuAddresses(), gpuDtype, teacherSupportsFp16);
      Teacher model = TeacherCache.get(spec, conf.get());
      if (model.imageSize() != views.augment().size()
          || model.numTokens() != settings.numTokens()
          || model.dim() != settings.dim()) {
        throw new IllegalStateException(
            "Teacher "
                + model.id()
                + " on this executor gives ["
                + model.numTokens()
                + ", "
                + model.dim()
                + "] tokens at "
                + model.imageSize()
                + " px; the driver's gave ["
                + settings.numTokens()
                + ", "
                + settings.dim()
                + "] at "
                + views.augment().size()
                + " px: every JVM must see the same teacher");
      }
      String name = TargetCacheSchema.fileFor(work.shardPath());
      Path shardPath = new Path(new Path(imagesRoot), work.shardPath());
      Path root = new Path(out);
      Path cacheFile = new Path(root, name);
      Path rejectFile = TargetRejects.path(root, name);
      FileSystem fs = cacheFile.getFileSystem(conf.get());
      // This shard is redone from scratch: its files, if any, are an earlier attempt's.
      fs.delete(cacheFile, false);
      fs.delete(rejectFile, false);
      FileStatus[] parts = fs.globStatus(new Path(root, "." + name + ".views-*"));
      for (FileStatus part : parts == null ? new FileStatus[0] : parts) {
        fs.delete(part.getPath(), true); // the per-view parts of a killed attempt
      }

      Batcher batcher =
          new Batcher(model, spec.djlDevice(), views.augment().size(), loaderThreads());
      List<RejectRow> rejects = new ArrayList<>();
      long images = 0;
      WrittenShard written;
      try (ShardReader reader = ShardReader.open(conf.get(), shardPath);
          TargetCacheWriter writer =
              TargetCacheWriter.create(conf.get(), cacheFile, write, settings)) {
        while (reader.hasNext()) {
          ImageRow row = reader.next();
          RgbImage image;
          try {
            image = RgbImage.decode(row.image(), shardPath + " " + row.key());
          } catch (ImageDecodeException e) {
            rejects.add(reject(shardPath, row, e.getMessage()));
            continue;
          }
          if (image.width() != row.width() || image.height() != row.height()) {
            rejects.add(
                reject(
                    shardPath,
                    row,
                    "decoded size "
                        + image.width()
                        + " x "
                        + image.height()
                        + " differs from the shard's "
                        + row.width()
                        + " x "
                        + row.height()));
            continue;
          }
          images++;
          for (int r = 0; r < views.rowsPerImage(); r++) {
            int view = views.viewOfRow(r);
            batcher.add(
                row,
                image,
                shardPath + " " + row.key(),
                view,
                views.view(row.imageId(), view, row.width(), row.height()));
            if (batcher.size() == batchSize) {
              batcher.flush(writer, settings);
            }
          }
        }
        batcher.flush(writer, settings);
        if (!rejects.isEmpty()) {
          try (RejectWriter rejectWriter = RejectWriter.create(conf.get(), rejectFile, write)) {
            for (RejectRow r : rejects) {
              rejectWriter.write(r);
            }
            rejectWriter.commit();
          }
        }
        written = writer.commit();
      } finally {
        batcher.close();
      }
      double seconds = (System.nanoTime() - started) / 1e9;
      LOG.info(
          "Wrote {}: {} images, {} rejected, {} rows, {} MB in {} s ({} images/s, teacher {} s on"
              + " {} in {})",
          name,
          images,
          rejects.size(),
          written.rows(),
          String.format(Locale.ROOT, "%.1f", written.bytes() / 1e6),
          String.format(Locale.ROOT, "%.1f", seconds),
          String.format(Locale.ROOT, "%.2f", images / seconds),
          String.format(Locale.ROOT, "%.1f", batcher.teacherSeconds),
          spec.device(),
          spec.dtype());
      return new ShardOutcome(
          name,
          images,
          rejects.size(),
          written.rows(),
          written.bytes(),
          spec.device() + " " + spec.dtype(),
          batcher.teacherSeconds,
          seconds);
    }

    private static RejectRow reject(Path shard, ImageRow row, String message) {
      return TargetRejects.row(shard.toString(), row.imageId(), row.key(), row.split(), message);
    }

    /**
     * The loader threads that render this task's views: the task's CPUs ({@code spark.task.cpus},
     * this JVM's outside a task) less libtorch's intra-op threads ({@code
     * ai.djl.pytorch.num_threads} when set, else one per CPU), at least 1.
     */
    private static int loaderThreads() {
      TaskContext task = TaskContext.get();
      int cpus = task != null ? task.cpus() : Runtime.getRuntime().availableProcessors();
      int intraOp = Integer.getInteger("ai.djl.pytorch.num_threads", cpus);
      return LoaderPool.defaultThreads(cpus, intraOp);
    }

    /** The GPU addresses Spark assigned to this task; empty outside a task or without GPUs. */
    private static List<String> gpuAddresses() {
      TaskContext task = TaskContext.get();
      if (task == null) {
        return List.of();
      }
      Map<String, ResourceInformation> resources = task.resourcesJMap();
      ResourceInformation gpu = resources == null ? null : resources.get("gpu");
      return gpu == null ? List.of() : List.of(gpu.addresses());
    }
  }

  /**
   * Collects views up to a batch, renders them on the task's loader threads ({@link LoaderPool},
   * the training loader's kernel: 8-bit {@code [B, 3, S, S]}, so the teacher sees the very pixels
   * the student will replay), runs the teacher on them and writes their rows in order. Pixels are
   * uploaded as bytes to the task's device and normalised there; the teacher's calls are serialised
   * on the teacher object, which the tasks of a JVM share.
   */
  private static final class Batcher implements AutoCloseable {
    private final Teacher teacher;
    private final NDManager manager;
    private final LoaderPool pool;
    private final int size;
    private final List<ImageRow> rows = new ArrayList<>();
    private final List<ImageSource> images = new ArrayList<>();
    private final List<Integer> viewIndices = new ArrayList<>();
    private final List<ViewParams> params = new ArrayList<>();
    private double teacherSeconds;

    Batcher(Teacher teacher, Device device, int size, int loaderThreads) {
      this.teacher = teacher;
      this.manager = NDManager.newBaseManager(device);
      this.pool = new LoaderPool(loaderThreads, null);
      this.size = size;
    }

    int size() {
      return rows.size();
    }

    void add(ImageRow row, RgbImage image, String id, int view, ViewParams viewParams) {
      rows.add(row);
      images.add(ImageSource.decoded(id, image));
      viewIndices.add(view);
      params.add(viewParams);
    }

    void flush(TargetCacheWriter writer, TargetCacheSettings settings) throws IOException {
      int b = rows.size();
      if (b == 0) {
        return;
      }
      byte[] pixels = new byte[Math.multiplyExact(b, ByteViewRenderer.sampleBytes(size))];
      pool.render(images, params, size, pixels);
      float[] tokens;
      synchronized (teacher) {
        long started = System.nanoTime();
        try (NDManager scope = manager.newSubManager()) {
          NDArray input = Tensors.pixelsFromHost(scope, pixels, new Shape(b, 3, size, size));
          tokens = teacher.targets(input).toFloatArray();
        }
        teacherSeconds += (System.nanoTime() - started) / 1e9;
      }
      int n = settings.numTokens() * settings.dim();
      if (tokens.length != (long) b * n) {
        throw new IllegalStateException(
            "Teacher "
                + teacher.id()
                + " returned "
                + tokens.length
                + " values for "
                + b
                + " views");
      }
      for (int i = 0; i < b; i++) {
        ImageRow row = rows.get(i);
        writer.write(
            TargetRow.ofFloats(
                row.imageId(),
                row.key(),
                viewIndices.get(i),
                params.get(i),
                Arrays.copyOfRange(tokens, i * n, (i + 1) * n),
                settings.numTokens(),
                settings.dim(),
                settings.dtype()));
      }
      rows.clear();
      images.clear();
      viewIndices.clear();
      params.clear();
    }

    @Override
    public void close() {
      try {
        pool.close();
      } finally {
        manager.close();
      }
    }
  }

  /** Stage 2: the completeness check of one shard's cache file. */
  static final class CheckShard implements Function<String, CheckOutcome> {
    private static final long serialVersionUID = 1L;
    private final HadoopConf conf;
    private final String imagesRoot;
    private final String out;
    private final TargetCacheSettings settings;
    private final CacheViews views;

    CheckShard(
        HadoopConf conf,
        String imagesRoot,
        String out,
        TargetCacheSettings settings,
        CacheViews views) {
      this.conf = conf;
      this.imagesRoot = imagesRoot;
      this.out = out;
      this.settings = settings;
      this.views = views;
    }

    @Override
    public CheckOutcome call(String shardPath) {
      try {
        return new CheckOutcome(
            TargetCacheCheck.check(
                conf.get(), new Path(imagesRoot), shardPath, new Path(out), settings, views),
            null);
      } catch (IOException | RuntimeException e) {
        // Never a null failure: an exception without a message still names the shard.
        return new CheckOutcome(
            null, e.getMessage() != null ? e.getMessage() : "Shard " + shardPath + ": " + e);
      }
    }
  }
}
