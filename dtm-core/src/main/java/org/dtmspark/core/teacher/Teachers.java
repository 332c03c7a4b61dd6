package org.dtmspark.core.teacher;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Optional;
import org.dtmspark.core.data.ImageNormalization;
import org.dtmspark.core.io.CheckpointIO;
import org.dtmspark.core.train.ModelCheckpoints;
import org.dtmspark.core.train.ModelCheckpoints.Loaded;

/**
 * Opens a teacher from what a path holds: a TorchScript file, a Hugging Face CLIP checkpoint
 * directory ({@code config.json} and {@code model.safetensors}, e.g. {@code
 * openai/clip-vit-base-patch16}), or a checkpoint directory of this project ({@code
 * checkpoint.json}).
 */
public final class Teachers {
  private Teachers() {}

  /**
   * Opens the teacher at {@code path} in float32 on the engine's default device; see {@link
   * #open(Path, String, boolean, int, int, Device, DataType)}.
   */
  public static Teacher open(
      Path path, String normalization, boolean useTokenHead, int imageSize, int patchSize)
      throws IOException {
    return open(
        path,
        normalization,
        useTokenHead,
        imageSize,
        patchSize,
        Engine.getInstance().defaultDevice(),
        DataType.FLOAT32);
  }

  /**
   * Whether the teacher at {@code path} can compute in float16: Hugging Face CLIP directories and
   * this project's checkpoints can (their weights are cast once when loaded); a TorchScript module
   * computes in the precision it was saved in, and runs here with float32 inputs.
   */
  public static boolean supportsFloat16(Path path) {
    return !Files.isRegularFile(path);
  }

  /**
   * Opens the teacher at {@code path} on {@code device}, computing in {@code computeType}.
   *
   * <p>Its weights live on {@code device}; {@link Teacher#targets} accepts pixels on any device,
   * computes on {@code device} and returns float32 targets on the pixels' device.
   *
   * @param normalization {@code teacher} (the teacher's own statistics; CLIP's for TorchScript
   *     modules, which carry none) or {@code imagenet}
   * @param useTokenHead for this project's checkpoints: use {@code lm_head} when present
   * @param imageSize the resolution the student trains at
   * @param patchSize the student's patch size (the teacher must give one token per patch)
   * @param device where the weights live and the forward pass runs
   * @param computeType {@link DataType#FLOAT32}, or {@link DataType#FLOAT16} for teachers that
   *     {@link #supportsFloat16 support it}
   * @throws IllegalArgumentException naming the path and the rule when the compute type is not
   *     supported for this teacher
   */
  public static Teacher open(
      Path path,
      String normalization,
      boolean useTokenHead,
      int imageSize,
      int patchSize,
      Device device,
      DataType computeType)
      throws IOException {
    ClipVisionTeacher.requireComputeType(computeType);
    if (!"teacher".equals(normalization) && !"imagenet".equals(normalization)) {
      throw new IllegalArgumentException(
          "Teacher normalization must be teacher or imagenet, cannot be: " + normalization);
    }
    if (!Files.exists(path)) {
      throw new NoSuchFileException(path.toString(), null, "teacher not found");
    }
    if (Files.isRegularFile(path)) {
      if (computeType != DataType.FLOAT32) {
        throw new IllegalArgumentException(
            "TorchScript teacher "
                + path
                + " computes in the precision it was saved in: its compute type must be float32,"
                + " cannot be: "
                + computeType);
      }
      ImageNormalization norm =
          "imagenet".equals(normalization) ? ImageNormalization.IMAGENET : ImageNormalization.CLIP;
      NDManager manager = NDManager.newBaseManager(device);
      try {
        return new ManagedTeacher(
            TorchScriptTeacher.load(path, imageSize, patchSize, norm, manager), manager);
      } catch (IOException | RuntimeException e) {
        manager.close();
        throw e;
      }
    }
    if (Files.isRegularFile(path.resolve(CheckpointIO.META_FILE))) {
      NDManager manager = NDManager.newBaseManager(device);
      try {
        Loaded loaded = ModelCheckpoints.load(path, manager);
        ImageNormalization norm =
            ImageNormalization.named(
                "teacher".equals(normalization) ? loaded.meta().normalization() : normalization);
        boolean head = useTokenHead && loaded.model().config().tokenHeadDim() > 0;
        VitTeacher teacher =
            new VitTeacher(
                path.toAbsolutePath().toString(), loaded.model(), norm, head, computeType);
        return new ManagedTeacher(teacher, manager);
      } catch (RuntimeException e) {
        manager.close();
        throw e;
      }
    }
    if (Files.isRegularFile(path.resolve(ClipVisionTeacher.CONFIG_FILE))) {
      NDManager manager = NDManager.newBaseManager(device);
      try {
        Optional<ImageNormalization> override =
            "imagenet".equals(normalization)
                ? Optional.of(ImageNormalization.IMAGENET)
                : Optional.empty();
        return new ManagedTeacher(
            ClipVisionTeacher.load(path, manager, override, computeType), manager);
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
