package org.dtmspark.jobs.targets;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.Device;
import ai.djl.ndarray.types.DataType;
import java.util.List;
import org.junit.jupiter.api.Test;

class TeacherSpecTest {
  private static final TeacherSpec BASE =
      TeacherSpec.onCpu("/models/clip", "teacher", true, 224, 16);

  @Test
  void taskWithoutGpuRunsTheTeacherOnTheCpuInFloat32() {
    TeacherSpec spec = BASE.forTask(List.of(), "fp16", true);
    assertThat(spec.device()).isEqualTo("cpu");
    assertThat(spec.dtype()).isEqualTo("fp32");
    assertThat(spec.djlDevice()).isEqualTo(Device.cpu());
    assertThat(spec.djlDtype()).isEqualTo(DataType.FLOAT32);
    assertThat(spec).isEqualTo(BASE);
  }

  @Test
  void taskWithGpusRunsOnTheFirstAddressInFloat16WhenTheTeacherCan() {
    TeacherSpec spec = BASE.forTask(List.of("3", "5"), "fp16", true);
    assertThat(spec.device()).isEqualTo("gpu:3");
    assertThat(spec.dtype()).isEqualTo("fp16");
    assertThat(spec.djlDevice()).isEqualTo(Device.gpu(3));
    assertThat(spec.djlDtype()).isEqualTo(DataType.FLOAT16);
    assertThat(spec.location()).isEqualTo(BASE.location());
  }

  @Test
  void gpuComputeFallsBackToFloat32WhenAskedOrWhenTheTeacherCannot() {
    assertThat(BASE.forTask(List.of("0"), "fp32", true).dtype()).isEqualTo("fp32");
    assertThat(BASE.forTask(List.of("0"), "fp16", false).dtype()).isEqualTo("fp32");
    assertThat(BASE.forTask(List.of("0"), "fp16", false).device()).isEqualTo("gpu:0");
  }

  @Test
  void specsOnDifferentDevicesOrTypesAreDifferentCacheKeys() {
    assertThat(BASE.forTask(List.of("0"), "fp16", true))
        .isNotEqualTo(BASE.forTask(List.of("1"), "fp16", true))
        .isNotEqualTo(BASE.forTask(List.of("0"), "fp32", true))
        .isEqualTo(BASE.forTask(List.of("0"), "fp16", true));
  }

  @Test
  void badAddressesDevicesAndTypesAreNamed() {
    assertThatThrownBy(() -> BASE.forTask(List.of("GPU-7f3a"), "fp16", true))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("GPU address must be a CUDA device index")
        .hasMessageContaining("cannot be: GPU-7f3a");
    assertThatThrownBy(() -> BASE.withPlacement("cuda0", "fp32"))
        .hasMessage("Teacher device must be cpu or gpu:N (N >= 0), cannot be: cuda0");
    assertThatThrownBy(() -> BASE.withPlacement("cpu", "bf16"))
        .hasMessage("Teacher compute dtype must be fp32 or fp16, cannot be: bf16");
    assertThatThrownBy(() -> TeacherSpec.onCpu("x", "clip", true, 224, 16))
        .hasMessage("Teacher normalization must be one of [teacher, imagenet], cannot be: clip");
  }
}
