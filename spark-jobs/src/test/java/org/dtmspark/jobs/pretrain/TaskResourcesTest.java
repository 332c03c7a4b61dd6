package org.dtmspark.jobs.pretrain;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.Device;
import org.dtmspark.core.config.ConfigError;
import org.junit.jupiter.api.Test;

class TaskResourcesTest {
  @Test
  void aTaskWithoutGpuTrainsOnTheCpuOnlyWhereNoCudaDeviceIsSeen() {
    assertThat(TaskResources.device(0)).isEqualTo(Device.cpu());
    assertThatThrownBy(() -> TaskResources.device(2))
        .isInstanceOf(ConfigError.class)
        .hasMessageStartingWith(
            "This task sees 2 CUDA device(s) but Spark gave it no GPU, so it would train on the"
                + " CPU: request one GPU per task (spark.task.resource.gpu.amount=1");
  }

  @Test
  void theGpuSparkGaveIsTheDeviceWhenTheLibraryCanUseIt() {
    assertThat(TaskResources.device(4, "3")).isEqualTo(Device.gpu(3));
    assertThat(TaskResources.device(1, " 0 ", "1")).isEqualTo(Device.gpu(0));
  }

  @Test
  void aGpuTheLibraryCannotUseIsAnErrorNamingIt() {
    assertThatThrownBy(() -> TaskResources.device(0, "0"))
        .isInstanceOf(ConfigError.class)
        .hasMessageStartingWith(
            "Spark gave this task GPU 0 but the PyTorch library sees no CUDA device");
    assertThatThrownBy(() -> TaskResources.device(2, "2"))
        .isInstanceOf(ConfigError.class)
        .hasMessage(
            "Spark gave this task GPU 2 but the PyTorch library sees 2 CUDA device(s), 0 to 1: the"
                + " discovery script and CUDA_VISIBLE_DEVICES disagree");
    assertThatThrownBy(() -> TaskResources.device(2, "GPU-5f3e"))
        .isInstanceOf(ConfigError.class)
        .hasMessage("GPU address of the task must be a device index, cannot be: GPU-5f3e");
  }

  @Test
  void intraOpThreadsFollowTheTaskCpusUnlessThePropertyIsSet() {
    assertThat(TaskResources.intraOpThreads(null, 8)).isEqualTo(8);
    assertThat(TaskResources.intraOpThreads(null, 1)).isEqualTo(1);
    assertThat(TaskResources.intraOpThreads("3", 8)).isEqualTo(3);
    assertThatThrownBy(() -> TaskResources.intraOpThreads("many", 8))
        .isInstanceOf(ConfigError.class)
        .hasMessage(
            "ai.djl.pytorch.num_threads must be a whole number of threads >= 1, cannot be: many");
    assertThatThrownBy(() -> TaskResources.intraOpThreads("0", 8))
        .hasMessageContaining("cannot be: 0");
  }
}
