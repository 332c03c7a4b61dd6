package org.dtmspark.core.metrics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

class ProgressMeterTest {
  private final AtomicLong nanos = new AtomicLong(1_000_000_000L);
  private final List<String> lines = new ArrayList<>();

  private void advanceSeconds(double seconds) {
    nanos.addAndGet((long) (seconds * 1e9));
  }

  private ProgressMeter meter(long total) {
    return new ProgressMeter("shard", total, lines::add, Duration.ofSeconds(10), nanos::get);
  }

  @Test
  void logsAtMostOncePerIntervalWithRateAndEta() {
    ProgressMeter meter = meter(1000);
    advanceSeconds(5);
    meter.update(100, null);
    assertThat(lines).isEmpty();

    advanceSeconds(5);
    meter.update(200, null);
    assertThat(lines).containsExactly("shard: 200/1000 (20.0%) rate 20/s ETA 00:00:40");

    advanceSeconds(9);
    meter.update(250, null);
    assertThat(lines).hasSize(1);
  }

  @Test
  void etaFollowsTheRecentRate() {
    ProgressMeter meter = meter(1000);
    advanceSeconds(10);
    meter.update(200, null);
    advanceSeconds(10);
    Map<String, Object> extra = new LinkedHashMap<>();
    extra.put("loss", 0.51234);
    extra.put("epoch", 2);
    meter.update(300, extra);
    // Overall 300/20s = 15/s; recent 100/10s = 10/s; 700 left at 10/s = 70 s.
    assertThat(lines.get(1))
        .isEqualTo(
            "shard: 300/1000 (30.0%) rate 15/s (recent 10/s) ETA 00:01:10 loss=0.5123 epoch=2");
  }

  @Test
  void longEtaShowsHoursBeyondADay() {
    ProgressMeter meter = meter(10_000_000);
    advanceSeconds(10);
    meter.update(10, null);
    assertThat(lines.get(0)).endsWith("rate 1/s ETA 2777:46:30");
  }

  @Test
  void stalledWorkHasNoEta() {
    ProgressMeter meter = meter(10);
    advanceSeconds(10);
    meter.update(0, null);
    assertThat(lines).containsExactly("shard: 0/10 (0.0%) rate 0/s ETA --:--:--");
  }

  @Test
  void unknownTotalLeavesOutPercentAndEta() {
    ProgressMeter meter = meter(-1);
    advanceSeconds(20);
    meter.update(50_000, null);
    assertThat(lines).containsExactly("shard: 50000 rate 2500/s");
  }

  @Test
  void finishLogsElapsedTimeAndOverallRate() {
    ProgressMeter meter = meter(1000);
    advanceSeconds(3);
    meter.update(600, Map.of("rejects", 3));
    advanceSeconds(61.5);
    meter.update(1000, Map.of("rejects", 4));
    lines.clear();
    advanceSeconds(0.5);
    meter.finish();
    assertThat(lines)
        .containsExactly("shard: finished 1000/1000 in 00:01:05 rate 15.38/s rejects=4");
  }

  @Test
  void formatsDurationsAndNumbers() {
    assertThat(ProgressMeter.hms(0)).isEqualTo("00:00:00");
    assertThat(ProgressMeter.hms(3725.2)).isEqualTo("01:02:06");
    assertThat(ProgressMeter.format(0.000123)).isEqualTo("1.230e-04");
    assertThat(ProgressMeter.format(2.5)).isEqualTo("2.5");
    assertThat(ProgressMeter.format(123456.7)).isEqualTo("123457");
    assertThat(ProgressMeter.format(0)).isEqualTo("0");
  }

  @Test
  void loggerConstructorWorksAndIntervalMustNotBeNegative() {
    ProgressMeter real =
        new ProgressMeter(
            "real", 1, LoggerFactory.getLogger(ProgressMeterTest.class), Duration.ZERO);
    real.update(1, null);
    real.finish();
    assertThatThrownBy(
            () -> new ProgressMeter("x", 1, lines::add, Duration.ofSeconds(-1), nanos::get))
        .hasMessage("Progress interval must not be negative, cannot be: PT-1S");
  }
}
