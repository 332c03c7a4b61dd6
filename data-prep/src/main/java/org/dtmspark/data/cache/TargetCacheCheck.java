package org.dtmspark.data.cache;

import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import org.dtmspark.core.data.ViewParams;
import org.dtmspark.data.shard.ImageRow;
import org.dtmspark.data.shard.RejectRow;
import org.dtmspark.data.shard.RowGroupInfo;
import org.dtmspark.data.shard.ShardFormatException;
import org.dtmspark.data.shard.ShardReadOptions;
import org.dtmspark.data.shard.ShardReader;

/**
 * The completeness check of one cache file against its image shard, reading only small columns:
 * every image of the shard is either rejected (a row of its reject file) or has exactly its rows,
 * in shard order, each with the view index and parameters that {@link CacheViews} gives and the
 * token shape and type of the settings; the file records the same settings.
 */
public final class TargetCacheCheck {
  private TargetCacheCheck() {}

  /**
   * What a checked cache file holds.
   *
   * @param cacheFile the cache file's name, e.g. {@code part-00003.parquet}
   * @param images images of the shard with targets
   * @param rejected images of the shard without targets
   * @param rows rows of the cache file
   */
  public record ShardCheck(String cacheFile, long images, long rejected, long rows)
      implements Serializable {
    private static final long serialVersionUID = 1L;
  }

  /**
   * Checks the cache file of {@code imageShardPath}.
   *
   * @param imagesRoot root of the image shards
   * @param imageShardPath the shard's path as the manifest lists it, e.g. {@code
   *     train/part-00003.parquet}
   * @param cacheRoot root of the cache
   * @param settings what the cache must hold
   * @param views the view rule the cache was made with
   * @throws ShardFormatException naming the cache file and the image shard when anything is
   *     missing, extra or different
   */
  public static ShardCheck check(
      Configuration conf,
      Path imagesRoot,
      String imageShardPath,
      Path cacheRoot,
      TargetCacheSettings settings,
      CacheViews views)
      throws IOException {
    String name = TargetCacheSchema.fileFor(imageShardPath);
    Path cacheFile = new Path(cacheRoot, name);
    Path imageShard = new Path(imagesRoot, imageShardPath);
    String what = "Cache file " + cacheFile + " (targets of " + imageShard + ")";
    if (!cacheFile.getFileSystem(conf).exists(cacheFile)) {
      throw new ShardFormatException(what + " is missing");
    }
    Optional<TargetCacheSettings> recorded = TargetCacheReader.settings(conf, cacheFile);
    if (recorded.isEmpty() || !recorded.get().sameTargetsAs(settings)) {
      throw new ShardFormatException(
          what
              + " was made with other settings: "
              + recorded.map(r -> r.differences(settings)).orElse("it records none"));
    }

    List<ImageRow> images = new ArrayList<>();
    try (ShardReader reader =
        ShardReader.open(conf, imageShard, ShardReadOptions.ALL.withoutImage())) {
      reader.forEachRemaining(images::add);
    } catch (FileNotFoundException e) {
      throw new ShardFormatException(what + ": the image shard is missing", e);
    }
    Set<Long> ids = new HashSet<>();
    images.forEach(row -> ids.add(row.imageId()));
    Set<Long> rejected = new HashSet<>();
    for (RejectRow reject : TargetRejects.read(conf, cacheRoot, name)) {
      long id = TargetRejects.imageId(reject);
      if (!ids.contains(id) || !rejected.add(id)) {
        throw new ShardFormatException(
            what + ": reject " + reject.location() + " is not an image of the shard, or repeated");
      }
    }

    long rows = 0;
    // Layout by view: the rows of view v are the images in shard order, in v's row groups.
    for (int r = 0; r < views.rowsPerImage(); r++) {
      int view = views.viewOfRow(r);
      try (TargetCacheReader reader =
          TargetCacheReader.openView(conf, cacheFile, view, false, null)) {
        for (ImageRow image : images) {
          if (rejected.contains(image.imageId())) {
            continue;
          }
          if (!reader.hasNext()) {
            throw new ShardFormatException(
                what + " ends before view " + view + " of image " + image.imageId());
          }
          TargetRow row = reader.next();
          rows++;
          ViewParams expected = views.view(image.imageId(), view, image.width(), image.height());
          if (row.imageId() != image.imageId()
              || row.view() != view
              || !row.params().equals(expected)) {
            throw new ShardFormatException(
                what
                    + ": row "
                    + (rows - 1)
                    + " must be view "
                    + view
                    + " of image "
                    + image.imageId()
                    + " with "
                    + expected
                    + ", cannot be: view "
                    + row.view()
                    + " of image "
                    + row.imageId()
                    + " with "
                    + row.params());
          }
          if (row.numTokens() != settings.numTokens()
              || row.dim() != settings.dim()
              || !row.dtype().equals(settings.dtype())) {
            throw new ShardFormatException(
                what
                    + ": row "
                    + (rows - 1)
                    + " must hold ["
                    + settings.numTokens()
                    + ", "
                    + settings.dim()
                    + "] "
                    + settings.dtype()
                    + " tokens, cannot hold: ["
                    + row.numTokens()
                    + ", "
                    + row.dim()
                    + "] "
                    + row.dtype());
          }
        }
        if (reader.hasNext()) {
          throw new ShardFormatException(
              what + " has rows of view " + view + " beyond those of the shard's images");
        }
      }
    }
    long stored = 0;
    for (RowGroupInfo g : TargetCacheReader.rowGroups(conf, cacheFile)) {
      stored += g.rows();
    }
    if (stored != rows) {
      throw new ShardFormatException(
          what + " has " + stored + " rows, beyond the " + rows + " its images account for");
    }
    return new ShardCheck(name, images.size() - rejected.size(), rejected.size(), rows);
  }
}
