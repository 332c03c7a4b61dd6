package org.dtmspark.data.cache;

import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.dtmspark.core.data.ViewParams;
import org.dtmspark.core.io.HalfFloats;
import org.dtmspark.core.teacher.TargetStore;
import org.dtmspark.data.shard.Manifest.ShardEntry;
import org.dtmspark.data.shard.RejectRow;
import org.dtmspark.data.shard.ShardFormatException;
import org.dtmspark.data.shard.ShardImageDataset;

/**
 * The targets of a target cache for the images of a {@link ShardImageDataset}: the {@link
 * TargetStore} that training replays cached views from.
 *
 * <p>{@link #open} checks the cache against the dataset: {@code _cache_meta.json} exists, covers
 * the dataset's split and was made from the same image shards (its {@code images_manifest_sha256}
 * is the SHA-256 of the dataset's {@code _manifest.json}), accounts for every image, and has at
 * least one sampled view per image; every image shard has its cache file. It reads the (small)
 * reject files, so that {@link #has} needs no cache file.
 *
 * <p>Dataset index {@code i} lies in image shard {@code s} (the dataset reads shards in file-name
 * order), whose targets are in cache file {@code <cache>/<shard file name>}. The store reads by
 * view: when view {@code k} of an image of shard {@code s} is first needed, or when {@code (s, k)}
 * is {@link #prefetch}ed (then on the store's I/O thread), it reads the row groups of view {@code
 * k} of that file ({@link TargetCacheSchema}'s layout by view): the view parameters and token bytes
 * of that view of every image of the shard, checked against the dataset's image ids, kept as stored
 * (fp16 or fp32) and widened to float32 only in {@link #tokens}. Other views and the full view are
 * not read. Prefetched views are held until {@link #release}d; of the others at most {@code
 * residentFiles} are held, least recently used first out. Memory per view held: an ImageNet shard
 * of 256 MB has about 2,000 images x 200,704 bytes (196 tokens x 512 fp16) = 400 MB. {@link
 * #bytesRead} counts the bytes read from cache files.
 *
 * <p>One caller thread at a time, as {@link TargetStore} says.
 */
public final class ShardTargetStore implements TargetStore {
  /** Cache file views held in memory by default, besides the prefetched ones. */
  public static final int DEFAULT_RESIDENT_FILES = 2;

  private final Configuration conf;
  private final Path cacheRoot;
  private final TargetCacheMeta meta;
  private final ShardImageDataset images;
  private final int residentFiles;
  private final String[] fileOfShard;
  private final int[] shardStart; // dataset index of each shard's first image; one extra at the end
  private final Set<Long> rejected;
  private final LinkedHashMap<Long, CompletableFuture<LoadedView>> resident;
  private final Map<Long, Integer> pins = new HashMap<>();
  private final AtomicLong bytesRead = new AtomicLong();
  private final AtomicInteger loads = new AtomicInteger();
  private ExecutorService io;

  private ShardTargetStore(
      Configuration conf,
      Path cacheRoot,
      TargetCacheMeta meta,
      ShardImageDataset images,
      int residentFiles,
      String[] fileOfShard,
      int[] shardStart,
      Set<Long> rejected) {
    this.conf = conf;
    this.cacheRoot = cacheRoot;
    this.meta = meta;
    this.images = images;
    this.residentFiles = residentFiles;
    this.fileOfShard = fileOfShard;
    this.shardStart = shardStart;
    this.rejected = rejected;
    this.resident = new LinkedHashMap<>(4, 0.75f, true);
  }

  /** Opens the cache at {@code cacheRoot} for {@code images}, holding two files at most. */
  public static ShardTargetStore open(Configuration conf, Path cacheRoot, ShardImageDataset images)
      throws IOException {
    return open(conf, cacheRoot, images, DEFAULT_RESIDENT_FILES);
  }

  /**
   * Opens the cache at {@code cacheRoot} for {@code images}.
   *
   * @param residentFiles cache files held in memory at most, at least 1
   * @throws ShardFormatException naming the cache and the rule when the cache does not fit the
   *     dataset, is incomplete, or lacks a file
   */
  public static ShardTargetStore open(
      Configuration conf, Path cacheRoot, ShardImageDataset images, int residentFiles)
      throws IOException {
    if (residentFiles < 1) {
      throw new IllegalArgumentException(
          "Resident cache files must be at least 1, cannot be: " + residentFiles);
    }
    FileSystem fs = cacheRoot.getFileSystem(conf);
    Path root = fs.makeQualified(cacheRoot);
    TargetCacheMeta meta;
    try {
      meta = TargetCacheMeta.read(conf, root);
    } catch (FileNotFoundException e) {
      throw new ShardFormatException(
          "Target cache "
              + root
              + " has no "
              + TargetCacheMeta.FILE_NAME
              + ": it is not a cache, or the run that writes it has not finished",
          e);
    }
    String where = "Target cache " + root;
    if (!meta.split().equals(images.split())) {
      throw new ShardFormatException(
          where
              + " holds split "
              + meta.split()
              + ", the dataset "
              + images.id()
              + " is split "
              + images.split());
    }
    if (!meta.imagesManifestSha256().equals(images.manifestSha256())) {
      throw new ShardFormatException(
          where
              + " was made from other image shards: its images_manifest_sha256 is "
              + meta.imagesManifestSha256()
              + ", the SHA-256 of "
              + images.root()
              + "/_manifest.json is "
              + images.manifestSha256());
    }
    if (!meta.complete(images.size())) {
      throw new ShardFormatException(
          where
              + " does not account for the "
              + images.size()
              + " images of the dataset: "
              + meta.images()
              + " images with "
              + meta.rows()
              + " rows, "
              + meta.rejectedImages()
              + " rejected");
    }
    if (meta.viewsPerImage() < 1) {
      throw new ShardFormatException(
          where + " has no sampled views (views_per_image 0): training needs at least one");
    }
    List<ShardEntry> shards = new ArrayList<>(images.manifest().shards(images.split()));
    shards.sort(Comparator.comparing(ShardEntry::path));
    String[] fileOfShard = new String[shards.size()];
    int[] shardStart = new int[shards.size() + 1];
    Set<String> listed = new HashSet<>(meta.files());
    Set<Long> rejected = new HashSet<>();
    for (int s = 0; s < shards.size(); s++) {
      String name = TargetCacheSchema.fileFor(shards.get(s).path());
      if (!listed.contains(name) || !fs.exists(new Path(root, name))) {
        throw new ShardFormatException(
            where + " lacks " + name + ", the targets of image shard " + shards.get(s).path());
      }
      fileOfShard[s] = name;
      shardStart[s + 1] = Math.toIntExact(shardStart[s] + shards.get(s).rows());
      for (RejectRow r : TargetRejects.read(conf, root, name)) {
        rejected.add(TargetRejects.imageId(r));
      }
    }
    if (rejected.size() != meta.rejectedImages()) {
      throw new ShardFormatException(
          where
              + " has "
              + rejected.size()
              + " reject rows under _rejects/; its meta says "
              + meta.rejectedImages());
    }
    return new ShardTargetStore(
        conf, root, meta, images, residentFiles, fileOfShard, shardStart, rejected);
  }

  /** The cache's meta. */
  public TargetCacheMeta meta() {
    return meta;
  }

  /** Views of cache files read so far (a view evicted and read again counts twice). */
  public int fileLoads() {
    return loads.get();
  }

  /** The teacher (as named when the cache was made, and its weights' hash) and the cache root. */
  @Override
  public String id() {
    return meta.teacherId()
        + "@sha256:"
        + meta.teacherSha256().substring(0, Math.min(16, meta.teacherSha256().length()))
        + " cache "
        + cacheRoot;
  }

  @Override
  public int numTokens() {
    return meta.numTokens();
  }

  @Override
  public int dim() {
    return meta.dim();
  }

  @Override
  public int viewsPerImage() {
    return meta.viewsPerImage();
  }

  @Override
  public boolean has(int index) {
    checkIndex(index);
    return !rejected.contains(images.imageId(index));
  }

  @Override
  public ViewParams view(int index, int view) {
    LoadedView loaded = viewOf(index, view);
    return loaded.params[loaded.row(index)];
  }

  @Override
  public void tokens(int index, int view, float[] out, int offset) {
    int n = meta.numTokens() * meta.dim();
    if (offset < 0 || out.length - offset < n) {
      throw new IllegalArgumentException(
          "Token output needs "
              + n
              + " floats from offset "
              + offset
              + ", cannot hold them: length "
              + out.length);
    }
    LoadedView loaded = viewOf(index, view);
    byte[] bytes = loaded.tokens[loaded.row(index)];
    ByteBuffer in = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
    if (TargetRow.FP16.equals(meta.dtype())) {
      for (int i = 0; i < n; i++) {
        out[offset + i] = HalfFloats.halfToFloat(in.getShort());
      }
    } else {
      in.asFloatBuffer().get(out, offset, n);
    }
  }

  @Override
  public synchronized void prefetch(int block, int view) {
    checkView(block, view);
    long key = key(block, view);
    pins.merge(key, 1, Integer::sum);
    if (!resident.containsKey(key)) {
      if (io == null) {
        io =
            Executors.newSingleThreadExecutor(
                r -> {
                  Thread t = new Thread(r, "dtm-target-read-ahead");
                  t.setDaemon(true);
                  return t;
                });
      }
      resident.put(key, CompletableFuture.supplyAsync(() -> loadUnchecked(block, view), io));
      evict();
    }
  }

  @Override
  public synchronized void release(int block, int view) {
    checkView(block, view);
    long key = key(block, view);
    Integer held = pins.get(key);
    if (held == null) {
      return;
    }
    if (held == 1) {
      pins.remove(key);
    } else {
      pins.put(key, held - 1);
    }
    evict();
  }

  @Override
  public long bytesRead() {
    return bytesRead.get();
  }

  @Override
  public synchronized void close() {
    resident.clear();
    pins.clear();
    if (io != null) {
      io.shutdownNow();
    }
  }

  private long key(int shard, int view) {
    return (long) shard * meta.viewsPerImage() + view;
  }

  private void checkView(int block, int view) {
    if (block < 0 || block >= fileOfShard.length) {
      throw new IndexOutOfBoundsException(
          "Block must be in [0, " + fileOfShard.length + "), cannot be: " + block);
    }
    if (view < 0 || view >= meta.viewsPerImage()) {
      throw new IllegalArgumentException(
          "View must be in [0, " + meta.viewsPerImage() + "), cannot be: " + view);
    }
  }

  /** Drops the least recently used views that nobody holds, down to {@code residentFiles}. */
  private void evict() {
    int unpinned = 0;
    for (Long k : resident.keySet()) {
      if (!pins.containsKey(k)) {
        unpinned++;
      }
    }
    var it = resident.keySet().iterator();
    while (unpinned > residentFiles && it.hasNext()) {
      if (!pins.containsKey(it.next())) {
        it.remove();
        unpinned--;
      }
    }
  }

  private void checkIndex(int index) {
    if (index < 0 || index >= images.size()) {
      throw new IndexOutOfBoundsException(
          "Image index must be in [0, " + images.size() + "), cannot be: " + index);
    }
  }

  private LoadedView viewOf(int index, int view) {
    checkIndex(index);
    if (view < 0 || view >= meta.viewsPerImage()) {
      throw new IllegalArgumentException(
          "View must be in [0, " + meta.viewsPerImage() + "), cannot be: " + view);
    }
    if (!has(index)) {
      throw new IllegalArgumentException(
          "Image "
              + index
              + " (id "
              + images.imageId(index)
              + ") has no targets: the targets job rejected it");
    }
    int shard = shardOf(index);
    long key = key(shard, view);
    CompletableFuture<LoadedView> loaded;
    boolean load = false;
    synchronized (this) {
      loaded = resident.get(key);
      if (loaded == null) {
        loaded = new CompletableFuture<>();
        resident.put(key, loaded);
        load = true;
        evict();
      }
    }
    if (load) {
      try {
        loaded.complete(loadUnchecked(shard, view));
      } catch (RuntimeException e) {
        loaded.completeExceptionally(e);
      }
    }
    try {
      return loaded.join();
    } catch (CompletionException e) {
      synchronized (this) {
        resident.remove(key, loaded);
      }
      if (e.getCause() instanceof RuntimeException r) {
        throw r;
      }
      throw e;
    }
  }

  private LoadedView loadUnchecked(int shard, int view) {
    try {
      return load(shard, view);
    } catch (IOException e) {
      throw new UncheckedIOException(
          "Cannot read view "
              + view
              + " of target cache file "
              + new Path(cacheRoot, fileOfShard[shard])
              + ": "
              + e.getMessage(),
          e);
    }
  }

  private int shardOf(int index) {
    int lo = 0;
    int hi = fileOfShard.length - 1;
    while (lo < hi) {
      int mid = (lo + hi + 1) >>> 1;
      if (shardStart[mid] <= index) {
        lo = mid;
      } else {
        hi = mid - 1;
      }
    }
    return lo;
  }

  /** The views every file of the cache holds, in file order: 0..K-1, then the full view. */
  private List<Integer> expectedViews() {
    List<Integer> views = new ArrayList<>();
    for (int r = 0; r < meta.rowsPerImage(); r++) {
      views.add(r < meta.viewsPerImage() ? r : TargetCacheSchema.FULL_VIEW);
    }
    return views;
  }

  /** Reads view {@code view} of one cache file and checks it against the shard's images. */
  private LoadedView load(int shard, int view) throws IOException {
    Path path = new Path(cacheRoot, fileOfShard[shard]);
    int first = shardStart[shard];
    int count = shardStart[shard + 1] - first;
    int[] rowOf = new int[count];
    List<ViewParams> params = new ArrayList<>();
    List<byte[]> tokens = new ArrayList<>();
    try (TargetCacheReader reader =
        TargetCacheReader.openView(conf, path, view, true, bytesRead::addAndGet, expectedViews())) {
      int row = 0;
      for (int j = 0; j < count; j++) {
        long id = images.imageId(first + j);
        if (rejected.contains(id)) {
          rowOf[j] = -1;
          continue;
        }
        if (!reader.hasNext()) {
          throw new ShardFormatException(
              "Cache file " + path + " ends before view " + view + " of image " + id);
        }
        TargetRow t = reader.next();
        if (t.imageId() != id
            || t.view() != view
            || t.numTokens() != meta.numTokens()
            || t.dim() != meta.dim()
            || !t.dtype().equals(meta.dtype())) {
          throw new ShardFormatException(
              "Cache file "
                  + path
                  + ": row "
                  + row
                  + " of view "
                  + view
                  + " must be view "
                  + view
                  + " of image "
                  + id
                  + " with ["
                  + meta.numTokens()
                  + ", "
                  + meta.dim()
                  + "] "
                  + meta.dtype()
                  + " tokens, cannot be: view "
                  + t.view()
                  + " of image "
                  + t.imageId()
                  + " with ["
                  + t.numTokens()
                  + ", "
                  + t.dim()
                  + "] "
                  + t.dtype());
        }
        rowOf[j] = row++;
        params.add(t.params());
        tokens.add(t.tokens());
      }
      if (reader.hasNext()) {
        throw new ShardFormatException(
            "Cache file "
                + path
                + " has rows of view "
                + view
                + " beyond the "
                + row
                + " of its shard's images");
      }
    }
    loads.incrementAndGet();
    return new LoadedView(
        first, rowOf, params.toArray(ViewParams[]::new), tokens.toArray(byte[][]::new));
  }

  /** One view of one cache file in memory: per image of its shard, its row (-1: rejected). */
  private record LoadedView(int first, int[] rowOf, ViewParams[] params, byte[][] tokens) {
    int row(int index) {
      return rowOf[index - first];
    }
  }

  /**
   * Which views are resident, for tests: {@code <cache file name>#<view>}, least recently used
   * first.
   */
  synchronized List<String> residentFiles() {
    List<String> names = new ArrayList<>();
    for (Long k : resident.keySet()) {
      names.add(
          fileOfShard[(int) (k / meta.viewsPerImage())] + "#" + (int) (k % meta.viewsPerImage()));
    }
    return names;
  }
}
