package org.dtmspark.sync;

import java.util.List;

/**
 * A peer failed, stopped answering, refused this rank or could not be reached: the operation (or
 * connect) ended without a result. The message names the ranks and, for a timeout, the timeout.
 * Retrying with a new ring (a new attempt of the job's stage) may succeed.
 */
public final class PeerFailureException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final List<Integer> peers;

  PeerFailureException(String message, List<Integer> peers) {
    this(message, peers, null);
  }

  PeerFailureException(String message, List<Integer> peers, Throwable cause) {
    super(message, cause);
    this.peers = List.copyOf(peers);
  }

  /** The ranks this rank was waiting for or lost the connection to. */
  public List<Integer> peers() {
    return peers;
  }
}
