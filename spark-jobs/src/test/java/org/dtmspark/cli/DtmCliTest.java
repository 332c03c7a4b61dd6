package org.dtmspark.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Set;
import java.util.SplittableRandom;
import org.dtmspark.core.io.Npy;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DtmCliTest {
  @TempDir Path dir;

  /** Exit code and captured streams of one command line. */
  record Run(int code, String out, String err) {}

  static Run run(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int code = DtmCli.execute(new PrintWriter(out, true), new PrintWriter(err, true), args);
    return new Run(code, out.toString(), err.toString());
  }

  private Path tokens(String name, long b, long n, long d, long seed) throws Exception {
    SplittableRandom rng = new SplittableRandom(seed);
    float[] data = new float[(int) (b * n * d)];
    for (int i = 0; i < data.length; i++) {
      data[i] = (float) rng.nextGaussian();
    }
    Path p = dir.resolve(name);
    Npy.write(p, new long[] {b, n, d}, data);
    return p;
  }

  @Test
  void everySubcommandHasHelp() {
    for (String sub : new String[] {"demo", "pretrain", "finetune", "probe", "morph"}) {
      Run r = run(sub, "--help");
      assertThat(r.code()).as(sub).isZero();
      assertThat(r.out()).as(sub).contains("Usage: dtm " + sub);
    }
  }

  @Test
  void morphPrintsClustersAndLossAsJson() throws Exception {
    Path t = tokens("t.npy", 2, 16, 8, 1);
    Path u = tokens("u.npy", 2, 16, 8, 2);
    Run r =
        run(
            "morph",
            "--targets",
            t.toString(),
            "--online",
            u.toString(),
            "--level",
            "2:3",
            "--level",
            "0:1",
            "--json");
    assertThat(r.code()).as(r.err()).isZero();
    JsonNode json = new ObjectMapper().readTree(r.out());
    JsonNode levels = json.get("levels");
    assertThat(levels).hasSize(2);
    assertThat(levels.get(0).get("r").asInt()).isEqualTo(2);
    assertThat(levels.get(0).get("k").asInt()).isEqualTo(3);
    JsonNode images = levels.get(0).get("clusters");
    assertThat(images).hasSize(2);
    for (JsonNode clusters : images) {
      // Three iterations of two merges each: 16 - 6 = 10 clusters covering every position once.
      assertThat(clusters).hasSize(10);
      Set<Integer> seen = new HashSet<>();
      for (JsonNode cluster : clusters) {
        for (JsonNode position : cluster) {
          assertThat(seen.add(position.asInt())).isTrue();
        }
      }
      assertThat(seen).hasSize(16);
      assertThat(clusters.get(0).toString()).isEqualTo("[0]");
    }
    // r = 0 keeps every token alone.
    assertThat(levels.get(1).get("clusters").get(0)).hasSize(16);
    assertThat(json.get("loss").asDouble()).isBetween(0.0, 2.0);
  }

  @Test
  void morphOfIdenticalTokensHasZeroLoss() throws Exception {
    Path t = tokens("t.npy", 1, 10, 4, 3);
    Run r =
        run(
            "morph",
            "--targets",
            t.toString(),
            "--online",
            t.toString(),
            "--level",
            "3:2",
            "--json");
    assertThat(r.code()).as(r.err()).isZero();
    assertThat(new ObjectMapper().readTree(r.out()).get("loss").asDouble())
        .isCloseTo(0.0, org.assertj.core.data.Offset.offset(1e-5));
  }

  @Test
  void morphNamesAMissingFile() throws Exception {
    Path u = tokens("u.npy", 1, 4, 2, 2);
    Path missing = dir.resolve("nope.npy");
    Run r =
        run("morph", "--targets", missing.toString(), "--online", u.toString(), "--level", "1:1");
    assertThat(r.code()).isEqualTo(2);
    assertThat(r.err()).contains("file not found: " + missing);
  }

  @Test
  void morphNamesBothFilesWhenShapesDiffer() throws Exception {
    Path t = tokens("t.npy", 1, 8, 4, 1);
    Path u = tokens("u.npy", 1, 8, 5, 2);
    Run r = run("morph", "--targets", t.toString(), "--online", u.toString(), "--level", "1:1");
    assertThat(r.code()).isEqualTo(2);
    assertThat(r.err()).contains(u.toString()).contains("[1, 8, 5]").contains(t.toString());
  }

  @Test
  void morphRejectsTokensThatAreNotThreeDimensional() throws Exception {
    Path t = dir.resolve("flat.npy");
    Npy.write(t, new long[] {8, 4}, new float[32]);
    Run r = run("morph", "--targets", t.toString(), "--online", t.toString(), "--level", "1:1");
    assertThat(r.code()).isEqualTo(2);
    assertThat(r.err()).contains(t.toString()).contains("[B, N, D]");
  }

  @Test
  void morphRejectsAMalformedLevel() throws Exception {
    Path t = tokens("t.npy", 1, 8, 4, 1);
    Run r = run("morph", "--targets", t.toString(), "--online", t.toString(), "--level", "2-3");
    assertThat(r.code()).isEqualTo(2);
    assertThat(r.err()).contains("2-3");
  }

  @Test
  void unknownConfigurationKeyIsNamedBeforeAnyWork() {
    Run r =
        run(
            "pretrain",
            "--images",
            "demo:train",
            "--teacher",
            dir.toString(),
            "--output",
            dir.resolve("run").toString(),
            "--set",
            "pretrain.optim.lr=1");
    assertThat(r.code()).isEqualTo(2);
    assertThat(r.err()).contains("Unknown configuration key 'pretrain.optim.lr'");
    assertThat(Files.exists(dir.resolve("run"))).isFalse();
  }

  @Test
  void negativeMaxRetriesIsNamedByItsKeyBeforeAnyWork() {
    Run r =
        run(
            "pretrain",
            "--images",
            "demo:train",
            "--teacher",
            dir.toString(),
            "--output",
            dir.resolve("run").toString(),
            "--ranks",
            "2",
            "--max-retries",
            "-1");
    assertThat(r.code()).isEqualTo(2);
    assertThat(r.err()).contains("pretrain.distributed.max-retries").contains("-1");
    assertThat(Files.exists(dir.resolve("run"))).isFalse();
  }

  @Test
  void missingTeacherCheckpointIsNamed() {
    Path missing = dir.resolve("no-teacher");
    Run r =
        run(
            "pretrain",
            "--images",
            "demo:train?limit=8",
            "--teacher",
            missing.toString(),
            "--output",
            dir.resolve("run").toString());
    assertThat(r.code()).isEqualTo(2);
    assertThat(r.err()).contains(missing.toString());
  }

  /** Two pretraining steps of a one-block student from {@code teacher} at the given grid. */
  private Run pretrainTwoSteps(Path teacher, Path out, int imageSize, int patchSize) {
    return run(
        "pretrain",
        "--images",
        "demo:train?limit=16",
        "--teacher",
        teacher.toString(),
        "--output",
        out.toString(),
        "--max-steps",
        "2",
        "--set",
        "model.size=tiny",
        "--set",
        "model.image-size=" + imageSize,
        "--set",
        "model.patch-size=" + patchSize,
        "--set",
        "model.embed-dim=24",
        "--set",
        "model.depth=1",
        "--set",
        "model.num-heads=2",
        "--set",
        "model.mlp-dim=48",
        "--set",
        "pretrain.masking.ratio=0.4",
        "--set",
        "pretrain.masking.min-block-patches=2",
        "--set",
        "pretrain.train.batch-size=8");
  }

  @Test
  void pretrainsFromATorchScriptTeacher() {
    Path out = dir.resolve("run");
    Run r =
        pretrainTwoSteps(
            Path.of("../dtm-core/src/test/resources/golden/torchscript/cls_tokens.pt"), out, 16, 4);
    assertThat(r.code()).as(r.err()).isZero();
    assertThat(r.out()).contains("pretrain: 2 steps");
    assertThat(Files.isDirectory(out.resolve("checkpoints/last"))).isTrue();
  }

  @Test
  void pretrainsFromAHuggingFaceClipTeacher() {
    Path out = dir.resolve("run");
    Run r = pretrainTwoSteps(Path.of("../dtm-core/src/test/resources/golden/clip"), out, 32, 8);
    assertThat(r.code()).as(r.err()).isZero();
    assertThat(r.out()).contains("pretrain: 2 steps");
    assertThat(Files.isDirectory(out.resolve("checkpoints/last"))).isTrue();
  }

  @Test
  void unknownDatasetIsNamed() {
    Run r =
        run(
            "finetune",
            "--images",
            "imagenet:train",
            "--val",
            "demo:test",
            "--output",
            dir.resolve("run").toString());
    assertThat(r.code()).isEqualTo(2);
    assertThat(r.err()).contains("Unknown dataset 'imagenet:train'");
  }
}
