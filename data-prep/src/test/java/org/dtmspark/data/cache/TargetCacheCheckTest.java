package org.dtmspark.data.cache;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.util.Set;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import org.dtmspark.core.data.AugmentConfig;
import org.dtmspark.core.data.ViewParams;
import org.dtmspark.data.shard.Manifest;
import org.dtmspark.data.shard.RejectWriter;
import org.dtmspark.data.shard.ShardFormatException;
import org.dtmspark.data.shard.ShardWriteOptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@link TargetCacheCheck} on one shard of 4 images (image 2 rejected), K = 1 plus full view. */
class TargetCacheCheckTest {
  private static final CacheViews VIEWS =
      new CacheViews(AugmentConfig.defaultPretrain(16), 9, 1, true);
  private static final String SHARD = "train/part-00000.parquet";

  @TempDir java.nio.file.Path dir;

  private final Configuration conf = new Configuration();
  private Path images;
  private Path cache;
  private TargetCacheSettings settings;

  /** How to spoil the cache file. */
  private enum Fault {
    NONE,
    MISSING_LAST_ROW,
    WRONG_VIEW_PARAMS,
    EXTRA_ROW
  }

  @BeforeEach
  void writeImages() throws IOException {
    images = new Path(dir.resolve("images").toUri());
    cache = new Path(dir.resolve("cache").toUri());
    CacheFixtures.writeImages(conf, images, "train", new int[] {4}, Set.of());
    settings =
        new TargetCacheSettings(
            "t",
            "cd".repeat(32),
            2,
            2,
            TargetRow.FP32,
            "n",
            VIEWS.policy(),
            1,
            true,
            9,
            "train",
            Manifest.fileSha256(conf, images));
  }

  private void writeCache(TargetCacheSettings recorded, Fault fault) throws IOException {
    try (RejectWriter rejects =
        RejectWriter.create(
            conf, TargetRejects.path(cache, "part-00000.parquet"), ShardWriteOptions.DEFAULTS)) {
      rejects.write(TargetRejects.row(SHARD, 2, "img_2", "train", "bad"));
      rejects.commit();
    }
    try (TargetCacheWriter writer =
        TargetCacheWriter.create(
            conf, new Path(cache, "part-00000.parquet"), ShardWriteOptions.DEFAULTS, recorded)) {
      for (long id : new long[] {0, 1, 3}) {
        for (int r = 0; r < 2; r++) {
          if (fault == Fault.MISSING_LAST_ROW && id == 3 && r == 1) {
            continue;
          }
          int view = VIEWS.viewOfRow(r);
          ViewParams params =
              VIEWS.view(id, view, CacheFixtures.width(id), CacheFixtures.height(id));
          if (fault == Fault.WRONG_VIEW_PARAMS && id == 1 && r == 0) {
            params = ViewParams.fullImage(CacheFixtures.width(id), CacheFixtures.height(id));
          }
          writer.write(
              TargetRow.ofFloats(id, "img_" + id, view, params, new float[4], 2, 2, "fp32"));
        }
      }
      if (fault == Fault.EXTRA_ROW) {
        writer.write(
            TargetRow.ofFloats(
                3, "img_3", 0, ViewParams.fullImage(3, 3), new float[4], 2, 2, "fp32"));
      }
      writer.commit();
    }
  }

  private TargetCacheCheck.ShardCheck check() throws IOException {
    return TargetCacheCheck.check(conf, images, SHARD, cache, settings, VIEWS);
  }

  @Test
  void aCompleteFileAccountsForEveryImage() throws IOException {
    writeCache(settings, Fault.NONE);
    assertThat(check()).isEqualTo(new TargetCacheCheck.ShardCheck("part-00000.parquet", 3, 1, 6));
  }

  @Test
  void aMissingRowIsNamedWithTheImageAndView() throws IOException {
    writeCache(settings, Fault.MISSING_LAST_ROW);
    assertThatThrownBy(this::check)
        .isInstanceOf(ShardFormatException.class)
        .hasMessageContaining("part-00000.parquet (targets of ")
        .hasMessageContaining("ends before view -1 of image 3");
  }

  @Test
  void aViewThatIsNotTheRulesIsNamed() throws IOException {
    writeCache(settings, Fault.WRONG_VIEW_PARAMS);
    assertThatThrownBy(this::check)
        .isInstanceOf(ShardFormatException.class)
        .hasMessageContaining("row 1 must be view 0 of image 1 with");
  }

  @Test
  void extraRowsAreNamed() throws IOException {
    writeCache(settings, Fault.EXTRA_ROW);
    assertThatThrownBy(this::check)
        .hasMessageContaining("has rows of view 0 beyond those of the shard's images");
  }

  @Test
  void aFileOfOtherSettingsOrAMissingFileIsNamed() throws IOException {
    assertThatThrownBy(this::check).hasMessageEndingWith(" is missing");
    TargetCacheSettings other =
        new TargetCacheSettings(
            "t",
            "ef".repeat(32),
            2,
            2,
            TargetRow.FP32,
            "n",
            VIEWS.policy(),
            1,
            true,
            9,
            "train",
            settings.imagesManifestSha256());
    writeCache(other, Fault.NONE);
    assertThatThrownBy(this::check)
        .isInstanceOf(ShardFormatException.class)
        .hasMessageContaining("was made with other settings: teacher_sha256: efef");
  }
}
