package org.dtmspark.jobs.shard;

import java.io.IOException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.api.java.JavaPairRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.api.java.function.Function2;
import org.apache.spark.api.java.function.PairFlatMapFunction;
import org.apache.spark.sql.SparkSession;
import org.dtmspark.core.io.CheckpointIO;
import org.dtmspark.data.image.ImageInspector;
import org.dtmspark.data.image.InspectOptions;
import org.dtmspark.data.image.Inspection;
import org.dtmspark.data.plan.InputLayout;
import org.dtmspark.data.plan.InputScanner;
import org.dtmspark.data.plan.Listing;
import org.dtmspark.data.plan.ListingReject;
import org.dtmspark.data.plan.PlannedImage;
import org.dtmspark.data.plan.ScanOptions;
import org.dtmspark.data.plan.ShardPlan;
import org.dtmspark.data.plan.ShardPlanner;
import org.dtmspark.data.plan.ShardSize;
import org.dtmspark.data.plan.ShardSpec;
import org.dtmspark.data.plan.SkippedFile;
import org.dtmspark.data.plan.SourceBytes;
import org.dtmspark.data.plan.TarArchives;
import org.dtmspark.data.shard.ImageRow;
import org.dtmspark.data.shard.Manifest;
import org.dtmspark.data.shard.RejectRow;
import org.dtmspark.data.shard.RejectSchema;
import org.dtmspark.data.shard.RejectWriter;
import org.dtmspark.data.shard.ShardWriteOptions;
import org.dtmspark.data.shard.ShardWriter;
import org.dtmspark.data.shard.WrittenShard;
import org.dtmspark.jobs.HadoopConf;
import org.dtmspark.jobs.StageProgress;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import scala.Tuple2;

/**
 * Shards a labelled image collection into Parquet (SPEC section 4): every input file becomes an
 * image row or a reject row, or is listed as skipped.
 *
 * <p>The driver lists the input and makes a pure {@link ShardPlan} (image ids, seeded shuffle
 * across shards). Spark then runs two stages: tasks read and inspect batches of inputs (archive
 * members by offset, without unpacking), and a shuffle keyed by (shard, position) brings every row
 * to the task of its shard, which writes the shard file in planned order. The driver writes the
 * rejects and, last, {@code _manifest.json}, after checking that rows plus rejects plus skipped
 * files equal the files found. An output without a manifest is incomplete.
 */
public final class ShardJob {
  private static final Logger LOG = LoggerFactory.getLogger(ShardJob.class);

  /**
   * What to shard and how.
   *
   * @param input root of the input (any Hadoop filesystem URI)
   * @param output output root (any Hadoop filesystem URI)
   * @param layout input layout, or null to detect it
   * @param scan splits, synset file and val label file
   * @param size shards per split or target bytes per shard
   * @param seed shuffle seed
   * @param write row-group size, compression and commit mode
   * @param inspect re-encoding and resizing
   * @param filesPerTask inputs read by one task of the first stage
   * @param overwrite replace an existing complete output
   */
  public record Options(
      String input,
      String output,
      InputLayout layout,
      ScanOptions scan,
      ShardSize size,
      long seed,
      ShardWriteOptions write,
      InspectOptions inspect,
      int filesPerTask,
      boolean overwrite) {
    public Options {
      if (filesPerTask < 1) {
        throw new IllegalArgumentException(
            "Files per task must be at least 1, cannot be: " + filesPerTask);
      }
    }
  }

  /**
   * What the job wrote.
   *
   * @param filesFound entries the listing found
   * @param rows image rows written
   * @param rejects inputs rejected (listing and inspection)
   * @param skipped entries skipped (hidden and known non-image files)
   * @param rowsPerSplit image rows per split
   * @param manifest location of {@code _manifest.json}
   * @param seconds wall time
   */
  public record Result(
      long filesFound,
      long rows,
      long rejects,
      long skipped,
      Map<String, Long> rowsPerSplit,
      String manifest,
      double seconds) {}

  private ShardJob() {}

  /** Runs the job on {@code spark}. */
  public static Result run(Options options, SparkSession spark) throws IOException {
    long started = System.nanoTime();
    JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
    Configuration conf = jsc.hadoopConfiguration();
    Path inputRoot = new Path(options.input());
    Path out = new Path(options.output());
    FileSystem inFs = inputRoot.getFileSystem(conf);
    FileSystem outFs = out.getFileSystem(conf);
    jsc.setJobGroup("dtm-shard", "dtm shard " + options.input() + " -> " + options.output(), false);

    prepareOutput(outFs, out, options.overwrite());
    InputLayout layout =
        options.layout() != null ? options.layout() : InputLayout.detect(inFs, inputRoot);
    LOG.info("Listing {} ({} layout)", inputRoot, layout.cliName());
    Listing listing = InputScanner.scan(inFs, inputRoot, layout, options.scan());
    LOG.info(
        "Found {} entries: {} images, {} skipped, {} rejected while listing; {} classes",
        listing.entriesFound(),
        listing.images().size(),
        listing.skipped().size(),
        listing.rejects().size(),
        listing.synsets().size());
    ShardPlan plan =
        ShardPlanner.plan(listing.images(), listing.synsets(), options.size(), options.seed());
    LOG.info("Plan: {} shards, seed {}", plan.shards().size(), options.seed());

    List<ShardOutcome> outcomes;
    try (StageProgress progress = StageProgress.attach(spark.sparkContext(), "shard")) {
      outcomes = plan.images().isEmpty() ? List.of() : writeShards(jsc, conf, options, plan, out);
    }

    List<RejectRow> rejects = new ArrayList<>();
    for (ListingReject r : listing.rejects()) {
      rejects.add(new RejectRow(r.location(), null, r.reason()));
    }
    outcomes.forEach(o -> rejects.addAll(o.rejects()));
    writeRejects(conf, out, rejects, options.write());

    Manifest manifest = manifest(options, layout, listing, plan, outcomes, rejects);
    long rows = manifest.totalRows();
    if (!manifest.accountsForEveryFile()) {
      throw new IllegalStateException(
          "Accounting failed for "
              + out
              + ": "
              + rows
              + " rows + "
              + rejects.size()
              + " rejects + "
              + listing.skipped().size()
              + " skipped != "
              + listing.entriesFound()
              + " entries found; no manifest written");
    }
    Path manifestPath = manifest.write(conf, out);
    Map<String, Long> perSplit = new TreeMap<>();
    manifest.splits().forEach((split, summary) -> perSplit.put(split, summary.images()));
    double seconds = (System.nanoTime() - started) / 1e9;
    LOG.info(
        "Sharded {} images into {} shards ({} rejected, {} skipped) in {} s: {}",
        rows,
        outcomes.size(),
        rejects.size(),
        listing.skipped().size(),
        String.format("%.1f", seconds),
        manifestPath);
    return new Result(
        listing.entriesFound(),
        rows,
        rejects.size(),
        listing.skipped().size(),
        perSplit,
        manifestPath.toString(),
        seconds);
  }

  /**
   * Makes {@code out} ready. A missing or empty output is used as it is. An existing output,
   * complete (with a manifest) or not (an interrupted run), is an error unless {@code overwrite}.
   * Nothing is ever deleted that this job does not write: a directory holding other files is
   * refused even with {@code overwrite}.
   */
  static void prepareOutput(FileSystem fs, Path out, boolean overwrite) throws IOException {
    if (!fs.exists(out)) {
      fs.mkdirs(out);
      return;
    }
    FileStatus[] entries = fs.listStatus(out);
    if (entries.length == 0) {
      return;
    }
    String foreign = foreignEntry(fs, entries);
    if (foreign != null) {
      throw new IllegalArgumentException(
          "Output "
              + out
              + " holds "
              + foreign
              + ", which this job does not write; choose an empty or new output directory");
    }
    boolean complete = fs.exists(new Path(out, Manifest.FILE_NAME));
    if (!overwrite) {
      throw new IllegalArgumentException(
          "Output "
              + out
              + (complete
                  ? " already holds a complete shard set (" + Manifest.FILE_NAME + ")"
                  : " holds an incomplete shard set (no "
                      + Manifest.FILE_NAME
                      + ": an interrupted run?)")
              + "; pass --overwrite to replace it");
    }
    LOG.warn("Replacing the {} shard set at {}", complete ? "complete" : "incomplete", out);
    fs.delete(out, true);
    fs.mkdirs(out);
  }

  /**
   * The first entry of an output directory that a shard set does not have, or null: a shard set
   * holds the manifest, {@code _rejects/}, split directories of {@code part-*.parquet} files, and
   * hidden files (in-progress shards, checksums).
   */
  private static String foreignEntry(FileSystem fs, FileStatus[] entries) throws IOException {
    for (FileStatus e : entries) {
      String name = e.getPath().getName();
      if (name.startsWith(".") || name.equals(Manifest.FILE_NAME)) {
        continue;
      }
      if (!e.isDirectory()) {
        return e.getPath().toString();
      }
      for (FileStatus f : fs.listStatus(e.getPath())) {
        String child = f.getPath().getName();
        boolean ours =
            child.startsWith(".") || (child.startsWith("part-") && child.endsWith(".parquet"));
        if (f.isDirectory() || !ours) {
          return f.getPath().toString();
        }
      }
    }
    return null;
  }

  private static List<ShardOutcome> writeShards(
      JavaSparkContext jsc, Configuration conf, Options options, ShardPlan plan, Path out) {
    List<PlannedImage> images = plan.images();
    List<List<PlannedImage>> units = new ArrayList<>();
    for (int i = 0; i < images.size(); i += options.filesPerTask()) {
      units.add(
          List.copyOf(images.subList(i, Math.min(images.size(), i + options.filesPerTask()))));
    }
    HadoopConf hadoop = new HadoopConf(conf);
    JavaPairRDD<ShardKey, InspectedImage> inspected =
        jsc.parallelize(units, units.size())
            .flatMapToPair(new InspectUnit(hadoop, options.inspect()));
    List<ShardSpec> specs = plan.shards();
    return inspected
        .repartitionAndSortWithinPartitions(new ShardPartitioner(specs.size()), ShardKey.ORDER)
        .mapPartitionsWithIndex(
            new WriteShard(hadoop, out.toString(), specs, options.write()), false)
        .collect();
  }

  /** Stage 1: read and inspect a batch of inputs. */
  static final class InspectUnit
      implements PairFlatMapFunction<List<PlannedImage>, ShardKey, InspectedImage> {
    private static final long serialVersionUID = 1L;
    private final HadoopConf conf;
    private final InspectOptions options;

    InspectUnit(HadoopConf conf, InspectOptions options) {
      this.conf = conf;
      this.options = options;
    }

    @Override
    public Iterator<Tuple2<ShardKey, InspectedImage>> call(List<PlannedImage> unit)
        throws IOException {
      ImageInspector inspector = new ImageInspector(options);
      List<Tuple2<ShardKey, InspectedImage>> rows = new ArrayList<>(unit.size());
      FileSystem fs = null;
      for (PlannedImage p : unit) {
        var src = p.source();
        if (fs == null) {
          fs = new Path(TarArchives.parts(src.location()).get(0)).getFileSystem(conf.get());
        }
        // An input that cannot be read is an infrastructure failure (store, permissions,
        // configuration), not a bad image: it fails the task, Spark retries it, and the job fails
        // naming the file instead of writing a shard set that silently lacks it.
        byte[] bytes;
        try {
          bytes = SourceBytes.read(fs, src);
        } catch (IOException e) {
          throw new IOException("Cannot read input " + src.location() + ": " + e.getMessage(), e);
        }
        Inspection result = inspector.inspect(src.location(), bytes);
        InspectedImage row;
        if (result instanceof Inspection.Accepted a) {
          row =
              new InspectedImage(
                  p.imageId(),
                  src.split(),
                  src.key(),
                  src.wnid(),
                  p.label(),
                  src.location(),
                  a.bytes(),
                  a.format().lowerCaseName(),
                  a.width(),
                  a.height(),
                  a.sha256(),
                  a.reencoded() ? a.reencodeReason() : null,
                  null);
        } else {
          row =
              new InspectedImage(
                  p.imageId(),
                  src.split(),
                  src.key(),
                  src.wnid(),
                  p.label(),
                  src.location(),
                  null,
                  null,
                  0,
                  0,
                  null,
                  null,
                  ((Inspection.Rejected) result).reason());
        }
        rows.add(new Tuple2<>(new ShardKey(p.shard(), p.position()), row));
      }
      return rows.iterator();
    }
  }

  /** Stage 2: write one shard, in planned order, from the rows of its partition. */
  static final class WriteShard
      implements Function2<
          Integer, Iterator<Tuple2<ShardKey, InspectedImage>>, Iterator<ShardOutcome>> {
    private static final long serialVersionUID = 1L;
    private final HadoopConf conf;
    private final String out;
    private final List<ShardSpec> specs;
    private final ShardWriteOptions options;

    WriteShard(HadoopConf conf, String out, List<ShardSpec> specs, ShardWriteOptions options) {
      this.conf = conf;
      this.out = out;
      this.specs = List.copyOf(specs);
      this.options = options;
    }

    @Override
    public Iterator<ShardOutcome> call(
        Integer shard, Iterator<Tuple2<ShardKey, InspectedImage>> rows) throws IOException {
      long started = System.nanoTime();
      ShardSpec spec = specs.get(shard);
      Path path = new Path(new Path(out), spec.fileName());
      FileSystem fs = path.getFileSystem(conf.get());
      fs.delete(path, false); // a retried task writes the same deterministic content again
      Map<String, Long> classes = new TreeMap<>();
      List<RejectRow> rejects = new ArrayList<>();
      WrittenShard written;
      try (ShardWriter writer = ShardWriter.create(conf.get(), path, options)) {
        while (rows.hasNext()) {
          InspectedImage r = rows.next()._2();
          if (r.rejected()) {
            rejects.add(new RejectRow(r.source(), r.split(), r.rejectReason()));
            continue;
          }
          writer.write(
              new ImageRow(
                  r.imageId(),
                  r.key(),
                  r.split(),
                  r.label(),
                  r.wnid(),
                  r.image(),
                  r.format(),
                  r.width(),
                  r.height(),
                  r.sha256(),
                  r.source(),
                  r.reencoded()));
          classes.merge(r.wnid(), 1L, Long::sum);
        }
        written = writer.commit();
      }
      LOG.info(
          "Wrote {}: {} rows, {} rejects, {} MB in {} s",
          spec.fileName(),
          written.rows(),
          rejects.size(),
          String.format("%.1f", written.bytes() / 1e6),
          String.format("%.1f", (System.nanoTime() - started) / 1e9));
      return List.of(
              new ShardOutcome(
                  shard,
                  spec.split(),
                  spec.fileName(),
                  written.rows(),
                  written.bytes(),
                  written.sha256(),
                  classes,
                  rejects))
          .iterator();
    }
  }

  private static void writeRejects(
      Configuration conf, Path out, List<RejectRow> rejects, ShardWriteOptions options)
      throws IOException {
    Path path = RejectSchema.path(out);
    try (RejectWriter writer = RejectWriter.create(conf, path, options)) {
      for (RejectRow r : rejects) {
        writer.write(r);
      }
      writer.commit();
    }
  }

  /** The manifest of this run; its constructor checks that the counts agree. */
  private static Manifest manifest(
      Options options,
      InputLayout layout,
      Listing listing,
      ShardPlan plan,
      List<ShardOutcome> outcomes,
      List<RejectRow> rejects) {
    Map<String, Map<String, Long>> classesBySplit = new TreeMap<>();
    for (ShardSpec spec : plan.shards()) {
      classesBySplit.computeIfAbsent(spec.split(), s -> new TreeMap<>());
    }
    List<Manifest.ShardEntry> shards = new ArrayList<>();
    for (ShardOutcome o : outcomes) {
      o.classCounts().forEach((wnid, n) -> classesBySplit.get(o.split()).merge(wnid, n, Long::sum));
      shards.add(
          new Manifest.ShardEntry(o.relativePath(), o.split(), o.rows(), o.bytes(), o.sha256()));
    }
    shards.sort((a, b) -> a.path().compareTo(b.path()));
    Map<String, Manifest.SplitSummary> splits = new TreeMap<>();
    classesBySplit.forEach(
        (split, classes) ->
            splits.put(
                split,
                new Manifest.SplitSummary(
                    classes.values().stream().mapToLong(Long::longValue).sum(), classes)));
    Map<String, Long> byReason = new TreeMap<>();
    for (RejectRow r : rejects) {
      byReason.merge(reasonCategory(r.reason()), 1L, Long::sum);
    }
    List<Manifest.Skipped> skipped = new ArrayList<>();
    for (SkippedFile s : listing.skipped()) {
      skipped.add(new Manifest.Skipped(s.location(), s.reason()));
    }
    Map<String, Object> opts = new LinkedHashMap<>();
    opts.put("input", options.input());
    opts.put("layout", layout.cliName());
    opts.put("splits", options.scan().splits());
    opts.put("shard_size", options.size().toString());
    opts.put("seed", options.seed());
    opts.put("row_group_bytes", options.write().rowGroupBytes());
    opts.put("compression", options.write().codec().name());
    opts.put("resize_shorter_side", options.inspect().resizeShorterSide());
    opts.put("jpeg_quality", options.inspect().jpegQuality());
    opts.put("reencode_all", options.inspect().reencodeAll());
    return new Manifest(
        Manifest.FORMAT_VERSION,
        "dtm-spark shard",
        CheckpointIO.codeVersion(),
        Instant.now().toString(),
        splits,
        shards,
        listing.synsets().wnids(),
        listing.synsets().sha256(),
        new Manifest.RejectSummary(rejects.size(), byReason),
        skipped,
        opts,
        listing.entriesFound());
  }

  /** The stable head of a reject reason ("truncated JPEG (...)" counts as "truncated JPEG"). */
  static String reasonCategory(String reason) {
    int cut = reason.length();
    for (char c : new char[] {':', '('}) {
      int i = reason.indexOf(c);
      if (i > 0) {
        cut = Math.min(cut, i);
      }
    }
    return reason.substring(0, cut).trim();
  }
}
