package org.dtmspark.sync;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class SyncOptionsTest {
  @Test
  void defaults() {
    SyncOptions d = SyncOptions.defaults();
    assertThat(d.connectTimeout()).isEqualTo(Duration.ofSeconds(60));
    assertThat(d.operationTimeout()).isEqualTo(Duration.ofSeconds(300));
    assertThat(d.bucketBytes()).isEqualTo(4 << 20);
    assertThat(d.wire()).isEqualTo(Wire.FP32);
  }

  @Test
  void withersChangeOneSetting() {
    SyncOptions o =
        SyncOptions.defaults()
            .withConnectTimeout(Duration.ofSeconds(5))
            .withOperationTimeout(Duration.ofSeconds(7))
            .withBucketBytes(64)
            .withWire(Wire.FP16);
    assertThat(o)
        .isEqualTo(new SyncOptions(Duration.ofSeconds(5), Duration.ofSeconds(7), 64, Wire.FP16));
  }

  @Test
  void badValuesAreRejectedNamingTheValueAndTheRule() {
    SyncOptions d = SyncOptions.defaults();
    assertThatThrownBy(() -> d.withConnectTimeout(Duration.ZERO))
        .hasMessage("Connect timeout must be positive, cannot be: PT0S");
    assertThatThrownBy(() -> d.withOperationTimeout(Duration.ofSeconds(-1)))
        .hasMessage("Operation timeout must be positive, cannot be: PT-1S");
    assertThatThrownBy(() -> d.withBucketBytes(6))
        .hasMessage(
            "Bucket size must be a multiple of 4 bytes (one float) between 4 and 268435456,"
                + " cannot be: 6");
    assertThatThrownBy(() -> d.withBucketBytes(0)).hasMessageEndingWith("cannot be: 0");
  }

  @Test
  void wireParsesItsLabels() {
    assertThat(Wire.parse("fp16")).isEqualTo(Wire.FP16);
    assertThat(Wire.parse(" FP32 ")).isEqualTo(Wire.FP32);
    assertThatThrownBy(() -> Wire.parse("bf16"))
        .hasMessage("Wire format must be fp32 or fp16, cannot be: bf16");
  }
}
