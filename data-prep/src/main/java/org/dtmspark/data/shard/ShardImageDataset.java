package org.dtmspark.data.shard;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.dtmspark.core.data.ImageDataset;
import org.dtmspark.core.data.ImageSource;
import org.dtmspark.core.data.RasterDecoder;
import org.dtmspark.core.data.RgbImage;
import org.dtmspark.data.image.ShardRasterDecoder;
import org.dtmspark.data.shard.Manifest.ShardEntry;

/**
 * One split of a sharded dataset ({@code <root>/<split>/part-*.parquet} plus {@code
 * <root>/_manifest.json}) with random access by index, for training and evaluation.
 *
 * <p>Opening reads the small columns of every shard of the split in file-name order (not the image
 * bytes) and checks them against the manifest: the same files, sizes and row counts, labels in
 * {@code [0, numClasses)}, each row's wnid the synset of its label. Index {@code i} is the i-th row
 * in that order; each shard is one {@link #blocks() block}.
 *
 * <p>Image bytes are read a whole shard at a time, when an image of it is first asked for or when
 * the shard is {@link #prefetch}ed (then on this dataset's I/O thread, while the caller goes on). A
 * prefetched shard is held until {@link #release}d; of the others at most {@code residentShards}
 * are held (least recently used goes out). Training visits the images shard by shard ({@link
 * org.dtmspark.core.train.BatchPlan}'s streams), so memory is a few shards' encoded bytes, not the
 * split's (ImageNet train: about 140 GB). The small columns cost about 100 bytes per image. {@link
 * #bytesRead} counts the bytes read from storage by image reads (not by {@link #open}).
 *
 * <p>{@link #image} may be called from any thread.
 */
public final class ShardImageDataset implements ImageDataset {
  private final String id;
  private final String location;
  private final Path root;
  private final String split;
  private final String manifestSha256;
  private final Manifest manifest;
  private final int[] labels;
  private final long[] imageIds;
  private final String[] keys;
  private final int[] blocks;
  private final Configuration conf;
  private final Path[] shardFiles;
  private final int[] shardStart;
  private final int residentShards;
  private final LinkedHashMap<Integer, CompletableFuture<byte[][]>> resident =
      new LinkedHashMap<>(8, 0.75f, true);
  private final Map<Integer, Integer> pins = new HashMap<>();
  private final AtomicLong bytesRead = new AtomicLong();
  private ExecutorService io;

  private ShardImageDataset(
      String id,
      String location,
      Path root,
      String split,
      String manifestSha256,
      Manifest manifest,
      int[] labels,
      long[] imageIds,
      String[] keys,
      int[] blocks,
      Configuration conf,
      Path[] shardFiles,
      int residentShards) {
    this.id = id;
    this.location = location;
    this.root = root;
    this.split = split;
    this.manifestSha256 = manifestSha256;
    this.manifest = manifest;
    this.labels = labels;
    this.imageIds = imageIds;
    this.keys = keys;
    this.blocks = blocks;
    this.conf = conf;
    this.shardFiles = shardFiles;
    this.residentShards = residentShards;
    this.shardStart = new int[blocks.length + 1];
    for (int b = 0; b < blocks.length; b++) {
      shardStart[b + 1] = shardStart[b] + blocks[b];
    }
  }

  /**
   * Reads split {@code split} of the sharded dataset at {@code root} (any Hadoop filesystem).
   *
   * @throws IllegalArgumentException when the manifest has no split {@code split}
   * @throws ShardFormatException when the manifest or a shard has another format version, or the
   *     shard files disagree with the manifest
   */
  public static ShardImageDataset open(Configuration conf, Path root, String split)
      throws IOException {
    return open(conf, root, split, DEFAULT_RESIDENT_SHARDS);
  }

  /** Shards whose image bytes {@link #open(Configuration, Path, String)} holds at most. */
  public static final int DEFAULT_RESIDENT_SHARDS = 3;

  /**
   * Reads split {@code split} of the sharded dataset at {@code root}, holding the image bytes of at
   * most {@code residentShards} shards.
   */
  public static ShardImageDataset open(
      Configuration conf, Path root, String split, int residentShards) throws IOException {
    if (residentShards < 1) {
      throw new IllegalArgumentException(
          "Resident shards must be at least 1, cannot be: " + residentShards);
    }
    VersionedJsonFile.Text manifestText = VersionedJsonFile.read(conf, Manifest.path(root));
    Manifest manifest = Manifest.fromJson(manifestText.json(), manifestText.source());
    if (!manifest.splits().containsKey(split)) {
      throw new IllegalArgumentException(
          "Split must be one of "
              + manifest.splits().keySet()
              + " in "
              + Manifest.path(root)
              + ", cannot be: "
              + split);
    }
    FileSystem fs = root.getFileSystem(conf);
    Path qualifiedRoot = fs.makeQualified(root);
    Path dir = new Path(qualifiedRoot, split);
    List<FileStatus> files = shardFiles(fs, dir);
    Map<String, ShardEntry> expected = new LinkedHashMap<>();
    for (ShardEntry entry : manifest.shards(split)) {
      expected.put(entry.path(), entry);
    }
    checkSameFiles(dir, split, files, expected);

    long total = manifest.splits().get(split).images();
    if (total > Integer.MAX_VALUE - 8) {
      throw new IllegalArgumentException(
          "Split " + split + " has " + total + " images, more than an in-memory dataset holds");
    }
    int n = (int) total;
    int[] labels = new int[n];
    long[] imageIds = new long[n];
    String[] keys = new String[n];
    Path[] paths = new Path[files.size()];
    List<String> synsets = manifest.synsets();
    int i = 0;
    int[] blocks = new int[files.size()];
    int block = 0;
    MessageDigest digest = sha256();
    for (FileStatus file : files) {
      ShardEntry entry = expected.get(split + "/" + file.getPath().getName());
      if (file.getLen() != entry.bytes()) {
        throw new ShardFormatException(
            "Shard "
                + file.getPath()
                + " has "
                + file.getLen()
                + " bytes; the manifest says "
                + entry.bytes());
      }
      int start = i;
      paths[block] = file.getPath();
      try (ShardReader reader =
          ShardReader.open(conf, file.getPath(), ShardReadOptions.ALL.withoutImage())) {
        if (reader.rowCount() != entry.rows() || i + reader.rowCount() > n) {
          throw new ShardFormatException(
              "Shard "
                  + file.getPath()
                  + " has "
                  + reader.rowCount()
                  + " rows; the manifest says "
                  + entry.rows());
        }
        while (reader.hasNext()) {
          ImageRow row = reader.next();
          checkRow(file.getPath(), row, split, synsets);
          labels[i] = row.label();
          imageIds[i] = row.imageId();
          keys[i] = row.key();
          i++;
        }
      }
      if (i - start != entry.rows()) {
        throw new ShardFormatException(
            "Shard "
                + file.getPath()
                + " yielded "
                + (i - start)
                + " rows, expected "
                + entry.rows());
      }
      digest.update((entry.path() + " " + entry.sha256() + "\n").getBytes(StandardCharsets.UTF_8));
      blocks[block++] = i - start;
    }
    String location = dir.toString();
    String id = location + "@sha256:" + HexFormat.of().formatHex(digest.digest());
    return new ShardImageDataset(
        id,
        location,
        qualifiedRoot,
        split,
        Manifest.sha256Hex(manifestText.json()),
        manifest,
        labels,
        imageIds,
        keys,
        blocks,
        conf,
        paths,
        residentShards);
  }

  private static List<FileStatus> shardFiles(FileSystem fs, Path dir) throws IOException {
    FileStatus[] found =
        fs.listStatus(
            dir, p -> p.getName().startsWith("part-") && p.getName().endsWith(".parquet"));
    List<FileStatus> files = new ArrayList<>(Arrays.asList(found));
    files.sort(Comparator.comparing(f -> f.getPath().getName()));
    return files;
  }

  private static void checkSameFiles(
      Path dir, String split, List<FileStatus> files, Map<String, ShardEntry> expected)
      throws ShardFormatException {
    TreeSet<String> missing = new TreeSet<>(expected.keySet());
    TreeSet<String> unexpected = new TreeSet<>();
    for (FileStatus file : files) {
      String relative = split + "/" + file.getPath().getName();
      if (!missing.remove(relative)) {
        unexpected.add(relative);
      }
    }
    if (!missing.isEmpty() || !unexpected.isEmpty()) {
      throw new ShardFormatException(
          "Shard files in "
              + dir
              + " do not match the manifest: missing "
              + missing
              + ", not in the manifest "
              + unexpected);
    }
  }

  private static void checkRow(Path file, ImageRow row, String split, List<String> synsets)
      throws ShardFormatException {
    if (row.label() >= synsets.size()) {
      throw new ShardFormatException(
          "Row "
              + row.key()
              + " of "
              + file
              + ": label must be in [0, "
              + synsets.size()
              + "), cannot be: "
              + row.label());
    }
    if (!synsets.get(row.label()).equals(row.wnid())) {
      throw new ShardFormatException(
          "Row "
              + row.key()
              + " of "
              + file
              + ": wnid must be "
              + synsets.get(row.label())
              + " (the synset of label "
              + row.label()
              + "), cannot be: "
              + row.wnid());
    }
    if (!row.split().equals(split)) {
      throw new ShardFormatException(
          "Row "
              + row.key()
              + " of "
              + file
              + ": split must be "
              + split
              + ", cannot be: "
              + row.split());
    }
  }

  private static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is missing from this JVM", e);
    }
  }

  /**
   * {@code <root>/<split>@sha256:<hex>}, the hash taken over the manifest's path and SHA-256 of
   * each shard of the split: equal ids mean equal shard bytes.
   */
  @Override
  public String id() {
    return id;
  }

  @Override
  public int size() {
    return labels.length;
  }

  /** The size of the manifest's synset list. */
  @Override
  public int numClasses() {
    return manifest.synsets().size();
  }

  @Override
  public int label(int index) {
    return labels[index];
  }

  /** Decodes image {@code index} from its stored bytes, reading its shard first if needed. */
  @Override
  public RgbImage image(int index) {
    return RgbImage.decode(bytes(index), location + "/" + keys[index]);
  }

  /** The stored bytes of image {@code index}, for the loader's threads to decode. */
  @Override
  public ImageSource source(int index) {
    return ImageSource.encoded(location + "/" + key(index), bytes(index), null);
  }

  /** Shard images are decoded as sharding decodes them ({@link ShardRasterDecoder}). */
  @Override
  public Supplier<RasterDecoder> decoders() {
    return ShardRasterDecoder::new;
  }

  /** The stored bytes of image {@code index}. */
  public byte[] bytes(int index) {
    if (index < 0 || index >= keys.length) {
      throw new IndexOutOfBoundsException(
          "Image index must be in [0, " + keys.length + "), cannot be: " + index);
    }
    int shard = Arrays.binarySearch(shardStart, index);
    shard = shard >= 0 ? shard : -shard - 2;
    while (shard + 1 < shardStart.length - 1 && shardStart[shard + 1] == index) {
      shard++; // skip empty shards
    }
    return shardImages(shard)[index - shardStart[shard]];
  }

  private byte[][] shardImages(int shard) {
    CompletableFuture<byte[][]> images;
    boolean load = false;
    synchronized (this) {
      images = resident.get(shard);
      if (images == null) {
        images = new CompletableFuture<>();
        resident.put(shard, images);
        load = true;
        evict();
      }
    }
    if (load) {
      try {
        images.complete(readShard(shard));
      } catch (RuntimeException e) {
        images.completeExceptionally(e);
      }
    }
    try {
      return images.join();
    } catch (CompletionException e) {
      synchronized (this) {
        resident.remove(shard, images);
      }
      if (e.getCause() instanceof RuntimeException r) {
        throw r;
      }
      throw e;
    }
  }

  /** Starts reading the images of shard {@code block} on the I/O thread, and holds them. */
  @Override
  public synchronized void prefetch(int block) {
    checkBlock(block);
    pins.merge(block, 1, Integer::sum);
    if (!resident.containsKey(block)) {
      if (io == null) {
        io =
            Executors.newSingleThreadExecutor(
                r -> {
                  Thread t = new Thread(r, "dtm-shard-read-ahead");
                  t.setDaemon(true);
                  return t;
                });
      }
      resident.put(block, CompletableFuture.supplyAsync(() -> readShard(block), io));
      evict();
    }
  }

  @Override
  public synchronized void release(int block) {
    checkBlock(block);
    Integer held = pins.get(block);
    if (held == null) {
      return;
    }
    if (held == 1) {
      pins.remove(block);
    } else {
      pins.put(block, held - 1);
    }
    evict();
  }

  @Override
  public long bytesRead() {
    return bytesRead.get();
  }

  /** Drops the least recently used shards that nobody holds, down to {@code residentShards}. */
  private void evict() {
    int unpinned = 0;
    for (Integer shard : resident.keySet()) {
      if (!pins.containsKey(shard)) {
        unpinned++;
      }
    }
    var it = resident.keySet().iterator();
    while (unpinned > residentShards && it.hasNext()) {
      if (!pins.containsKey(it.next())) {
        it.remove();
        unpinned--;
      }
    }
  }

  private void checkBlock(int block) {
    if (block < 0 || block >= blocks.length) {
      throw new IndexOutOfBoundsException(
          "Block must be in [0, " + blocks.length + "), cannot be: " + block);
    }
  }

  private byte[][] readShard(int shard) {
    byte[][] images = new byte[blocks[shard]][];
    Path file = shardFiles[shard];
    try (ShardReader reader =
        ShardReader.open(conf, file, ShardReadOptions.ALL, bytesRead::addAndGet)) {
      int row = 0;
      while (reader.hasNext()) {
        ImageRow r = reader.next();
        int index = shardStart[shard] + row;
        if (row >= images.length || r.imageId() != imageIds[index]) {
          throw new ShardFormatException(
              "Shard " + file + " changed since it was opened: row " + row + " is " + r.key());
        }
        images[row++] = r.image();
      }
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(
          "Cannot read images of shard " + file + ": " + e.getMessage(), e);
    }
    return images;
  }

  /** One block per shard file, in file-name order: the rows of each shard. */
  @Override
  public int[] blocks() {
    return blocks.clone();
  }

  /** The {@code key} (file stem) of image {@code index}. */
  public String key(int index) {
    return keys[index];
  }

  /** The {@code image_id} of image {@code index}. */
  public long imageId(int index) {
    return imageIds[index];
  }

  /** The dataset's manifest. */
  public Manifest manifest() {
    return manifest;
  }

  /** The root of the shard set, fully qualified. */
  public Path root() {
    return root;
  }

  /** The split this dataset holds. */
  public String split() {
    return split;
  }

  /**
   * Lower-case hex SHA-256 of the bytes of the {@code _manifest.json} this dataset was opened with
   * (see {@link Manifest#fileSha256}).
   */
  public String manifestSha256() {
    return manifestSha256;
  }
}
