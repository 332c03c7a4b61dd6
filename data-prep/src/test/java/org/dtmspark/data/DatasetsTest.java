package org.dtmspark.data;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.UncheckedIOException;
import java.nio.file.Path;
import org.apache.hadoop.conf.Configuration;
import org.dtmspark.core.data.ImageDataset;
import org.dtmspark.data.idx.IdxClassNames;
import org.dtmspark.data.idx.IdxImport;
import org.dtmspark.data.shard.ShardImageDataset;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DatasetsTest {
  @TempDir Path dir;

  /** The first 40 embedded test images imported as split {@code test} under {@code dir/shards}. */
  private Path importDemoTest() throws Exception {
    Path out = dir.resolve("shards");
    IdxImport.run(
        IdxImport.Options.builder()
            .addSplit(Datasets.idxImportSplit("demo:test?limit=40", "test").orElseThrow())
            .setOutput(new org.apache.hadoop.fs.Path(out.toString()))
            .optClassNames(IdxClassNames.FASHION_MNIST)
            .build());
    return out;
  }

  @Test
  void demoSpecNamesTheEmbeddedIdxFilesWithItsLimit() throws Exception {
    IdxImport.Split split = Datasets.idxImportSplit("demo:test?limit=7", "val").orElseThrow();

    assertThat(split.name()).isEqualTo("val");
    assertThat(split.limit()).isEqualTo(7);
    assertThat(split.images().location())
        .isEqualTo("classpath:dtm-demo/fashion-mnist/t10k-images-idx3-ubyte.gz");
    assertThat(split.labels().fileName()).isEqualTo("t10k-labels-idx1-ubyte.gz");
    assertThat(split.images().exists()).isTrue();
    assertThat(Datasets.idxImportSplit("shards:/x#train", "train")).isEmpty();
  }

  @Test
  void shardSpecOpensASplitWithItsLimit() throws Exception {
    Path out = importDemoTest();
    ShardImageDataset all =
        ShardImageDataset.open(
            new Configuration(), new org.apache.hadoop.fs.Path(out.toString()), "test");

    ImageDataset five = Datasets.open("shards:" + out + "#test?limit=5");

    assertThat(five.size()).isEqualTo(5);
    assertThat(five.numClasses()).isEqualTo(10);
    assertThat(five.id()).isEqualTo(all.id() + "?limit=5");
    for (int i = 0; i < 5; i++) {
      assertThat(five.label(i)).isEqualTo(all.label(i));
      assertThat(five.image(i)).isEqualTo(all.image(i));
    }
    assertThatThrownBy(() -> five.label(5)).isInstanceOf(IndexOutOfBoundsException.class);
    assertThat(Datasets.open("shards:" + out + "#test").size()).isEqualTo(40);
  }

  @Test
  void shardImagesAreTheIdxImagesWithLabelsOfTheSortedNames() throws Exception {
    Path out = importDemoTest();
    ShardImageDataset shards =
        ShardImageDataset.open(
            new Configuration(), new org.apache.hadoop.fs.Path(out.toString()), "test");
    ImageDataset idx = Datasets.open("demo:test?limit=40");

    for (int i = 0; i < shards.size(); i++) {
      int index = (int) shards.imageId(i);
      assertThat(shards.image(i)).isEqualTo(idx.image(index));
      String name = IdxClassNames.FASHION_MNIST.get(idx.label(index));
      assertThat(shards.manifest().synsets().get(shards.label(i))).isEqualTo(name);
    }
  }

  @Test
  void shardSpecErrorsNameTheSpec() throws Exception {
    assertThatThrownBy(() -> Datasets.open("shards:/data/fmnist"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage(
            "Shard dataset must be shards:DIR#SPLIT, e.g. shards:/data/fmnist#train, cannot be:"
                + " shards:/data/fmnist");
    Path missing = dir.resolve("none");
    assertThatThrownBy(() -> Datasets.open("shards:" + missing + "#train"))
        .isInstanceOf(UncheckedIOException.class)
        .hasMessageContaining("shards:" + missing + "#train")
        .hasMessageContaining("_manifest.json");
    Path out = importDemoTest();
    assertThatThrownBy(() -> Datasets.open("shards:" + out + "#train"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("cannot be: train");
  }

  @Test
  void qualifiedSpecsNameTheSameDataFromAnyWorkingDirectory() {
    Configuration conf = new Configuration();
    String cwd = Path.of("").toAbsolutePath().toString();
    assertThat(Datasets.qualified("shards:runs/data#train?limit=8", conf))
        .isEqualTo("shards:file:" + cwd + "/runs/data#train?limit=8");
    assertThat(Datasets.qualified("shards:file:/data/x#val", conf))
        .isEqualTo("shards:file:/data/x#val");
    assertThat(Datasets.qualified("idx:fm/train", conf)).isEqualTo("idx:" + cwd + "/fm/train");
    assertThat(Datasets.qualified("demo:train?limit=4", conf)).isEqualTo("demo:train?limit=4");
  }

  @Test
  void aLimitedShardDatasetKeepsTheShardBlocksUpToTheLimit() throws Exception {
    Path shards = dir.resolve("small-shards");
    IdxImport.run(
        IdxImport.Options.builder()
            .addSplit(Datasets.idxImportSplit("demo:test?limit=40", "test").orElseThrow())
            .setOutput(new org.apache.hadoop.fs.Path(shards.toString()))
            .optRowsPerShard(16)
            .build());
    int[] blocks = Datasets.open("shards:" + shards + "#test").blocks();
    assertThat(blocks).hasSize(3); // 40 images at most 16 per shard, balanced
    int limit = blocks[0] + 1;
    ImageDataset first = Datasets.open("shards:" + shards + "#test?limit=" + limit);
    assertThat(first.blocks()).containsExactly(blocks[0], 1);
  }
}
