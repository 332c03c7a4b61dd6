package org.dtmspark.jobs.pretrain;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;

class MetricsChannelTest {
  private static final byte[] SECRET = "a secret of this job, 32 bytes!!".getBytes();

  private static void awaitSize(List<?> list, int size) throws InterruptedException {
    long deadline = System.nanoTime() + 10_000_000_000L;
    while (list.size() < size && System.nanoTime() < deadline) {
      Thread.sleep(10);
    }
  }

  @Test
  void rankZeroRecordsReachTheDriverInOrder() throws Exception {
    List<Map<String, Object>> received = new CopyOnWriteArrayList<>();
    try (MetricsChannel.Receiver receiver =
            new MetricsChannel.Receiver("127.0.0.1", SECRET, received::add);
        MetricsChannel.Sender sender = new MetricsChannel.Sender(receiver.address(), SECRET)) {
      sender.send(Map.of("step", 1, "loss", 0.5));
      sender.send(Map.of("step", 2, "loss", 0.25));
      awaitSize(received, 2);
    }
    assertThat(received).extracting(r -> r.get("step")).containsExactly(1, 2);
    assertThat(received.get(1).get("loss")).isEqualTo(0.25);
  }

  @Test
  void aSenderWithoutTheSecretIsRefusedAndTheNextOneServed() throws Exception {
    List<Map<String, Object>> received = new CopyOnWriteArrayList<>();
    try (MetricsChannel.Receiver receiver =
        new MetricsChannel.Receiver("127.0.0.1", SECRET, received::add)) {
      try (MetricsChannel.Sender stranger =
          new MetricsChannel.Sender(receiver.address(), "not the secret".getBytes())) {
        // The driver closes the connection: the record never arrives, writing soon fails.
        assertThatThrownBy(
                () -> {
                  for (int i = 0; i < 1000; i++) {
                    stranger.send(Map.of("step", 99));
                    Thread.sleep(5);
                  }
                })
            .isInstanceOf(java.io.IOException.class);
      }
      try (MetricsChannel.Sender rank0 = new MetricsChannel.Sender(receiver.address(), SECRET)) {
        rank0.send(Map.of("step", 1));
        awaitSize(received, 1);
      }
    }
    assertThat(received).extracting(r -> r.get("step")).containsExactly(1);
  }

  @Test
  void anEarlierAttemptsConnectionLeftOpenDoesNotKeepTheNextOneOut() throws Exception {
    List<Map<String, Object>> received = new CopyOnWriteArrayList<>();
    try (MetricsChannel.Receiver receiver =
            new MetricsChannel.Receiver("127.0.0.1", SECRET, received::add);
        MetricsChannel.Sender stale = new MetricsChannel.Sender(receiver.address(), SECRET);
        MetricsChannel.Sender next = new MetricsChannel.Sender(receiver.address(), SECRET)) {
      next.send(Map.of("step", 7));
      awaitSize(received, 1);
    }
    assertThat(received).extracting(r -> r.get("step")).containsExactly(7);
  }
}
