package org.dtmspark.data.plan;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.tuple;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.TreeSet;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

class ShardPlannerTest {
  private static final SynsetList SYNSETS = SynsetList.fromWnids(List.of("n01", "n02", "n03"));

  /** 23 train images over three classes and 7 val images, sizes 10..(10 + 29 * 7). */
  private static List<SourceImage> images() {
    List<SourceImage> images = new ArrayList<>();
    for (int i = 0; i < 30; i++) {
      String split = i < 23 ? "train" : "val";
      String wnid = "n0" + (1 + i % 3);
      images.add(
          new SourceImage(
              split, wnid, "k" + i, "file:/in/" + split + "/" + i + ".JPEG", 10 + 7L * i));
    }
    return images;
  }

  private static ShardPlan plan(ShardSize size, long seed) {
    return ShardPlanner.plan(images(), SYNSETS, size, seed);
  }

  @Test
  void everyImageIsInExactlyOneShardAndCountsAddUp() {
    for (ShardSize size : List.of(ShardSize.numShards(4), ShardSize.targetBytes(400))) {
      ShardPlan plan = plan(size, 7);

      assertThat(plan.images()).hasSize(30);
      assertThat(plan.images().stream().map(p -> p.source().location()).distinct()).hasSize(30);
      assertThat(plan.shards().stream().mapToInt(ShardSpec::rows).sum()).isEqualTo(30);
      for (int s = 0; s < plan.shards().size(); s++) {
        ShardSpec spec = plan.shards().get(s);
        List<PlannedImage> rows = plan.rowsOf(s);
        assertThat(rows).hasSize(spec.rows());
        assertThat(rows)
            .extracting(PlannedImage::position)
            .containsExactlyElementsOf(range(spec.rows()));
        assertThat(rows).allMatch(p -> p.source().split().equals(spec.split()));
        assertThat(rows.stream().mapToLong(p -> p.source().size()).sum()).isEqualTo(spec.bytes());
      }
    }
  }

  @Test
  void numShardsIsPerSplitWithRowCountsDifferingByAtMostOne() {
    ShardPlan plan = plan(ShardSize.numShards(3), 1);

    assertThat(plan.shards())
        .extracting(ShardSpec::fileName, ShardSpec::rows)
        .containsExactly(
            tuple("train/part-00000.parquet", 8),
            tuple("train/part-00001.parquet", 8),
            tuple("train/part-00002.parquet", 7),
            tuple("val/part-00000.parquet", 3),
            tuple("val/part-00001.parquet", 2),
            tuple("val/part-00002.parquet", 2));
    assertThat(plan.shards()).extracting(ShardSpec::index).containsExactly(0, 1, 2, 0, 1, 2);
  }

  @Test
  void sameInputAndSeedGiveTheSamePlanWhateverTheInputOrder() {
    List<SourceImage> shuffled = new ArrayList<>(images());
    Collections.shuffle(shuffled, new Random(3));

    ShardPlan a = ShardPlanner.plan(images(), SYNSETS, ShardSize.numShards(4), 42);
    ShardPlan b = ShardPlanner.plan(shuffled, SYNSETS, ShardSize.numShards(4), 42);

    assertThat(b).isEqualTo(a);
  }

  @Test
  void anotherSeedShufflesDifferentlyButKeepsTheImageIds() {
    ShardPlan a = plan(ShardSize.numShards(4), 42);
    ShardPlan b = plan(ShardSize.numShards(4), 43);

    assertThat(assignment(b)).isNotEqualTo(assignment(a));
    assertThat(b.images())
        .extracting(PlannedImage::imageId, PlannedImage::source)
        .isEqualTo(
            a.images().stream()
                .map(p -> tuple(p.imageId(), p.source()))
                .collect(Collectors.toList()));
  }

  @Test
  void imageIdsAreDenseInSortedOrderAndLabelsIndexTheSynsets() {
    ShardPlan plan = plan(ShardSize.numShards(2), 5);

    List<SourceImage> sorted = new ArrayList<>(images());
    sorted.sort(SourceImage.ORDER);
    assertThat(plan.images())
        .extracting(PlannedImage::imageId)
        .containsExactlyElementsOf(
            range(30).stream().map(Long::valueOf).collect(Collectors.toList()));
    assertThat(plan.images()).extracting(PlannedImage::source).containsExactlyElementsOf(sorted);
    assertThat(plan.images())
        .allMatch(p -> p.label() == Integer.parseInt(p.source().wnid().substring(1)) - 1);
    // train sorts before val, and within a split n01 before n02
    assertThat(plan.images().get(0).source().split()).isEqualTo("train");
    assertThat(plan.images().get(0).source().wnid()).isEqualTo("n01");
    assertThat(plan.images().get(29).source().split()).isEqualTo("val");
  }

  @Test
  void rowsAreShuffledAcrossShards() {
    ShardPlan plan = plan(ShardSize.numShards(3), 9);

    // the first train shard does not hold simply the first eight ids
    Set<Long> first = new TreeSet<>();
    plan.rowsOf(0).forEach(p -> first.add(p.imageId()));
    assertThat(first)
        .hasSize(8)
        .isNotEqualTo(new TreeSet<>(List.of(0L, 1L, 2L, 3L, 4L, 5L, 6L, 7L)));
  }

  @Test
  void targetBytesFillsShardsGreedilyInShuffledOrder() {
    long target = 400;
    ShardPlan plan = plan(ShardSize.targetBytes(target), 11);

    for (int s = 0; s < plan.shards().size(); s++) {
      ShardSpec spec = plan.shards().get(s);
      assertThat(spec.bytes()).isLessThanOrEqualTo(target);
      boolean lastOfSplit =
          s + 1 == plan.shards().size() || !plan.shards().get(s + 1).split().equals(spec.split());
      if (!lastOfSplit) {
        long nextImage = plan.rowsOf(s + 1).get(0).source().size();
        assertThat(spec.bytes() + nextImage).isGreaterThan(target);
      }
    }
  }

  @Test
  void anImageLargerThanTheTargetGetsAShardOfItsOwn() {
    List<SourceImage> images =
        List.of(
            new SourceImage("train", "n01", "a", "file:/a", 10),
            new SourceImage("train", "n01", "b", "file:/b", 1000),
            new SourceImage("train", "n01", "c", "file:/c", 10));

    ShardPlan plan = ShardPlanner.plan(images, SYNSETS, ShardSize.targetBytes(100), 0);

    assertThat(plan.shards()).extracting(ShardSpec::bytes).contains(1000L);
    assertThat(plan.shards().stream().filter(s -> s.bytes() == 1000).findFirst().get().rows())
        .isEqualTo(1);
  }

  @Test
  void moreShardsThanImagesIsAnErrorNamingBothNumbers() {
    assertThatThrownBy(() -> plan(ShardSize.numShards(8), 0))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage(
            "Number of shards must be at most the number of images of split val (7), cannot be: 8");
  }

  @Test
  void badInputsAndSizesAreErrorsNamingTheValue() {
    assertThatThrownBy(() -> ShardSize.numShards(0))
        .hasMessage("Number of shards must be at least 1, cannot be: 0");
    assertThatThrownBy(() -> ShardSize.targetBytes(-1))
        .hasMessage("Target shard size in bytes must be at least 1, cannot be: -1");
    List<SourceImage> twice =
        List.of(
            new SourceImage("train", "n01", "a", "file:/a", 1),
            new SourceImage("train", "n02", "a", "file:/a", 1));
    assertThatThrownBy(() -> ShardPlanner.plan(twice, SYNSETS, ShardSize.numShards(1), 0))
        .hasMessage("Image locations must be distinct, cannot repeat: file:/a");
    List<SourceImage> unknown = List.of(new SourceImage("train", "n09", "a", "file:/a", 1));
    assertThatThrownBy(() -> ShardPlanner.plan(unknown, SYNSETS, ShardSize.numShards(1), 0))
        .hasMessage("Image wnid must be in the synset list, cannot be: n09 (file:/a)");
  }

  @Test
  void unknownWnidHasLabelMinusOneAndNoImagesGiveAnEmptyPlan() {
    ShardPlan plan =
        ShardPlanner.plan(
            List.of(new SourceImage("test", null, "a", "file:/a", 1)),
            SYNSETS,
            ShardSize.numShards(1),
            0);

    assertThat(plan.images().get(0).label()).isEqualTo(-1);
    assertThat(ShardPlanner.plan(List.of(), SYNSETS, ShardSize.numShards(3), 0))
        .isEqualTo(new ShardPlan(List.of(), List.of()));
  }

  @Test
  void theShuffleIsTheDocumentedFisherYatesPermutation() {
    int[] order = ShardPlanner.shuffle(10, 42, "train");

    Set<Integer> values = new TreeSet<>();
    for (int v : order) {
      values.add(v);
    }
    assertThat(values).containsExactlyElementsOf(range(10));
    // pinned: a change here changes every shard plan made with a seed
    assertThat(order).containsExactly(PINNED);
    // as the class comment states it
    SplittableRandom rng =
        new SplittableRandom(org.dtmspark.core.train.Seeds.derive(42, "shard-order:train"));
    int[] expected = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9};
    for (int i = 9; i > 0; i--) {
      int j = rng.nextInt(i + 1);
      int t = expected[i];
      expected[i] = expected[j];
      expected[j] = t;
    }
    assertThat(order).containsExactly(expected);
    assertThat(ShardPlanner.shuffle(10, 42, "val")).isNotEqualTo(order);
    assertThat(ShardPlanner.shuffle(1, 42, "train")).containsExactly(0);
  }

  @Test
  void aPlanRoundTripsThroughJavaSerializationForSparkTasks() throws Exception {
    ShardPlan plan = plan(ShardSize.numShards(2), 3);
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
      out.writeObject(plan);
      out.writeObject(SYNSETS);
    }

    try (ObjectInputStream in =
        new ObjectInputStream(new ByteArrayInputStream(bytes.toByteArray()))) {
      assertThat(in.readObject()).isEqualTo(plan);
      assertThat(in.readObject()).isEqualTo(SYNSETS);
    }
  }

  @Test
  void aPlanWhoseRowsDisagreeIsRejected() {
    ShardPlan plan = plan(ShardSize.numShards(2), 3);
    List<PlannedImage> images = new ArrayList<>(plan.images());
    PlannedImage first = images.get(0);
    PlannedImage second = images.get(1);
    images.set(
        1, new PlannedImage(1, second.source(), second.label(), first.shard(), first.position()));

    assertThatThrownBy(() -> new ShardPlan(images, plan.shards()))
        .hasMessageStartingWith("Each image must have a free row of a shard of its split");
    assertThatThrownBy(() -> new ShardPlan(plan.images(), plan.shards().subList(0, 3)))
        .hasMessage("Shard rows must add up to the number of images (30), cannot be: 27");
  }

  private static final int[] PINNED = {0, 2, 9, 4, 8, 7, 3, 1, 5, 6};

  private static Map<String, Integer> assignment(ShardPlan plan) {
    Map<String, Integer> map = new HashMap<>();
    for (PlannedImage p : plan.images()) {
      map.put(p.source().location(), p.shard() * 1000 + p.position());
    }
    return map;
  }

  private static List<Integer> range(int n) {
    List<Integer> list = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      list.add(i);
    }
    return list;
  }
}
