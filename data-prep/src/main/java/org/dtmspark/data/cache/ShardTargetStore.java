package org.dtmspark.data.cache;

import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
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
 * order), whose targets are in cache file {@code <cache>/<shard file name>}. Cache files are loaded
 * whole when first needed: the view parameters of every row and the token bytes of the sampled
 * views (the full-view tokens are skipped), checked against the dataset's image ids, and kept as
 * stored (fp16 or fp32), widened to float32 only in {@link #tokens}. At most {@code residentFiles}
 * files are held, least recently used first out: memory is about {@code residentFiles} cache files
 * (an ImageNet shard of 256 MB with K = 4 has about 2,000 images x 4 x 200,704 bytes = 1.6 GB of
 * tokens).
 *
 * <p>One thread at a time, as {@link TargetStore} says.
 */
public final class ShardTargetStore implements TargetStore {
  /** Cache files held in memory by default. */
  public static final int DEFAULT_RESIDENT_FILES = 2;

  private final Configuration conf;
  private final Path cacheRoot;
  private final TargetCacheMeta meta;
  private final ShardImageDataset images;
  private final int residentFiles;
  private final String[] fileOfShard;
  private final int[] shardStart; // dataset index of each shard's first image; one extra at the end
  private final Set<Long> rejected;
  private final LinkedHashMap<Integer, LoadedFile> resident;
  private int loads;

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

  /** Cache files read so far (a file evicted and read again counts twice). */
  public int fileLoads() {
    return loads;
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
    LoadedFile file = fileOf(index, view);
    return file.params[file.row(index, view)];
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
    LoadedFile file = fileOf(index, view);
    byte[] bytes = file.tokens[file.row(index, view)];
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
  public void close() {
    resident.clear();
  }

  private void checkIndex(int index) {
    if (index < 0 || index >= images.size()) {
      throw new IndexOutOfBoundsException(
          "Image index must be in [0, " + images.size() + "), cannot be: " + index);
    }
  }

  private LoadedFile fileOf(int index, int view) {
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
    LoadedFile file = resident.get(shard);
    if (file == null) {
      try {
        file = load(shard);
      } catch (IOException e) {
        throw new UncheckedIOException(
            "Cannot read target cache file "
                + new Path(cacheRoot, fileOfShard[shard])
                + ": "
                + e.getMessage(),
            e);
      }
      resident.put(shard, file);
      while (resident.size() > residentFiles) {
        Integer eldest = resident.keySet().iterator().next();
        resident.remove(eldest);
      }
    }
    return file;
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

  /** Reads one cache file and checks it against the dataset's images of its shard. */
  private LoadedFile load(int shard) throws IOException {
    Path path = new Path(cacheRoot, fileOfShard[shard]);
    int first = shardStart[shard];
    int count = shardStart[shard + 1] - first;
    int perImage = meta.rowsPerImage();
    int[] firstRow = new int[count];
    List<ViewParams> params = new ArrayList<>();
    List<byte[]> tokens = new ArrayList<>();
    try (TargetCacheReader reader = TargetCacheReader.open(conf, path, true, null)) {
      int row = 0;
      for (int j = 0; j < count; j++) {
        long id = images.imageId(first + j);
        if (rejected.contains(id)) {
          firstRow[j] = -1;
          continue;
        }
        firstRow[j] = row;
        for (int r = 0; r < perImage; r++) {
          int view = r < meta.viewsPerImage() ? r : TargetCacheSchema.FULL_VIEW;
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
          params.add(t.params());
          tokens.add(t.isFullView() ? null : t.tokens());
          row++;
        }
      }
      if (reader.hasNext()) {
        throw new ShardFormatException(
            "Cache file " + path + " has rows beyond the " + row + " of its shard's images");
      }
    }
    loads++;
    return new LoadedFile(
        first, firstRow, params.toArray(ViewParams[]::new), tokens.toArray(byte[][]::new));
  }

  /** One cache file in memory: per image of its shard, the index of the image's first row. */
  private record LoadedFile(int first, int[] firstRow, ViewParams[] params, byte[][] tokens) {
    int row(int index, int view) {
      return firstRow[index - first] + view;
    }
  }

  /** Which files are resident, for tests: cache file names, least recently used first. */
  List<String> residentFiles() {
    List<String> names = new ArrayList<>();
    for (Map.Entry<Integer, LoadedFile> e : resident.entrySet()) {
      names.add(fileOfShard[e.getKey()]);
    }
    return names;
  }
}
