package org.dtmspark.core.teacher;

import ai.djl.ndarray.NDManager;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Optional;
import org.dtmspark.core.data.ImageNormalization;
import org.dtmspark.core.io.CheckpointIO;
import org.dtmspark.core.train.ModelCheckpoints;

/**
 * Opens a teacher from what a path holds: a TorchScript file, a Hugging Face CLIP checkpoint
 * directory ({@code config.json} and {@code model.safetensors}, e.g. {@code
 * openai/clip-vit-base-patch16}), or a checkpoint directory of this project ({@code
 * checkpoint.json}).
 */
public final class Teachers {
  private Teachers() {}

  /**
   * Opens the teacher at {@code path}.
   *
   * @param normalization {@code teacher} (the teacher's own statistics; CLIP's for TorchScript
   *     modules, which carry none) or {@code imagenet}
   * @param useTokenHead for this project's checkpoints: use {@code lm_head} when present
   * @param imageSize the resolution the student trains at
   * @param patchSize the student's patch size (the teacher must give one token per patch)
   */
  public static Teacher open(
      Path path, String normalization, boolean useTokenHead, int imageSize, int patchSize)
      throws IOException {
    if (!Files.exists(path)) {
      throw new NoSuchFileException(path.toString(), null, "teacher not found");
    }
    if (Files.isRegularFile(path)) {
      ImageNormalization norm =
          "imagenet".equals(normalization) ? ImageNormalization.IMAGENET : ImageNormalization.CLIP;
      NDManager manager = NDManager.newBaseManager();
      try {
        return new ManagedTeacher(
            TorchScriptTeacher.load(path, imageSize, patchSize, norm, manager), manager);
      } catch (IOException | RuntimeException e) {
        manager.close();
        throw e;
      }
    }
    if (Files.isRegularFile(path.resolve(CheckpointIO.META_FILE))) {
      return ModelCheckpoints.loadTeacher(path, normalization, useTokenHead);
    }
    if (Files.isRegularFile(path.resolve(ClipVisionTeacher.CONFIG_FILE))) {
      NDManager manager = NDManager.newBaseManager();
      try {
        Optional<ImageNormalization> override =
            "imagenet".equals(normalization)
                ? Optional.of(ImageNormalization.IMAGENET)
                : Optional.empty();
        return new ManagedTeacher(ClipVisionTeacher.load(path, manager, override), manager);
      } catch (IOException | RuntimeException e) {
        manager.close();
        throw e;
      }
    }
    throw new IllegalArgumentException(
        "Teacher "
            + path
            + " is neither a TorchScript file, nor a Hugging Face CLIP directory (no "
            + ClipVisionTeacher.CONFIG_FILE
            + "), nor a checkpoint directory of this project (no "
            + CheckpointIO.META_FILE
            + ")");
  }
}
