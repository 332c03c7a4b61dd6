package org.dtmspark.sync;

/**
 * The ranks disagree on something they must share: the model fingerprint, the world size, the
 * protocol version, the bucket size or wire, the length of a buffer, or which operation comes next.
 * The message names both ranks and both values. Retrying the same job will not help.
 */
public final class RingMismatchException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  RingMismatchException(String message) {
    super(message);
  }
}
