package org.dtmspark.jobs.targets;

import ai.djl.Device;
import ai.djl.ndarray.types.DataType;
import java.io.Serializable;
import java.util.List;

/**
 * Which teacher to load and where: the key of {@link TeacherCache}. Small and serialisable, so that
 * it travels to executors, which load the teacher from it.
 *
 * @param location the teacher as the user named it: a local path (a TorchScript file, a Hugging
 *     Face CLIP directory or a checkpoint directory of this project) or a Hadoop URI ({@code
 *     hdfs://}, {@code s3a://}, {@code file://}) that executors copy to local disk once
 * @param normalization {@code teacher} or {@code imagenet}
 * @param useTokenHead for this project's checkpoints: use {@code lm_head} when present
 * @param imageSize input resolution for TorchScript teachers (the others define their own)
 * @param patchSize patch size for TorchScript teachers
 * @param device {@value #CPU} or {@code gpu:N} (CUDA device N)
 * @param dtype compute type: {@value #FP32} or {@value #FP16}
 */
public record TeacherSpec(
    String location,
    String normalization,
    boolean useTokenHead,
    int imageSize,
    int patchSize,
    String device,
    String dtype)
    implements Serializable {
  private static final long serialVersionUID = 1L;

  /** The CPU device. */
  public static final String CPU = "cpu";

  /** Float32 compute. */
  public static final String FP32 = "fp32";

  /** Float16 compute (weights cast once at load). */
  public static final String FP16 = "fp16";

  private static final String GPU_PREFIX = "gpu:";

  public TeacherSpec {
    if (location == null || location.isBlank()) {
      throw new IllegalArgumentException("Teacher location must be given, cannot be: " + location);
    }
    if (!List.of("teacher", "imagenet").contains(normalization)) {
      throw new IllegalArgumentException(
          "Teacher normalization must be one of [teacher, imagenet], cannot be: " + normalization);
    }
    if (imageSize < 1 || patchSize < 1) {
      throw new IllegalArgumentException(
          "Teacher image and patch size must be at least 1, cannot be: "
              + imageSize
              + " and "
              + patchSize);
    }
    deviceIndex(device);
    if (!FP32.equals(dtype) && !FP16.equals(dtype)) {
      throw new IllegalArgumentException(
          "Teacher compute dtype must be fp32 or fp16, cannot be: " + dtype);
    }
  }

  /** A spec on the CPU in float32: what the driver loads to learn the teacher's shape. */
  public static TeacherSpec onCpu(
      String location, String normalization, boolean useTokenHead, int imageSize, int patchSize) {
    return new TeacherSpec(location, normalization, useTokenHead, imageSize, patchSize, CPU, FP32);
  }

  /**
   * The spec for a task that Spark gave the GPU addresses {@code gpus} (the {@code gpu} resource of
   * {@code TaskContext.resources()}; empty when it gave none): the first address's CUDA device with
   * {@code gpuDtype} compute (float32 for teachers that cannot compute in float16), or the CPU with
   * float32 compute when there is no address.
   *
   * @param gpus GPU addresses, e.g. {@code ["0"]}; each a CUDA device index
   * @param gpuDtype {@value #FP16} or {@value #FP32}
   * @param teacherSupportsFp16 whether the teacher can compute in float16
   * @throws IllegalArgumentException naming the address when it is not a device index
   */
  public TeacherSpec forTask(List<String> gpus, String gpuDtype, boolean teacherSupportsFp16) {
    if (gpus == null || gpus.isEmpty()) {
      return withPlacement(CPU, FP32);
    }
    String address = gpus.get(0).trim();
    int index;
    try {
      index = Integer.parseInt(address);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(
          "GPU address must be a CUDA device index (Spark's discovery script gives them),"
              + " cannot be: "
              + address,
          e);
    }
    String dtype = FP16.equals(gpuDtype) && teacherSupportsFp16 ? FP16 : FP32;
    return withPlacement(GPU_PREFIX + index, dtype);
  }

  /** This spec on another device with another compute type. */
  public TeacherSpec withPlacement(String newDevice, String newDtype) {
    return new TeacherSpec(
        location, normalization, useTokenHead, imageSize, patchSize, newDevice, newDtype);
  }

  /** The DJL device. */
  public Device djlDevice() {
    int index = deviceIndex(device);
    return index < 0 ? Device.cpu() : Device.gpu(index);
  }

  /** The DJL compute type. */
  public DataType djlDtype() {
    return FP16.equals(dtype) ? DataType.FLOAT16 : DataType.FLOAT32;
  }

  /** -1 for the CPU, N for {@code gpu:N}. */
  private static int deviceIndex(String device) {
    if (CPU.equals(device)) {
      return -1;
    }
    if (device != null && device.startsWith(GPU_PREFIX)) {
      try {
        int n = Integer.parseInt(device.substring(GPU_PREFIX.length()));
        if (n >= 0) {
          return n;
        }
      } catch (NumberFormatException e) {
        // reported below
      }
    }
    throw new IllegalArgumentException(
        "Teacher device must be cpu or gpu:N (N >= 0), cannot be: " + device);
  }
}
