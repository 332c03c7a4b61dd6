package org.dtmspark.sync;

import java.io.EOFException;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;

/**
 * Whole-message reads and writes with a deadline on a non-blocking socket channel, for the
 * handshake. Closing it closes its selector, not the channel.
 */
final class TimedChannel implements AutoCloseable {
  private final SocketChannel channel;
  private final Selector selector;
  private final SelectionKey key;
  private final long deadline;

  /** Waits on {@code channel} until {@code deadline} ({@link System#nanoTime()}). */
  TimedChannel(SocketChannel channel, long deadline) throws IOException {
    this.channel = channel;
    this.deadline = deadline;
    this.selector = Selector.open();
    try {
      this.key = channel.register(selector, 0);
    } catch (IOException | RuntimeException e) {
      selector.close();
      throw e;
    }
  }

  /** Reads exactly {@code bytes} bytes; EOF before them is an {@link EOFException}. */
  ByteBuffer read(int bytes) throws IOException {
    ByteBuffer buffer = ByteBuffer.allocate(bytes).order(ByteOrder.LITTLE_ENDIAN);
    while (buffer.hasRemaining()) {
      int n = channel.read(buffer);
      if (n < 0) {
        throw new EOFException("closed the connection");
      }
      if (n == 0) {
        await(SelectionKey.OP_READ);
      }
    }
    return buffer.flip();
  }

  /** Completes a non-blocking connect. */
  void finishConnect() throws IOException {
    while (!channel.finishConnect()) {
      await(SelectionKey.OP_CONNECT);
    }
  }

  /** Writes all of {@code buffer}. */
  void write(ByteBuffer buffer) throws IOException {
    while (buffer.hasRemaining()) {
      if (channel.write(buffer) == 0) {
        await(SelectionKey.OP_WRITE);
      }
    }
  }

  private void await(int operation) throws IOException {
    long remaining = deadline - System.nanoTime();
    if (remaining <= 0) {
      throw new SocketTimeoutException("did not answer in time");
    }
    key.interestOps(operation);
    selector.select(Math.max(1, (remaining + 999_999) / 1_000_000));
    selector.selectedKeys().clear();
    if (Thread.currentThread().isInterrupted()) {
      throw new InterruptedIOException("interrupted");
    }
  }

  @Override
  public void close() throws IOException {
    selector.close();
  }
}
