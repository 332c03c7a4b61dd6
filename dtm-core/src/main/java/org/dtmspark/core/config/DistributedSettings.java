package org.dtmspark.core.config;

import java.util.List;

/**
 * The {@code pretrain.distributed} section: gradient all-reduce and fault handling of data-parallel
 * pretraining.
 *
 * @param wire {@code fp32} or {@code fp16}: float format of gradients on the wire
 * @param bucketMib bucket size in MiB of fp32 gradients
 * @param connectTimeoutSeconds how long ranks wait for each other to connect
 * @param stepTimeoutSeconds how long one all-reduce may take
 * @param maxRetries stage resubmissions after a failure, each resuming from the last checkpoint
 * @param executorWaitSeconds how long the driver waits for enough executors
 */
public record DistributedSettings(
    String wire,
    int bucketMib,
    int connectTimeoutSeconds,
    int stepTimeoutSeconds,
    int maxRetries,
    int executorWaitSeconds) {
  static DistributedSettings from(SettingsReader r) {
    return new DistributedSettings(
        r.oneOf("wire", List.of("fp32", "fp16")),
        r.intAtLeast("bucket-mib", 1),
        r.intAtLeast("connect-timeout-seconds", 1),
        r.intAtLeast("step-timeout-seconds", 1),
        r.intAtLeast("max-retries", 0),
        r.intAtLeast("executor-wait-seconds", 0));
  }
}
