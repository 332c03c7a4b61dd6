package org.dtmspark.data.idx;

import java.awt.image.BufferedImage;
import java.awt.image.DataBufferByte;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.NoSuchFileException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Pattern;
import javax.imageio.IIOImage;
import javax.imageio.ImageIO;
import javax.imageio.ImageWriteParam;
import javax.imageio.ImageWriter;
import javax.imageio.stream.ImageOutputStream;
import javax.imageio.stream.MemoryCacheImageOutputStream;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileAlreadyExistsException;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.dtmspark.core.io.CheckpointIO;
import org.dtmspark.core.metrics.ProgressMeter;
import org.dtmspark.core.train.Seeds;
import org.dtmspark.data.shard.ImageRow;
import org.dtmspark.data.shard.ImageShardSchema;
import org.dtmspark.data.shard.Manifest;
import org.dtmspark.data.shard.Manifest.ShardEntry;
import org.dtmspark.data.shard.RejectSchema;
import org.dtmspark.data.shard.RejectWriter;
import org.dtmspark.data.shard.ShardFormatException;
import org.dtmspark.data.shard.ShardWriteOptions;
import org.dtmspark.data.shard.ShardWriter;
import org.dtmspark.data.shard.WrittenShard;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Imports MNIST-family idx files (plain or gzip) as Parquet image shards in the layout of SPEC
 * section 4 (see {@link org.dtmspark.data.shard}), in this JVM, without Spark:
 *
 * <pre>
 * &lt;out&gt;/&lt;split&gt;/part-NNNNN.parquet    image rows, shuffled with the seed
 * &lt;out&gt;/_rejects/part-00000.parquet    empty: an idx file holds no unusable image
 * &lt;out&gt;/_manifest.json                written last, once the counts add up
 * </pre>
 *
 * <p>Rows. Image {@code i} of split {@code s} (the {@code k}-th split given) becomes a row with
 * {@code image_id} = the number of images of the splits before {@code s} plus {@code i} (dense and
 * deterministic), {@code key} = {@code s_i}, {@code source} = {@code <idx file name>#i}, {@code
 * wnid} = the class name of its idx label, {@code label} = the index of that name in the
 * <em>sorted</em> class-name list (SPEC: the label indexes the sorted synset list; with the
 * synthetic names {@code class_0 ...} the sorted order is the idx order, with the Fashion-MNIST
 * names it is not: idx label 0, {@code tshirt_top}, becomes label 8), the image encoded as an 8-bit
 * grayscale PNG (lossless: decoding gives the idx bytes back) or JPEG ({@code reencoded} then says
 * that it is lossy), {@code width} = columns, {@code height} = rows, and {@code sha256} of the
 * encoded bytes. The rows of a split are permuted with {@code Seeds.rng(seed, "import-idx/" +
 * split)} and cut into {@code ceil(n / rowsPerShard)} shards of nearly equal size (at least one, so
 * that every split has a directory). The same inputs and options give the same rows, image bytes
 * included, in the same shards of the same sizes; the shard files' SHA-256 can still differ between
 * JVM runs, because parquet-mr writes each column's encodings into the footer from a hash set of
 * enums, in an order that varies from run to run.
 *
 * <p>Output. An existing output, with a manifest or without one (what a killed run leaves), is an
 * error unless {@link Options#overwrite()}, which replaces it. Only names this import writes are
 * removed: a directory holding anything else is an error even with overwrite. The job checks that
 * image rows plus rejects plus skipped equal the images found ({@link
 * Manifest#accountsForEveryFile()}) before it writes the manifest.
 */
public final class IdxImport {
  private static final Logger LOG = LoggerFactory.getLogger(IdxImport.class);

  /** The {@code tool} recorded in the manifest. */
  public static final String TOOL = "dtm-spark import-idx";

  /** Default maximum number of rows per shard. */
  public static final int DEFAULT_ROWS_PER_SHARD = 10_000;

  /** Default shuffle seed. */
  public static final long DEFAULT_SEED = 42;

  /** Default JPEG quality, in (0, 1]. */
  public static final float DEFAULT_JPEG_QUALITY = 0.9f;

  private static final Pattern SPLIT_NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]*");

  private static final Duration PROGRESS_EVERY = Duration.ofSeconds(5);

  private IdxImport() {}

  /** How images are stored. */
  public enum Encoding {
    /** 8-bit grayscale PNG: lossless, the default. */
    PNG,
    /** 8-bit grayscale baseline JPEG at {@link Options#jpegQuality()}: lossy. */
    JPEG;

    /** The {@code format} column value: {@code png} or {@code jpeg}. */
    public String formatName() {
      return name().toLowerCase(Locale.ROOT);
    }

    /** Parses {@code png} or {@code jpeg} (also {@code jpg}), case-insensitively. */
    public static Encoding parse(String text) {
      String lower = text == null ? "" : text.trim().toLowerCase(Locale.ROOT);
      return switch (lower) {
        case "png" -> PNG;
        case "jpeg", "jpg" -> JPEG;
        default ->
            throw new IllegalArgumentException(
                "Image format must be png or jpeg, cannot be: " + text);
      };
    }
  }

  /**
   * One split to import: an image file and its label file.
   *
   * @param name split name, e.g. {@code train}: letters, digits, {@code .}, {@code _}, {@code -},
   *     starting with a letter or digit
   * @param images the idx3 image file
   * @param labels the idx1 label file
   * @param limit keep only the first {@code limit} images (smoke runs); 0 keeps all
   */
  public record Split(String name, IdxFile images, IdxFile labels, int limit) {
    public Split {
      if (name == null || !SPLIT_NAME.matcher(name).matches()) {
        throw new IllegalArgumentException(
            "Split name must be letters, digits, '.', '_' or '-', starting with a letter or"
                + " digit, cannot be: "
                + (name == null ? "null" : "'" + name + "'"));
      }
      if (images == null || labels == null) {
        throw new IllegalArgumentException(
            "Split " + name + " needs an image file and a label file, cannot be: null");
      }
      if (limit < 0) {
        throw new IllegalArgumentException(
            "Image limit of split " + name + " must be at least 0 (0: all), cannot be: " + limit);
      }
    }

    /** All images of {@code images} with their {@code labels}. */
    public Split(String name, IdxFile images, IdxFile labels) {
      this(name, images, labels, 0);
    }
  }

  /**
   * What to import and how; build with {@link #builder()}.
   *
   * @param splits the splits, in image-id order, names distinct
   * @param output the output root on any Hadoop filesystem
   * @param classNames class names in idx label order; empty for the synthetic {@link
   *     IdxClassNames#synthetic} names of {@code max label + 1} classes
   * @param encoding PNG (default) or JPEG
   * @param jpegQuality JPEG quality in (0, 1], used with {@link Encoding#JPEG}
   * @param rowsPerShard most rows per shard, at least 1
   * @param seed shuffle seed
   * @param overwrite replace a finished output
   * @param writeOptions Parquet settings of the shards
   * @param conf Hadoop configuration for the output and Hadoop inputs
   */
  public record Options(
      List<Split> splits,
      Path output,
      List<String> classNames,
      Encoding encoding,
      float jpegQuality,
      int rowsPerShard,
      long seed,
      boolean overwrite,
      ShardWriteOptions writeOptions,
      Configuration conf) {
    public Options {
      if (splits == null || splits.isEmpty()) {
        throw new IllegalArgumentException("Import needs at least one split, cannot be: " + splits);
      }
      splits = List.copyOf(splits);
      Set<String> names = new TreeSet<>();
      for (Split split : splits) {
        if (!names.add(split.name())) {
          throw new IllegalArgumentException(
              "Split names must be distinct, cannot repeat: " + split.name());
        }
      }
      if (output == null) {
        throw new IllegalArgumentException("Output directory must be given, cannot be: null");
      }
      classNames =
          classNames == null || classNames.isEmpty()
              ? List.of()
              : IdxClassNames.validate(classNames);
      if (encoding == null) {
        throw new IllegalArgumentException("Image encoding must be PNG or JPEG, cannot be: null");
      }
      if (!(jpegQuality > 0 && jpegQuality <= 1)) {
        throw new IllegalArgumentException(
            "JPEG quality must be in (0, 1], cannot be: " + jpegQuality);
      }
      if (rowsPerShard < 1) {
        throw new IllegalArgumentException(
            "Rows per shard must be at least 1, cannot be: " + rowsPerShard);
      }
      if (writeOptions == null) {
        throw new IllegalArgumentException("Shard write options must be given, cannot be: null");
      }
      if (conf == null) {
        throw new IllegalArgumentException("Hadoop configuration must be given, cannot be: null");
      }
    }

    /** A builder with the defaults: PNG, {@value #DEFAULT_ROWS_PER_SHARD} rows per shard, ... */
    public static Builder builder() {
      return new Builder();
    }
  }

  /**
   * Builds {@link Options}: required {@code addSplit} (at least once) and {@code setOutput};
   * everything else optional.
   */
  public static final class Builder {
    private final List<Split> splits = new ArrayList<>();
    private Path output;
    private List<String> classNames = List.of();
    private Encoding encoding = Encoding.PNG;
    private float jpegQuality = DEFAULT_JPEG_QUALITY;
    private int rowsPerShard = DEFAULT_ROWS_PER_SHARD;
    private long seed = DEFAULT_SEED;
    private boolean overwrite;
    private ShardWriteOptions writeOptions = ShardWriteOptions.DEFAULTS;
    private Configuration conf;

    private Builder() {}

    /** Adds a split; image ids follow the order of the calls. */
    public Builder addSplit(Split split) {
      splits.add(split);
      return this;
    }

    /** The output root. */
    public Builder setOutput(Path value) {
      output = value;
      return this;
    }

    /** Class names in idx label order (default: synthetic {@code class_K}). */
    public Builder optClassNames(List<String> value) {
      classNames = value;
      return this;
    }

    /** PNG (default) or JPEG. */
    public Builder optEncoding(Encoding value) {
      encoding = value;
      return this;
    }

    /** JPEG quality in (0, 1] (default {@value IdxImport#DEFAULT_JPEG_QUALITY}). */
    public Builder optJpegQuality(float value) {
      jpegQuality = value;
      return this;
    }

    /** Most rows per shard (default {@value IdxImport#DEFAULT_ROWS_PER_SHARD}). */
    public Builder optRowsPerShard(int value) {
      rowsPerShard = value;
      return this;
    }

    /** Shuffle seed (default {@value IdxImport#DEFAULT_SEED}). */
    public Builder optSeed(long value) {
      seed = value;
      return this;
    }

    /** Replace a finished output (default false). */
    public Builder optOverwrite(boolean value) {
      overwrite = value;
      return this;
    }

    /** Parquet settings (default {@link ShardWriteOptions#DEFAULTS}). */
    public Builder optWriteOptions(ShardWriteOptions value) {
      writeOptions = value;
      return this;
    }

    /** Hadoop configuration (default {@code new Configuration()}). */
    public Builder optConf(Configuration value) {
      conf = value;
      return this;
    }

    /** Validates and builds the options. */
    public Options build() {
      return new Options(
          splits,
          output,
          classNames,
          encoding,
          jpegQuality,
          rowsPerShard,
          seed,
          overwrite,
          writeOptions,
          conf == null ? new Configuration() : conf);
    }
  }

  /**
   * What an import wrote.
   *
   * @param output the output root, fully qualified
   * @param manifest the manifest written last
   * @param seconds wall time of the import
   */
  public record Result(Path output, Manifest manifest, double seconds) {
    /** Bytes of all shard files. */
    public long shardBytes() {
      return manifest.shards().stream().mapToLong(ShardEntry::bytes).sum();
    }

    /**
     * One line for the console, e.g. {@code import-idx: 70000 images (train 60000, test 10000), 10
     * classes, 7 shards (25.3 MB), 0 rejects, in 9.1 s (7692 images/s) -> file:/data/fmnist}.
     */
    public String summary() {
      StringBuilder perSplit = new StringBuilder();
      for (Map.Entry<String, Manifest.SplitSummary> e : manifest.splits().entrySet()) {
        perSplit.append(perSplit.length() == 0 ? "" : ", ");
        perSplit.append(e.getKey()).append(' ').append(e.getValue().images());
      }
      long rows = manifest.totalRows();
      return String.format(
          Locale.ROOT,
          "import-idx: %d images (%s), %d classes, %d shards (%.1f MB), %d rejects, in %.1f s"
              + " (%.0f images/s) -> %s",
          rows,
          perSplit,
          manifest.synsets().size(),
          manifest.shards().size(),
          shardBytes() / 1e6,
          manifest.rejects().total(),
          seconds,
          seconds > 0 ? rows / seconds : 0.0,
          output);
    }
  }

  /** The contents of one split's files, after the limit. */
  private record Loaded(Split split, IdxImages images, IdxLabels labels) {}

  /**
   * Runs the import.
   *
   * @throws NoSuchFileException naming an input file that does not exist
   * @throws IdxFormatException naming a malformed input, or both files of a split whose counts
   *     differ
   * @throws FileAlreadyExistsException when the output holds a finished import and {@code
   *     overwrite} is off, or holds files this import does not write
   * @throws IllegalArgumentException when a label has no class name
   */
  public static Result run(Options options) throws IOException {
    long started = System.nanoTime();
    LOG.info("import-idx: options {}", manifestOptions(options));
    for (Split split : options.splits()) {
      requireExists(split.images(), "images of split " + split.name());
      requireExists(split.labels(), "labels of split " + split.name());
    }
    List<Loaded> loaded = new ArrayList<>();
    long total = 0;
    for (Split split : options.splits()) {
      Loaded l = load(split);
      loaded.add(l);
      total += l.images().count();
      LOG.info(
          "import-idx: split {}: {} images of {} x {} pixels (width x height) from {}",
          split.name(),
          l.images().count(),
          l.images().cols(),
          l.images().rows(),
          split.images().location());
    }
    List<String> names = classNames(options.classNames(), loaded);
    List<String> synsets = names.stream().sorted().toList();
    int[] labelOf = new int[names.size()];
    for (int i = 0; i < names.size(); i++) {
      labelOf[i] = synsets.indexOf(names.get(i));
    }

    Configuration conf = options.conf();
    FileSystem fs = options.output().getFileSystem(conf);
    // Through the string form, which drops a trailing slash that a URI may carry.
    Path root = fs.makeQualified(new Path(options.output().toString()));
    prepareOutput(conf, fs, root, options);

    ProgressMeter progress = new ProgressMeter("import-idx", total, LOG, PROGRESS_EVERY);
    Map<String, Manifest.SplitSummary> splits = new LinkedHashMap<>();
    List<ShardEntry> shards = new ArrayList<>();
    long done = 0;
    long firstId = 0;
    try (Encoder encoder = new Encoder(options.encoding(), options.jpegQuality())) {
      for (Loaded l : loaded) {
        String split = l.split().name();
        int n = l.images().count();
        int[] order = Seeds.permutation(n, Seeds.rng(options.seed(), "import-idx/" + split));
        int shardCount =
            Math.max(1, (int) ((n + (long) options.rowsPerShard() - 1) / options.rowsPerShard()));
        Map<String, Long> classes = new TreeMap<>();
        for (int s = 0; s < shardCount; s++) {
          int from = (int) ((long) s * n / shardCount);
          int to = (int) ((long) (s + 1) * n / shardCount);
          String relative = split + "/" + ImageShardSchema.shardFileName(s);
          try (ShardWriter writer =
              ShardWriter.create(conf, new Path(root, relative), options.writeOptions())) {
            for (int r = from; r < to; r++) {
              int index = order[r];
              int idxLabel = l.labels().label(index);
              String wnid = names.get(idxLabel);
              writer.write(row(l, index, firstId, labelOf[idxLabel], wnid, encoder));
              classes.merge(wnid, 1L, Long::sum);
              done++;
              if (done % 1000 == 0) {
                progress.update(done, Map.of("split", split));
              }
            }
            WrittenShard written = writer.commit();
            shards.add(ShardEntry.of(relative, split, written));
          }
        }
        splits.put(split, new Manifest.SplitSummary(n, classes));
        firstId += n;
      }
    }
    progress.update(done, Map.of());
    progress.finish();

    try (RejectWriter rejects =
        RejectWriter.create(conf, RejectSchema.path(root), options.writeOptions())) {
      rejects.commit();
    }

    Manifest manifest =
        new Manifest(
            Manifest.FORMAT_VERSION,
            TOOL,
            CheckpointIO.codeVersion(),
            Instant.now().toString(),
            splits,
            shards,
            synsets,
            Manifest.synsetsSha256(synsets),
            Manifest.RejectSummary.NONE,
            List.of(),
            manifestOptions(options),
            total);
    if (!manifest.accountsForEveryFile() || manifest.totalRows() != done) {
      throw new IllegalStateException(
          "Import of "
              + root
              + " does not account for every image: "
              + manifest.totalRows()
              + " rows + "
              + manifest.rejects().total()
              + " rejects + "
              + manifest.skipped().size()
              + " skipped != "
              + total
              + " images found; no manifest written");
    }
    Path written = manifest.write(conf, root);
    Result result = new Result(root, manifest, (System.nanoTime() - started) / 1e9);
    LOG.info("{}; manifest {}", result.summary(), written);
    return result;
  }

  private static void requireExists(IdxFile file, String what) throws IOException {
    if (!file.exists()) {
      throw new NoSuchFileException(file.location(), null, what + ": idx file not found");
    }
  }

  private static Loaded load(Split split) throws IOException {
    IdxImages images;
    IdxLabels labels;
    try (InputStream in = split.images().open()) {
      images = IdxReader.readImages(in, split.images().location());
    }
    try (InputStream in = split.labels().open()) {
      labels = IdxReader.readLabels(in, split.labels().location());
    }
    if (images.count() != labels.count()) {
      throw new IdxFormatException(
          "Image file "
              + split.images().location()
              + " holds "
              + images.count()
              + " images but label file "
              + split.labels().location()
              + " holds "
              + labels.count()
              + " labels; the counts must be equal");
    }
    if (split.limit() > 0 && split.limit() < images.count()) {
      int keep = split.limit();
      images =
          new IdxImages(
              keep,
              images.rows(),
              images.cols(),
              Arrays.copyOf(images.pixels(), keep * images.imageSize()));
      labels = new IdxLabels(Arrays.copyOf(labels.labels(), keep));
    }
    return new Loaded(split, images, labels);
  }

  /** The given names, checked against every label, or synthetic names for max label + 1. */
  private static List<String> classNames(List<String> given, List<Loaded> loaded) {
    int max = -1;
    for (Loaded l : loaded) {
      for (int i = 0; i < l.labels().count(); i++) {
        int label = l.labels().label(i);
        if (!given.isEmpty() && label >= given.size()) {
          throw new IllegalArgumentException(
              "Label of image "
                  + i
                  + " in "
                  + l.split().labels().location()
                  + " must be less than the number of class names ("
                  + given.size()
                  + "), cannot be: "
                  + label);
        }
        max = Math.max(max, label);
      }
    }
    if (!given.isEmpty()) {
      return given;
    }
    return IdxClassNames.synthetic(Math.max(1, max + 1));
  }

  /**
   * Makes {@code root} an empty directory, or fails. Removes a killed run's leftovers and, with
   * overwrite, a finished output (its manifest first, so that it never looks finished while being
   * removed); refuses to remove anything this import does not write.
   */
  private static void prepareOutput(Configuration conf, FileSystem fs, Path root, Options options)
      throws IOException {
    if (!fs.exists(root)) {
      if (!fs.mkdirs(root)) {
        throw new IOException("Cannot create output directory " + root);
      }
      return;
    }
    if (!fs.getFileStatus(root).isDirectory()) {
      throw new FileAlreadyExistsException("Output " + root + " is a file, not a directory");
    }
    Set<String> ours = new TreeSet<>();
    ours.add(Manifest.FILE_NAME);
    ours.add(RejectSchema.DIRECTORY);
    options.splits().forEach(s -> ours.add(s.name()));
    Path manifest = Manifest.path(root);
    boolean finished = fs.exists(manifest);
    if (finished) {
      if (!options.overwrite()) {
        throw new FileAlreadyExistsException(
            "Output "
                + root
                + " holds a finished import ("
                + manifest
                + " exists); pass --overwrite to replace it");
      }
      try {
        ours.addAll(Manifest.read(conf, root).splits().keySet());
      } catch (ShardFormatException e) {
        LOG.warn("import-idx: cannot read the manifest being replaced: {}", e.getMessage());
      }
    }
    FileStatus[] children = fs.listStatus(root);
    List<String> foreign = new ArrayList<>();
    for (FileStatus child : children) {
      String name = child.getPath().getName();
      if (!ours.contains(name) && !name.startsWith(".")) {
        foreign.add(name);
      }
    }
    if (!foreign.isEmpty()) {
      foreign.sort(null);
      throw new FileAlreadyExistsException(
          "Output "
              + root
              + " holds files an idx import does not write "
              + foreign
              + "; choose a new or empty directory");
    }
    if (children.length == 0) {
      return;
    }
    if (finished) {
      LOG.info("import-idx: replacing the finished import at {} (overwrite)", root);
      if (!fs.delete(manifest, false)) {
        throw new IOException("Cannot delete " + manifest);
      }
    } else {
      if (!options.overwrite()) {
        throw new FileAlreadyExistsException(
            "Output "
                + root
                + " holds an incomplete import (no "
                + Manifest.FILE_NAME
                + ": an interrupted run?); pass --overwrite to replace it");
      }
      LOG.info(
          "import-idx: {} has no {}: an earlier run did not finish; removing what it left",
          root,
          Manifest.FILE_NAME);
    }
    for (FileStatus child : children) {
      if (fs.exists(child.getPath()) && !fs.delete(child.getPath(), true)) {
        throw new IOException("Cannot delete " + child.getPath());
      }
    }
  }

  private static ImageRow row(
      Loaded l, int index, long firstId, int label, String wnid, Encoder encoder) {
    String split = l.split().name();
    IdxImages images = l.images();
    byte[] bytes = encoder.encode(images, index);
    return new ImageRow(
        firstId + index,
        split + "_" + index,
        split,
        label,
        wnid,
        bytes,
        encoder.encoding.formatName(),
        images.cols(),
        images.rows(),
        encoder.sha256(bytes),
        l.split().images().fileName() + "#" + index,
        encoder.encoding == Encoding.JPEG ? "lossy jpeg encoding of idx pixels" : null);
  }

  /** The options as recorded in the manifest. */
  private static Map<String, Object> manifestOptions(Options options) {
    Map<String, Object> m = new TreeMap<>();
    m.put("classes", options.classNames().isEmpty() ? "synthetic" : "given");
    m.put("format", options.encoding().formatName());
    m.put(
        "jpeg_quality",
        options.encoding() == Encoding.JPEG ? (double) options.jpegQuality() : null);
    m.put("rows_per_shard", options.rowsPerShard());
    m.put("shuffle_seed", options.seed());
    m.put("compression", options.writeOptions().codec().name().toLowerCase(Locale.ROOT));
    m.put("row_group_bytes", options.writeOptions().rowGroupBytes());
    List<Map<String, Object>> inputs = new ArrayList<>();
    for (Split split : options.splits()) {
      Map<String, Object> input = new TreeMap<>();
      input.put("split", split.name());
      input.put("images", split.images().location());
      input.put("labels", split.labels().location());
      input.put("limit", split.limit());
      inputs.add(input);
    }
    m.put("inputs", inputs);
    return m;
  }

  /** Encodes grayscale images with one reused ImageIO writer. Not thread-safe. */
  private static final class Encoder implements AutoCloseable {
    private final Encoding encoding;
    private final ImageWriter writer;
    private final ImageWriteParam param;
    private final MessageDigest digest;
    private BufferedImage canvas;

    Encoder(Encoding encoding, float jpegQuality) {
      this.encoding = encoding;
      this.writer = jdkWriter(encoding.formatName());
      this.param = writer.getDefaultWriteParam();
      if (encoding == Encoding.JPEG) {
        param.setCompressionMode(ImageWriteParam.MODE_EXPLICIT);
        param.setCompressionQuality(jpegQuality);
      }
      try {
        this.digest = MessageDigest.getInstance("SHA-256");
      } catch (NoSuchAlgorithmException e) {
        throw new IllegalStateException("SHA-256 is missing from this JVM", e);
      }
    }

    private static ImageWriter jdkWriter(String format) {
      ImageWriter other = null;
      Iterator<ImageWriter> it = ImageIO.getImageWritersByFormatName(format);
      while (it.hasNext()) {
        ImageWriter w = it.next();
        if (w.getClass().getName().startsWith("com.sun.imageio.plugins.")) {
          if (other != null) {
            other.dispose();
          }
          return w;
        }
        if (other == null) {
          other = w;
        } else {
          w.dispose();
        }
      }
      if (other == null) {
        throw new IllegalStateException("No ImageIO writer for " + format + " is installed");
      }
      return other;
    }

    /** Image {@code index} as an 8-bit grayscale file. */
    byte[] encode(IdxImages images, int index) {
      if (canvas == null
          || canvas.getWidth() != images.cols()
          || canvas.getHeight() != images.rows()) {
        canvas = new BufferedImage(images.cols(), images.rows(), BufferedImage.TYPE_BYTE_GRAY);
      }
      byte[] target = ((DataBufferByte) canvas.getRaster().getDataBuffer()).getData();
      System.arraycopy(images.pixels(), index * images.imageSize(), target, 0, images.imageSize());
      ByteArrayOutputStream bytes = new ByteArrayOutputStream(2 * images.imageSize());
      try (ImageOutputStream out = new MemoryCacheImageOutputStream(bytes)) {
        writer.setOutput(out);
        writer.write(null, new IIOImage(canvas, null, null), param);
      } catch (IOException e) {
        throw new IllegalStateException("Cannot encode a " + encoding + " image in memory", e);
      } finally {
        writer.setOutput(null);
      }
      return bytes.toByteArray();
    }

    String sha256(byte[] bytes) {
      return HexFormat.of().formatHex(digest.digest(bytes));
    }

    @Override
    public void close() {
      writer.dispose();
    }
  }
}
