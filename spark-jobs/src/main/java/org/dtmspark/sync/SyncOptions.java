package org.dtmspark.sync;

import java.time.Duration;
import java.util.Objects;

/**
 * Settings of a {@link RingAllReduce}. Every rank of a ring must use the same bucket size and wire;
 * connecting checks it.
 *
 * @param connectTimeout how long {@code connect} waits for the neighbours to connect, authenticate
 *     and agree (default 60 s)
 * @param operationTimeout how long one operation ({@code sumInPlace}, {@code allGather}) may take
 *     before it fails naming the ranks it waits for (default 300 s)
 * @param bucketBytes size in fp32 bytes of the buckets a buffer is cut into; each bucket goes round
 *     the ring on its own, several in flight at once (default 4 MiB)
 * @param wire the format of floats on the wire (default {@link Wire#FP32})
 */
public record SyncOptions(
    Duration connectTimeout, Duration operationTimeout, int bucketBytes, Wire wire) {
  public static final Duration DEFAULT_CONNECT_TIMEOUT = Duration.ofSeconds(60);
  public static final Duration DEFAULT_OPERATION_TIMEOUT = Duration.ofSeconds(300);
  public static final int DEFAULT_BUCKET_BYTES = 4 << 20;
  public static final Wire DEFAULT_WIRE = Wire.FP32;

  /** Largest bucket: 256 MiB. */
  public static final int MAX_BUCKET_BYTES = 256 << 20;

  public SyncOptions {
    Objects.requireNonNull(connectTimeout, "connectTimeout");
    Objects.requireNonNull(operationTimeout, "operationTimeout");
    Objects.requireNonNull(wire, "wire");
    if (connectTimeout.isNegative() || connectTimeout.isZero()) {
      throw new IllegalArgumentException(
          "Connect timeout must be positive, cannot be: " + connectTimeout);
    }
    if (operationTimeout.isNegative() || operationTimeout.isZero()) {
      throw new IllegalArgumentException(
          "Operation timeout must be positive, cannot be: " + operationTimeout);
    }
    if (bucketBytes < 4 || bucketBytes % 4 != 0 || bucketBytes > MAX_BUCKET_BYTES) {
      throw new IllegalArgumentException(
          "Bucket size must be a multiple of 4 bytes (one float) between 4 and "
              + MAX_BUCKET_BYTES
              + ", cannot be: "
              + bucketBytes);
    }
  }

  /** The defaults: 60 s to connect, 300 s per operation, 4 MiB buckets, fp32 on the wire. */
  public static SyncOptions defaults() {
    return new SyncOptions(
        DEFAULT_CONNECT_TIMEOUT, DEFAULT_OPERATION_TIMEOUT, DEFAULT_BUCKET_BYTES, DEFAULT_WIRE);
  }

  public SyncOptions withConnectTimeout(Duration timeout) {
    return new SyncOptions(timeout, operationTimeout, bucketBytes, wire);
  }

  public SyncOptions withOperationTimeout(Duration timeout) {
    return new SyncOptions(connectTimeout, timeout, bucketBytes, wire);
  }

  public SyncOptions withBucketBytes(int bytes) {
    return new SyncOptions(connectTimeout, operationTimeout, bytes, wire);
  }

  public SyncOptions withWire(Wire format) {
    return new SyncOptions(connectTimeout, operationTimeout, bucketBytes, format);
  }

  /** Floats per bucket. */
  int bucketElements() {
    return bucketBytes / 4;
  }
}
