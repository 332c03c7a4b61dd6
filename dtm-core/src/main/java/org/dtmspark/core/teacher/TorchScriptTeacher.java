package org.dtmspark.core.teacher;

import ai.djl.Device;
import ai.djl.MalformedModelException;
import ai.djl.Model;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.ParameterStore;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Map;
import org.dtmspark.core.data.ImageNormalization;

/**
 * A TorchScript module used as teacher, run through DJL's PyTorch engine.
 *
 * <p>The module takes normalised pixels {@code [B, 3, S, S]} and returns one rank-3 tensor, either
 * the patch tokens {@code [B, N, P]} or the patch tokens after a leading CLS token {@code [B, N +
 * 1, P]}; N is {@code (S / patchSize)^2}. Which of the two, and P, are found once at load time by
 * running the module on a zero batch; the CLS token is then dropped from every output. The module
 * runs in inference mode and its outputs are detached, so they never carry an autograd graph, even
 * while a gradient collector is recording the student. Loading reads only the given local file.
 */
public final class TorchScriptTeacher implements Teacher {
  private static final String ENGINE = "PyTorch";

  private final String id;
  private final Model model;
  private final int imageSize;
  private final int numTokens;
  private final int dim;
  private final boolean dropCls;
  private final ImageNormalization normalization;

  private TorchScriptTeacher(
      String id,
      Model model,
      int imageSize,
      int numTokens,
      int dim,
      boolean dropCls,
      ImageNormalization normalization) {
    this.id = id;
    this.model = model;
    this.imageSize = imageSize;
    this.numTokens = numTokens;
    this.dim = dim;
    this.dropCls = dropCls;
    this.normalization = normalization;
  }

  /**
   * Loads a TorchScript module from a local file and checks its output shape.
   *
   * @param file a module saved with {@code torch.jit.save} (script or trace)
   * @param imageSize input resolution S in pixels (square), positive and a multiple of {@code
   *     patchSize}
   * @param patchSize patch size in pixels, positive; gives N = {@code (S / patchSize)^2}
   * @param normalization mean/std applied to pixels in [0, 1] before the module, three channels
   * @param manager the module is loaded on this manager's device
   * @return the teacher, which owns the loaded module until closed
   * @throws NoSuchFileException naming {@code file} when it is not a regular file
   * @throws IOException when the file cannot be read or is not a TorchScript module
   * @throws IllegalArgumentException when the output is not {@code [B, N, P]} or {@code [B, N + 1,
   *     P]}, naming the file, the output shape and the expected token counts
   */
  public static TorchScriptTeacher load(
      Path file, int imageSize, int patchSize, ImageNormalization normalization, NDManager manager)
      throws IOException {
    if (patchSize < 1) {
      throw new IllegalArgumentException("Patch size must be at least 1, cannot be: " + patchSize);
    }
    if (imageSize < 1 || imageSize % patchSize != 0) {
      throw new IllegalArgumentException(
          "Image size must be a positive multiple of the patch size ("
              + patchSize
              + "), cannot be: "
              + imageSize);
    }
    if (normalization.mean().length != 3) {
      throw new IllegalArgumentException(
          "Normalization must have one entry per input channel (3), cannot have: "
              + normalization.mean().length);
    }
    if (!Files.isRegularFile(file)) {
      throw new NoSuchFileException(
          file.toString(), null, "TorchScript teacher file does not exist or is not a file");
    }
    Path absolute = file.toAbsolutePath().normalize();
    String id = absolute + "@sha256:" + sha256Prefix(absolute);
    int grid = imageSize / patchSize;
    int expected = grid * grid;

    Device device = manager.getDevice();
    Model model = Model.newInstance(absolute.getFileName().toString(), device, ENGINE);
    try {
      try {
        model.load(absolute, null, Map.of("mapLocation", "true"));
      } catch (MalformedModelException | RuntimeException e) {
        throw new IOException(
            "Cannot load TorchScript teacher " + absolute + ": " + e.getMessage(), e);
      }
      Shape shape;
      try (NDManager scope = manager.newSubManager()) {
        NDArray zeros = scope.zeros(new Shape(1, 3, imageSize, imageSize), DataType.FLOAT32);
        shape = forward(model, zeros).getShape();
      } catch (RuntimeException e) {
        throw new IllegalArgumentException(
            "TorchScript teacher "
                + absolute
                + " fails on a zero batch of shape [1, 3, "
                + imageSize
                + ", "
                + imageSize
                + "]: "
                + e.getMessage(),
            e);
      }
      if (shape.dimension() != 3) {
        throw new IllegalArgumentException(
            "TorchScript teacher "
                + absolute
                + " must return a rank-3 tensor [B, N, P] or [B, N + 1, P], returned shape "
                + shape);
      }
      long tokens = shape.get(1);
      if (tokens != expected && tokens != expected + 1) {
        throw new IllegalArgumentException(
            "TorchScript teacher "
                + absolute
                + " returned shape "
                + shape
                + ", expected "
                + expected
                + " or "
                + (expected + 1)
                + " tokens (image size "
                + imageSize
                + ", patch size "
                + patchSize
                + ")");
      }
      if (shape.get(0) != 1 || shape.get(2) < 1) {
        throw new IllegalArgumentException(
            "TorchScript teacher "
                + absolute
                + " returned shape "
                + shape
                + " for a batch of 1, expected [1, N, P] with P at least 1");
      }
      return new TorchScriptTeacher(
          id,
          model,
          imageSize,
          expected,
          Math.toIntExact(shape.get(2)),
          tokens == expected + 1,
          normalization);
    } catch (IOException | RuntimeException e) {
      model.close();
      throw e;
    }
  }

  /** Runs the module on one batch; the output lives on the manager of {@code input}. */
  private static NDArray forward(Model model, NDArray input) {
    NDList out =
        model
            .getBlock()
            .forward(new ParameterStore(input.getManager(), false), new NDList(input), false);
    if (out.size() != 1) {
      throw new IllegalArgumentException("expected one output tensor, got " + out.size());
    }
    return out.singletonOrThrow();
  }

  private static String sha256Prefix(Path file) throws IOException {
    MessageDigest digest;
    try {
      digest = MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is not available", e);
    }
    try (InputStream in = new DigestInputStream(Files.newInputStream(file), digest)) {
      in.transferTo(OutputStream.nullOutputStream());
    }
    return HexFormat.of().formatHex(digest.digest()).substring(0, 16);
  }

  /** The absolute file path and the first 16 hex digits of the file's SHA-256. */
  @Override
  public String id() {
    return id;
  }

  @Override
  public int imageSize() {
    return imageSize;
  }

  @Override
  public int numTokens() {
    return numTokens;
  }

  @Override
  public int dim() {
    return dim;
  }

  @Override
  public ImageNormalization normalization() {
    return normalization;
  }

  /** Whether the module's first output token is a CLS token that {@link #targets} drops. */
  public boolean dropsClsToken() {
    return dropCls;
  }

  /**
   * Computes target tokens without recording gradients.
   *
   * @param pixels {@code [B, 3, imageSize, imageSize]}, values in [0, 1], not normalised
   * @return {@code [B, N, P]} float32, detached from any autograd graph, on the manager of {@code
   *     pixels}
   */
  @Override
  public NDArray targets(NDArray pixels) {
    Shape in = pixels.getShape();
    if (in.dimension() != 4 || in.get(1) != 3 || in.get(2) != imageSize || in.get(3) != imageSize) {
      throw new IllegalArgumentException(
          "Teacher pixels must have shape [B, 3, "
              + imageSize
              + ", "
              + imageSize
              + "], cannot have: "
              + in);
    }
    NDManager out = pixels.getManager();
    try (NDManager scope = out.newSubManager()) {
      scope.tempAttachAll(pixels);
      NDArray input = normalization.apply(pixels.toType(DataType.FLOAT32, false));
      NDArray result = forward(model, input.toDevice(model.getNDManager().getDevice(), false));
      NDArray tokens = dropCls ? result.get(":, 1:, :") : result;
      // The module runs under libtorch's inference mode: its outputs are inference tensors that
      // autograd refuses to save. A clone made here, outside that mode, is an ordinary tensor.
      NDArray targets =
          tokens
              .stopGradient()
              .toType(DataType.FLOAT32, false)
              .toDevice(out.getDevice(), false)
              .duplicate();
      Shape expected = new Shape(in.get(0), numTokens, dim);
      if (!targets.getShape().equals(expected)) {
        throw new IllegalStateException(
            "TorchScript teacher "
                + id
                + " returned shape "
                + result.getShape()
                + ", expected "
                + expected
                + (dropCls ? " after dropping CLS" : ""));
      }
      targets.attach(out);
      return targets;
    }
  }

  /** Closes the loaded module. */
  @Override
  public void close() {
    model.close();
  }
}
