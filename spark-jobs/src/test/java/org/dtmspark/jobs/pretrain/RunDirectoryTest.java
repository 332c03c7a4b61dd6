package org.dtmspark.jobs.pretrain;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import org.apache.hadoop.conf.Configuration;
import org.dtmspark.core.io.CheckpointIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RunDirectoryTest {
  @TempDir Path dir;

  private final Configuration conf = new Configuration();

  private RunDirectory run() {
    return new RunDirectory(conf, new org.apache.hadoop.fs.Path(dir.toUri()));
  }

  /** A stand-in checkpoint directory: only the files {@link RunDirectory} looks at. */
  private static void fakeCheckpoint(Path target, long step) throws java.io.IOException {
    Files.createDirectories(target);
    Files.writeString(target.resolve("model.safetensors"), "weights of step " + step);
    Files.writeString(target.resolve(CheckpointIO.META_FILE), "{\"step\": " + step + "}");
  }

  @Test
  void theLatestCheckpointIsTheHighestCompleteStep() throws Exception {
    RunDirectory run = run();
    assertThat(run.latestCheckpoint()).isEmpty();
    run.publish("step-4", p -> fakeCheckpoint(p, 4));
    run.publish("step-12", p -> fakeCheckpoint(p, 12));
    run.publish("step-8", p -> fakeCheckpoint(p, 8));
    // An upload that never finished: no checkpoint.json.
    Files.createDirectories(dir.resolve("checkpoints/step-16"));
    Files.writeString(dir.resolve("checkpoints/step-16/model.safetensors"), "partial");

    assertThat(run.latestCheckpoint())
        .hasValueSatisfying(
            c -> {
              assertThat(c.step()).isEqualTo(12);
              assertThat(c.path().getName()).isEqualTo("step-12");
            });
  }

  @Test
  void publishingReplacesACheckpointOfTheSameNameAndLeavesNoStagingBehind() throws Exception {
    RunDirectory run = run();
    run.publish("step-2", p -> fakeCheckpoint(p, 2));
    run.publish("step-2", p -> fakeCheckpoint(p, 3));

    assertThat(Files.readString(dir.resolve("checkpoints/step-2/model.safetensors")))
        .isEqualTo("weights of step 3");
    try (var files = Files.list(dir.resolve("checkpoints"))) {
      assertThat(files.map(p -> p.getFileName().toString()).toList()).containsExactly("step-2");
    }
    Path local = run.download(run.checkpoint("step-2"));
    assertThat(Files.readString(local.resolve("model.safetensors"))).isEqualTo("weights of step 3");
    RunDirectory.deleteLocal(local.getParent());
  }

  @Test
  void aFailedWriterPublishesNothing() throws Exception {
    RunDirectory run = run();
    assertThatThrownBy(
            () ->
                run.publish(
                    "last",
                    p -> {
                      Files.createDirectories(p);
                      throw new java.io.IOException("disk full");
                    }))
        .hasMessage("disk full");
    assertThat(dir.resolve("checkpoints/last")).doesNotExist();
    assertThat(run.latestCheckpoint()).isEmpty();
    if (Files.exists(dir.resolve("checkpoints"))) {
      try (var files = Files.list(dir.resolve("checkpoints"))) {
        assertThat(files).as("no staging directory left behind").isEmpty();
      }
    }
  }
}
