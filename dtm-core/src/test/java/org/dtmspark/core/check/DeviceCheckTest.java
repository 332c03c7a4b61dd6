package org.dtmspark.core.check;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.withinPercentage;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.dtmspark.core.io.Npy;
import org.dtmspark.core.io.NpyArray;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DeviceCheckTest {
  @TempDir Path dir;

  private DeviceCheck.Plan tinyPlan(String... extra) {
    List<String> args =
        new java.util.ArrayList<>(
            List.of(
                "--work", dir.resolve("work").toString(),
                "--model", "tiny",
                "--batch", "2",
                "--accuracy-batch", "2",
                "--warmup", "1",
                "--reps", "2",
                "--steps", "2"));
    args.addAll(List.of(extra));
    return DeviceCheck.plan(DeviceCheck.options(args.toArray(String[]::new)));
  }

  @Test
  @SuppressWarnings("unchecked")
  void cpuRunComparesTeacherPrecisionsAndTrainsInFp32AndFp16() throws Exception {
    Map<String, Object> r = DeviceCheck.run(tinyPlan());
    assertThat(r.get("format")).isEqualTo(DeviceCheck.FORMAT);
    assertThat(((Map<String, Object>) r.get("engine")).get("pytorch")).isEqualTo("2.7.1");

    Map<String, Object> teacher = (Map<String, Object>) r.get("teacher");
    Map<String, Object> runs = (Map<String, Object>) teacher.get("runs");
    Map<String, Object> cpu32 = (Map<String, Object>) runs.get("cpu_fp32");
    assertThat((double) cpu32.get("images_per_s")).isPositive();
    Map<String, Object> cpu16 = (Map<String, Object>) runs.get("cpu_fp16");
    // fp16 differs from fp32, by little against the tokens' size
    double diff = (double) cpu16.get("max_abs_diff_vs_cpu_fp32");
    assertThat(diff).isPositive().isLessThan(0.05 * (double) teacher.get("reference_max_abs"));
    assertThat(((Map<String, Object>) runs.get("gpu_fp16")).get("status").toString())
        .startsWith("skipped: no CUDA device");

    Path work = dir.resolve("work");
    NpyArray pixels = Npy.read(work.resolve("pixels.npy"));
    assertThat(pixels.shape()).containsExactly(2, 3, 224, 224);
    NpyArray tokens = Npy.read(work.resolve((String) cpu32.get("tokens_npy")));
    assertThat(tokens.shape()).containsExactly(2, 196, 512);
    assertThat(Files.exists(work.resolve("clip-random/model.safetensors"))).isTrue();

    List<Map<String, Object>> train = (List<Map<String, Object>>) r.get("train");
    assertThat(train).extracting(m -> m.get("precision")).containsExactly("fp32", "fp16");
    Map<String, Object> fp32 = train.get(0);
    assertThat(fp32.get("status")).isEqualTo("ok");
    assertThat((double) fp32.get("images_per_s")).isPositive();
    assertThat((List<Double>) fp32.get("step_samples_s")).hasSize(2);
    assertThat((double) fp32.get("token_wise_images_per_s")).isPositive();
    assertThat((double) fp32.get("loss_first")).isFinite().isPositive();
    assertThat((int) fp32.get("skipped_steps")).isZero();
    Map<String, Object> fp16 = train.get(1);
    assertThat(fp16.get("status")).isEqualTo("ok");
    // the same weights, pixels and targets: mixed precision changes the first loss by rounding only
    assertThat((double) fp16.get("loss_first"))
        .isCloseTo((double) fp32.get("loss_first"), withinPercentage(1));
    assertThat((double) fp16.get("loss_scale_last")).isPositive();
    assertThat(((Map<String, Object>) r.get("student")).get("token_head_dim")).isEqualTo(512);
  }

  @Test
  void badOptionsAreNamed() {
    assertThatThrownBy(() -> DeviceCheck.options(new String[] {"--bogus", "1"}))
        .hasMessageStartingWith("unknown option '--bogus'");
    assertThatThrownBy(() -> DeviceCheck.options(new String[] {"--batch"}))
        .hasMessage("--batch needs a value");
    assertThatThrownBy(() -> tinyPlan("--device", "tpu"))
        .hasMessage("--device must be cpu or gpu, cannot be: 'tpu'");
    assertThatThrownBy(() -> tinyPlan("--precisions", "bf16"))
        .hasMessage("--precisions entries must be fp32 or fp16, cannot be: 'bf16'");
    assertThatThrownBy(() -> tinyPlan("--steps", "0"))
        .hasMessage("--steps must be at least 1, cannot be: 0");
    assertThatThrownBy(() -> tinyPlan("--batch", "x"))
        .hasMessage("--batch must be an integer, cannot be: 'x'");
    assertThatThrownBy(() -> tinyPlan("--model", "huge"))
        .hasMessage("--model must be base, small or tiny, cannot be: 'huge'");
  }
}
