package org.dtmspark.core.io;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CheckpointIOTest {
  @TempDir Path tmp;

  private static final ObjectMapper JSON = new ObjectMapper();

  private List<String> names(Path dir) throws IOException {
    try (Stream<Path> s = Files.list(dir)) {
      return s.map(p -> p.getFileName().toString()).sorted().toList();
    }
  }

  private Path saveGoldenContent(Path dir) throws IOException {
    CheckpointIO.save(
        dir,
        GoldenFiles.checkpointMeta(),
        GoldenFiles.checkpointWeights(),
        GoldenFiles.checkpointOptimizer(),
        GoldenFiles.checkpointOptimizerMetadata());
    return dir;
  }

  @Test
  void saveThenLoadGivesBackEverything() throws IOException {
    Path dir = saveGoldenContent(tmp.resolve("step-12"));

    CheckpointIO.LoadedCheckpoint loaded = CheckpointIO.load(dir);

    assertThat(loaded.meta()).isEqualTo(GoldenFiles.checkpointMeta());
    assertThat(loaded.weights().tensors())
        .containsExactlyEntriesOf(GoldenFiles.checkpointWeights());
    assertThat(loaded.weights().metadata())
        .containsExactly(
            Map.entry("format", "dtm-spark-checkpoint"), Map.entry("format_version", "1"));
    assertThat(loaded.optimizer()).isPresent();
    assertThat(loaded.optimizer().get().tensors())
        .containsExactlyEntriesOf(GoldenFiles.checkpointOptimizer());
    assertThat(loaded.optimizer().get().metadata())
        .containsExactlyEntriesOf(GoldenFiles.checkpointOptimizerMetadata());
    assertThat(names(dir))
        .containsExactly("checkpoint.json", "model.safetensors", "optimizer.safetensors");
    assertThat(names(tmp)).containsExactly("step-12");
  }

  @Test
  void metadataNumbersComeBackAsJsonNumbers() throws IOException {
    CheckpointMeta meta = CheckpointIO.load(saveGoldenContent(tmp.resolve("c"))).meta();
    assertThat(meta.modelConfig().get("embedDim")).isEqualTo(4);
    assertThat(meta.modelConfig().get("layerScaleInit")).isEqualTo(0.1);
    assertThat(meta.modelConfig().get("relPosBias")).isEqualTo(true);
    assertThat(meta.rngState().get("next_step_seed")).isEqualTo(1234567890123L);
    assertThat(meta.trainingConfig().get("betas")).isEqualTo(List.of(0.9, 0.98));
    assertThat(meta.step()).isEqualTo(12);
  }

  @Test
  void checkpointWithoutOptimizerLoadsWithEmptyOptimizer() throws IOException {
    Path dir = tmp.resolve("classifier");
    CheckpointMeta meta =
        new CheckpointMeta(
            1,
            CheckpointMeta.KIND_CLASSIFIER,
            Map.of("numClasses", 10),
            0,
            0,
            null,
            null,
            null,
            "imagenet");
    CheckpointIO.save(dir, meta, GoldenFiles.checkpointWeights(), null, null);
    CheckpointIO.LoadedCheckpoint loaded = CheckpointIO.load(dir);
    assertThat(loaded.optimizer()).isEmpty();
    assertThat(loaded.meta()).isEqualTo(meta);
    assertThat(loaded.meta().rngState()).isEmpty();
    assertThat(names(dir)).containsExactly("checkpoint.json", "model.safetensors");
  }

  @Test
  void savingOverACheckpointReplacesItWhole() throws IOException {
    Path dir = saveGoldenContent(tmp.resolve("latest"));
    CheckpointMeta later =
        new CheckpointMeta(
            1, CheckpointMeta.KIND_STUDENT, Map.of(), 99, 3, null, null, null, "clip");
    CheckpointIO.save(dir, later, GoldenFiles.checkpointWeights(), null, null);
    CheckpointIO.LoadedCheckpoint loaded = CheckpointIO.load(dir);
    assertThat(loaded.meta().step()).isEqualTo(99);
    assertThat(loaded.optimizer()).isEmpty();
    assertThat(names(tmp)).containsExactly("latest");
  }

  @Test
  void failedSaveKeepsThePreviousCheckpointAndLeavesNoTemporaryDirectory() throws IOException {
    Path dir = saveGoldenContent(tmp.resolve("latest"));
    Map<String, TensorData> bad = new LinkedHashMap<>();
    bad.put("", TensorData.ofFloats(new long[] {1}, new float[] {1}));
    assertThatThrownBy(() -> CheckpointIO.save(dir, GoldenFiles.checkpointMeta(), bad, null, null))
        .isInstanceOf(IllegalArgumentException.class);
    assertThat(CheckpointIO.load(dir).meta()).isEqualTo(GoldenFiles.checkpointMeta());
    assertThat(names(tmp)).containsExactly("latest");
  }

  @Test
  void goldenCheckpointStillLoads() throws IOException {
    CheckpointIO.LoadedCheckpoint golden =
        CheckpointIO.load(GoldenFiles.resource(GoldenFiles.CHECKPOINT_DIR));
    assertThat(golden.meta()).isEqualTo(GoldenFiles.checkpointMeta());
    assertThat(golden.meta().provenance().get("created_at")).isEqualTo("2025-01-01T00:00:00Z");
    assertThat(golden.weights().tensor("cls_token").toFloatArray())
        .containsExactly(0.1f, 0.2f, 0.3f, 0.4f);
    assertThat(golden.weights().tensor("head.weight").shape()).containsExactly(2, 2);
    assertThat(golden.optimizer().orElseThrow().tensors())
        .containsExactlyEntriesOf(GoldenFiles.checkpointOptimizer());
  }

  @Test
  void saveStillWritesTheGoldenCheckpoint() throws IOException {
    Path golden = GoldenFiles.resource(GoldenFiles.CHECKPOINT_DIR);
    Path mine = saveGoldenContent(tmp.resolve("mine"));
    for (String f : List.of(CheckpointIO.MODEL_FILE, CheckpointIO.OPTIMIZER_FILE)) {
      assertThat(Files.readAllBytes(mine.resolve(f)))
          .as(f)
          .containsExactly(Files.readAllBytes(golden.resolve(f)));
    }
    assertThat(JSON.readTree(mine.resolve(CheckpointIO.META_FILE).toFile()))
        .isEqualTo(JSON.readTree(golden.resolve(CheckpointIO.META_FILE).toFile()));
  }

  @Test
  void unsupportedSidecarVersionIsNamedWithItsFile() throws IOException {
    Path dir = saveGoldenContent(tmp.resolve("c"));
    Path meta = dir.resolve(CheckpointIO.META_FILE);
    Files.writeString(
        meta, Files.readString(meta).replace("\"format_version\" : 1", "\"format_version\" : 2"));
    assertThatThrownBy(() -> CheckpointIO.load(dir))
        .isInstanceOf(IOException.class)
        .hasMessage(
            "Unsupported checkpoint format_version 2 in " + meta + "; this build reads version 1");
  }

  @Test
  void unsupportedWeightsVersionIsNamedWithItsFile() throws IOException {
    Path dir = saveGoldenContent(tmp.resolve("c"));
    Path model = dir.resolve(CheckpointIO.MODEL_FILE);
    SafeTensors.write(
        model,
        Map.of("format", "dtm-spark-checkpoint", "format_version", "7"),
        GoldenFiles.checkpointWeights());
    assertThatThrownBy(() -> CheckpointIO.load(dir))
        .hasMessage(
            "Unsupported checkpoint format_version 7 in " + model + "; this build reads version 1");
    SafeTensors.write(model, Map.of("format", "pt"), GoldenFiles.checkpointWeights());
    assertThatThrownBy(() -> CheckpointIO.load(dir))
        .hasMessage(
            "Checkpoint weights "
                + model
                + " must have metadata format dtm-spark-checkpoint, cannot be: pt");
  }

  @Test
  void missingPiecesAreNamedByPath() throws IOException {
    Path none = tmp.resolve("none");
    assertThatThrownBy(() -> CheckpointIO.load(none))
        .hasMessage("Checkpoint directory does not exist: " + none);
    Path dir = saveGoldenContent(tmp.resolve("c"));
    Files.delete(dir.resolve(CheckpointIO.MODEL_FILE));
    assertThatThrownBy(() -> CheckpointIO.load(dir))
        .hasMessage("Checkpoint weights file does not exist: " + dir.resolve("model.safetensors"));
    Files.delete(dir.resolve(CheckpointIO.META_FILE));
    assertThatThrownBy(() -> CheckpointIO.load(dir))
        .hasMessage("Checkpoint metadata file does not exist: " + dir.resolve("checkpoint.json"));
  }

  @Test
  void malformedSidecarIsReportedWithItsFileAndKey() throws IOException {
    String good =
        new String(
            Files.readAllBytes(
                GoldenFiles.resource(GoldenFiles.CHECKPOINT_DIR).resolve(CheckpointIO.META_FILE)),
            StandardCharsets.UTF_8);
    assertThatThrownBy(
            () ->
                CheckpointIO.fromJson(
                    good.replace("\"epoch\"", "\"epochs\"").getBytes(StandardCharsets.UTF_8), "m"))
        .hasMessageStartingWith("Checkpoint metadata m has an unknown key: epochs");
    assertThatThrownBy(
            () ->
                CheckpointIO.fromJson(
                    good.replace("\"dtm-student\"", "\"robot\"").getBytes(StandardCharsets.UTF_8),
                    "m"))
        .hasMessage(
            "Invalid checkpoint metadata m: Checkpoint kind must be one of [dtm-student,"
                + " classifier], cannot be: robot");
    assertThatThrownBy(
            () ->
                CheckpointIO.fromJson(
                    good.replace("\"step\" : 12", "\"step\" : \"12\"")
                        .getBytes(StandardCharsets.UTF_8),
                    "m"))
        .hasMessage("Checkpoint metadata m must have an integer step, found: \"12\"");
    assertThatThrownBy(
            () -> CheckpointIO.fromJson("{\"kind\":\"x\"}".getBytes(StandardCharsets.UTF_8), "m"))
        .hasMessage("Checkpoint metadata m must have an integer format_version, found: null");
  }

  @Test
  void metaValidatesItsFields() {
    assertThatThrownBy(
            () -> new CheckpointMeta(1, "student", Map.of(), 0, 0, null, null, null, "imagenet"))
        .hasMessage("Checkpoint kind must be one of [dtm-student, classifier], cannot be: student");
    assertThatThrownBy(
            () ->
                new CheckpointMeta(
                    1, CheckpointMeta.KIND_STUDENT, Map.of(), -1, 0, null, null, null, "imagenet"))
        .hasMessage("Checkpoint step must be at least 0, cannot be: -1");
    assertThatThrownBy(
            () ->
                new CheckpointMeta(
                    0, CheckpointMeta.KIND_STUDENT, Map.of(), 0, 0, null, null, null, "imagenet"))
        .hasMessage("Checkpoint formatVersion must be at least 1, cannot be: 0");
  }

  @Test
  void onlyTheCurrentVersionIsSaved() {
    CheckpointMeta v2 =
        new CheckpointMeta(2, CheckpointMeta.KIND_STUDENT, Map.of(), 0, 0, null, null, null, "x");
    assertThatThrownBy(() -> CheckpointIO.save(tmp.resolve("c"), v2, Map.of(), null, null))
        .hasMessage("Checkpoint formatVersion to save must be 1, cannot be: 2");
  }

  @Test
  void provenanceRecordsCodeVersionDataSeedAndTime() {
    Map<String, Object> p =
        CheckpointIO.provenance("sha256:ff", 42, Instant.parse("2025-03-04T05:06:07Z"));
    assertThat(p)
        .containsExactly(
            Map.entry("code_version", "dev"),
            Map.entry("data_identity", "sha256:ff"),
            Map.entry("seed", 42L),
            Map.entry("created_at", "2025-03-04T05:06:07Z"));
  }
}
