package org.dtmspark.data;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.Objects;
import java.util.Optional;
import org.apache.hadoop.conf.Configuration;
import org.dtmspark.core.data.ImageDataset;
import org.dtmspark.core.data.RgbImage;
import org.dtmspark.data.idx.IdxDataset;
import org.dtmspark.data.idx.IdxFile;
import org.dtmspark.data.idx.IdxImages;
import org.dtmspark.data.idx.IdxImport;
import org.dtmspark.data.idx.IdxLabels;
import org.dtmspark.data.idx.IdxReader;
import org.dtmspark.data.shard.ShardImageDataset;

/**
 * Opens a dataset from its text form, as given on the command line:
 *
 * <ul>
 *   <li>{@code demo:train}, {@code demo:test}: the embedded Fashion-MNIST subset (10,000 / 2,000);
 *   <li>{@code idx:DIR/PREFIX}: MNIST-family idx files {@code DIR/PREFIX-images-idx3-ubyte[.gz]}
 *       and {@code DIR/PREFIX-labels-idx1-ubyte[.gz]}, e.g. {@code
 *       idx:/usr/share/datasets/fashion-mnist/train};
 *   <li>{@code shards:DIR#SPLIT}: split {@code SPLIT} of Parquet image shards (SPEC section 4, as
 *       written by {@code dtm shard} or {@code dtm import-idx}) under {@code DIR}, a local path or
 *       a Hadoop URI ({@code hdfs://}, {@code s3a://}), read through {@link ShardImageDataset};
 * </ul>
 *
 * <p>Any form takes a {@code ?limit=N} suffix that keeps the first N images (smoke runs); for
 * shards these are the first N rows in shard order, which the sharding shuffled.
 */
public final class Datasets {
  /** One line for command-line help. */
  public static final String SPEC_HELP =
      "demo:train | demo:test | idx:DIR/PREFIX | shards:DIR#SPLIT, optionally with ?limit=N";

  private static final String DEMO_RESOURCE = "dtm-demo/fashion-mnist/";

  private static final String SHARDS = "shards:";

  private Datasets() {}

  /** Opens {@code spec}; errors name the spec and the file at fault. */
  public static ImageDataset open(String spec) {
    String base = base(spec);
    int limit = limit(spec);
    if (base.startsWith(SHARDS)) {
      return shards(spec, base.substring(SHARDS.length()), limit);
    }
    IdxDataset data;
    try {
      if (base.startsWith("demo:")) {
        data = demo(base.substring("demo:".length()));
      } else if (base.startsWith("idx:")) {
        data = idx(Path.of(base.substring("idx:".length())));
      } else {
        throw new IllegalArgumentException("Unknown dataset '" + spec + "'; expected " + SPEC_HELP);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot read dataset " + spec + ": " + e.getMessage(), e);
    }
    if (limit > 0 && limit < data.labels().count()) {
      int[] keep = new int[limit];
      for (int i = 0; i < limit; i++) {
        keep[i] = i;
      }
      data = data.select(keep);
    }
    return new IdxImageDataset(spec + "@sha256:" + fingerprint(data), data);
  }

  /**
   * The idx files behind a {@code demo:} or {@code idx:} spec, as an input of {@link IdxImport}
   * named {@code split}, with the spec's limit; empty for any other spec.
   *
   * @throws NoSuchFileException when an {@code idx:} spec names files that do not exist
   */
  public static Optional<IdxImport.Split> idxImportSplit(String spec, String split)
      throws NoSuchFileException {
    String base = base(spec);
    int limit = Math.max(0, limit(spec));
    if (base.startsWith("demo:")) {
      String prefix = demoPrefix(base.substring("demo:".length()));
      return Optional.of(
          new IdxImport.Split(
              split,
              IdxFile.classpath(DEMO_RESOURCE + prefix + "-images-idx3-ubyte.gz"),
              IdxFile.classpath(DEMO_RESOURCE + prefix + "-labels-idx1-ubyte.gz"),
              limit));
    }
    if (base.startsWith("idx:")) {
      Path prefix = Path.of(base.substring("idx:".length()));
      Path dir = prefix.toAbsolutePath().getParent();
      String name = prefix.getFileName().toString();
      return Optional.of(
          new IdxImport.Split(
              split,
              IdxFile.local(existing(dir, name + "-images-idx3-ubyte")),
              IdxFile.local(existing(dir, name + "-labels-idx1-ubyte")),
              limit));
    }
    return Optional.empty();
  }

  /**
   * {@code spec} with its location made absolute, so that it names the same data from any working
   * directory (executors run in their own): {@code shards:} locations are qualified on their Hadoop
   * filesystem ({@code runs/data#train} becomes {@code file:/home/me/runs/data#train}), {@code
   * idx:} prefixes become absolute paths; {@code demo:} specs are returned as they are.
   */
  public static String qualified(String spec, Configuration conf) {
    String base = base(spec);
    String suffix = spec.substring(base.length());
    if (base.startsWith(SHARDS)) {
      String location = base.substring(SHARDS.length());
      int hash = location.lastIndexOf('#');
      if (hash <= 0) {
        return spec;
      }
      org.apache.hadoop.fs.Path root = new org.apache.hadoop.fs.Path(location.substring(0, hash));
      try {
        root = root.getFileSystem(conf).makeQualified(root);
      } catch (IOException e) {
        throw new UncheckedIOException("Cannot resolve dataset " + spec + ": " + e.getMessage(), e);
      }
      return SHARDS + root + location.substring(hash) + suffix;
    }
    if (base.startsWith("idx:")) {
      return "idx:" + Path.of(base.substring("idx:".length())).toAbsolutePath() + suffix;
    }
    return spec;
  }

  /**
   * Whether {@code spec} names the embedded demo subset ({@code demo:train}, {@code demo:test}).
   */
  public static boolean isDemo(String spec) {
    return spec.startsWith("demo:");
  }

  /** {@code spec} without its {@code ?limit=N} suffix. */
  private static String base(String spec) {
    int q = spec.indexOf("?limit=");
    return q >= 0 ? spec.substring(0, q) : spec;
  }

  /** The {@code N} of {@code ?limit=N}, or -1 when there is none. */
  private static int limit(String spec) {
    int q = spec.indexOf("?limit=");
    if (q < 0) {
      return -1;
    }
    String n = spec.substring(q + "?limit=".length());
    int limit;
    try {
      limit = Integer.parseInt(n);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("Dataset limit must be an integer, cannot be: " + n);
    }
    if (limit < 1) {
      throw new IllegalArgumentException("Dataset limit must be at least 1, cannot be: " + limit);
    }
    return limit;
  }

  private static ImageDataset shards(String spec, String location, int limit) {
    int hash = location.lastIndexOf('#');
    if (hash <= 0 || hash == location.length() - 1) {
      throw new IllegalArgumentException(
          "Shard dataset must be shards:DIR#SPLIT, e.g. shards:/data/fmnist#train, cannot be: "
              + spec);
    }
    org.apache.hadoop.fs.Path root = new org.apache.hadoop.fs.Path(location.substring(0, hash));
    String split = location.substring(hash + 1);
    ShardImageDataset data;
    try {
      data = ShardImageDataset.open(new Configuration(), root, split);
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot read dataset " + spec + ": " + e.getMessage(), e);
    }
    if (limit > 0 && limit < data.size()) {
      return new FirstImages(data, limit, data.id() + "?limit=" + limit);
    }
    return data;
  }

  /** The first {@code size} images of another dataset, with its classes. */
  private static final class FirstImages implements ImageDataset {
    private final ImageDataset data;
    private final int size;
    private final String id;

    FirstImages(ImageDataset data, int size, String id) {
      this.data = data;
      this.size = size;
      this.id = id;
    }

    @Override
    public String id() {
      return id;
    }

    @Override
    public int size() {
      return size;
    }

    @Override
    public int numClasses() {
      return data.numClasses();
    }

    @Override
    public int label(int index) {
      return data.label(Objects.checkIndex(index, size));
    }

    @Override
    public RgbImage image(int index) {
      return data.image(Objects.checkIndex(index, size));
    }

    /**
     * The blocks of the whole dataset, cut at {@code size}: training still reads block by block.
     */
    @Override
    public int[] blocks() {
      int[] all = data.blocks();
      int[] kept = new int[all.length];
      int n = 0;
      int left = size;
      for (int b = 0; b < all.length && left > 0; b++) {
        kept[n++] = Math.min(all[b], left);
        left -= kept[n - 1];
      }
      return Arrays.copyOf(kept, n);
    }
  }

  private static String demoPrefix(String split) {
    return switch (split) {
      case "train" -> "train";
      case "test" -> "t10k";
      default ->
          throw new IllegalArgumentException(
              "Unknown demo split '" + split + "'; expected demo:train or demo:test");
    };
  }

  private static IdxDataset demo(String split) throws IOException {
    String prefix = demoPrefix(split);
    IdxImages images;
    IdxLabels labels;
    try (InputStream in = resource(prefix + "-images-idx3-ubyte.gz")) {
      images = IdxReader.readImages(in, "demo:" + split + " images");
    }
    try (InputStream in = resource(prefix + "-labels-idx1-ubyte.gz")) {
      labels = IdxReader.readLabels(in, "demo:" + split + " labels");
    }
    return new IdxDataset(images, labels);
  }

  private static InputStream resource(String name) throws IOException {
    InputStream in = Datasets.class.getClassLoader().getResourceAsStream(DEMO_RESOURCE + name);
    if (in == null) {
      throw new NoSuchFileException("classpath:" + DEMO_RESOURCE + name);
    }
    return in;
  }

  private static IdxDataset idx(Path prefix) throws IOException {
    Path dir = prefix.toAbsolutePath().getParent();
    String name = prefix.getFileName().toString();
    Path images = existing(dir, name + "-images-idx3-ubyte");
    Path labels = existing(dir, name + "-labels-idx1-ubyte");
    return IdxReader.readDataset(images, labels);
  }

  private static Path existing(Path dir, String stem) throws NoSuchFileException {
    for (String candidate : new String[] {stem + ".gz", stem}) {
      Path p = dir.resolve(candidate);
      if (Files.isRegularFile(p)) {
        return p;
      }
    }
    throw new NoSuchFileException(dir.resolve(stem) + "[.gz]", null, "idx file not found");
  }

  /** First 16 hex digits of the SHA-256 of the pixels and labels. */
  private static String fingerprint(IdxDataset data) {
    try {
      MessageDigest sha = MessageDigest.getInstance("SHA-256");
      sha.update(data.images().pixels());
      sha.update(data.labels().labels());
      return HexFormat.of().formatHex(sha.digest()).substring(0, 16);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
