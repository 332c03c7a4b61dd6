package org.dtmspark.jobs.pretrain;

import java.io.IOException;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import org.dtmspark.core.config.ConfigError;
import org.dtmspark.core.data.ImageDataset;
import org.dtmspark.data.cache.ShardTargetStore;
import org.dtmspark.data.shard.ShardImageDataset;

/** Opens the target cache a pretraining run replays. */
public final class TargetStores {
  private TargetStores() {}

  /**
   * Opens the cache at {@code cache} for {@code images}, which must be the image shards the cache
   * was computed from.
   *
   * @param imagesOption how the user named the images, for the error message
   * @throws ConfigError when the images are not image shards
   */
  public static ShardTargetStore open(
      Configuration conf, String cache, ImageDataset images, String imagesOption)
      throws IOException {
    if (!(images instanceof ShardImageDataset shards)) {
      throw new ConfigError(
          "--targets replays a cache computed from image shards: "
              + imagesOption
              + " must name them as shards:DIR#SPLIT, cannot be: "
              + images.id());
    }
    return ShardTargetStore.open(conf, new Path(cache), shards);
  }
}
