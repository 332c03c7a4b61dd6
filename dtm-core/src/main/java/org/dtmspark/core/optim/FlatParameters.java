package org.dtmspark.core.optim;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.ToDoubleFunction;
import org.dtmspark.core.nn.Parameters;

/**
 * All parameters of a model in one flat fp32 tensor, the <em>master</em>: {@code [numel]}, the
 * parameters sorted by name, each flattened row-major. The {@link Parameters} the model reads hold
 * views into the master, so that the optimizer, clipping, the overflow check and zeroing each touch
 * one tensor (a handful of native calls per step, whatever the number of parameters), and the
 * gradient exchange sends one buffer.
 *
 * <p>Autograd: the master is the only leaf that requires a gradient. {@link #bindViews()}, called
 * inside the gradient-recording region before the forward, replaces every parameter by a fresh
 * view: one {@code split_with_sizes} of the master, then a reshape per parameter. Backward then
 * reaches the master through that single split node, whose backward concatenates the parameters'
 * gradients into one {@code [numel]} gradient (one pass over the model's size). Views made once and
 * reused across steps would not do: after the optimizer's in-place update, autograd rebuilds a
 * stale view's backward as an {@code as_strided} scatter into a zero tensor of the master's size,
 * once per parameter.
 *
 * <p>Memory: the master replaces the parameters (no copy is kept); its gradient is one {@code
 * [numel]} tensor, plus one transient {@code [numel]} concatenation during backward.
 */
public final class FlatParameters implements AutoCloseable {
  /**
   * Where one parameter lies in the master.
   *
   * @param name parameter name
   * @param shape parameter shape
   * @param offset index of its first element in the master
   * @param size number of elements
   */
  public record Segment(String name, Shape shape, long offset, long size) {}

  private final Parameters params;
  private final NDManager manager;
  private final List<Segment> segments;
  private final long[] splitPoints;
  private final NDArray master;
  private final NDArray data;
  private final long numel;

  private FlatParameters(Parameters params, List<Segment> segments, NDArray master) {
    this.params = params;
    this.segments = Collections.unmodifiableList(segments);
    this.manager = master.getManager();
    this.master = master;
    this.numel = master.size();
    this.splitPoints = new long[segments.size() - 1];
    for (int i = 1; i < segments.size(); i++) {
      splitPoints[i - 1] = segments.get(i).offset();
    }
    master.setRequiresGradient(true);
    this.data = master.stopGradient();
    NDScope.unregister(data);
    data.attach(manager);
    bindViews();
  }

  /**
   * Copies every parameter of {@code params} into a new master on their device and replaces them by
   * views of it. The parameters must be fp32 and must not require gradients themselves.
   *
   * @throws IllegalArgumentException naming a parameter that is not fp32, or when there is none
   */
  public static FlatParameters of(Parameters params) {
    Map<String, NDArray> sorted = new TreeMap<>(params.asMap());
    if (sorted.isEmpty()) {
      throw new IllegalArgumentException("No parameters to flatten");
    }
    List<Segment> segments = new ArrayList<>();
    long offset = 0;
    for (Map.Entry<String, NDArray> e : sorted.entrySet()) {
      NDArray p = e.getValue();
      if (p.getDataType() != DataType.FLOAT32) {
        throw new IllegalArgumentException(
            "Parameter " + e.getKey() + " must be float32 to train, cannot be: " + p.getDataType());
      }
      segments.add(new Segment(e.getKey(), p.getShape(), offset, p.size()));
      offset += p.size();
    }
    NDManager manager = params.manager().newSubManager();
    NDArray master;
    try (NDManager scratch = manager.newSubManager()) {
      NDList flat = new NDList(sorted.size());
      for (NDArray p : sorted.values()) {
        NDArray row = p.stopGradient().reshape(-1);
        row.attach(scratch);
        flat.add(row);
      }
      master = NDArrays.concat(flat, 0);
      NDScope.unregister(master);
      master.attach(manager);
    }
    master.setName("flat_parameters");
    return new FlatParameters(params, segments, master);
  }

  /** The parameters, in the order of the master (sorted by name). */
  public List<Segment> segments() {
    return segments;
  }

  /** Name and shape of every parameter, in the order of the master. */
  public Map<String, Shape> shapes() {
    Map<String, Shape> out = new LinkedHashMap<>();
    for (Segment s : segments) {
      out.put(s.name(), s.shape());
    }
    return out;
  }

  /** Number of elements of the master. */
  public long numel() {
    return numel;
  }

  /** The manager holding the master; optimizer state may live in sub-managers of it. */
  public NDManager manager() {
    return manager;
  }

  /**
   * The master's values, detached from autograd: {@code [numel]} fp32, updated in place by the
   * optimizer. Do not close.
   */
  public NDArray data() {
    return data;
  }

  /**
   * Replaces every parameter by a new view of the master. Inside a gradient-recording region this
   * links the forward to the master (see the class comment); call it there before every forward
   * that is differentiated. Ops: one split, one reshape per parameter (views, no copies).
   */
  public void bindViews() {
    NDList pieces = master.split(splitPoints, 0);
    for (int i = 0; i < segments.size(); i++) {
      Segment s = segments.get(i);
      NDArray piece = pieces.get(i);
      NDArray view = piece.reshape(s.shape());
      if (piece != master) { // DJL's split into one piece returns the array itself
        piece.close();
      }
      params.replace(s.name(), view);
    }
  }

  /**
   * The master's gradient, {@code [numel]} fp32: the sum of the gradients of every backward since
   * the last {@link #zeroGradients()}. A new handle to the same storage, attached to {@code
   * manager}; in-place changes to it change the gradient.
   *
   * @throws IllegalStateException before the first backward
   */
  public NDArray gradient(NDManager manager) {
    NDArray g = master.getGradient();
    if (g == null) {
      throw new IllegalStateException("The parameters have no gradient yet: run a backward first");
    }
    g.attach(manager);
    return g;
  }

  /**
   * Sets the gradient to zero in place ({@code zero_}, so infinities and NaNs of a skipped step are
   * cleared too). One native call.
   */
  public void zeroGradients() {
    JniUtils.zeroGrad((PtNDArray) master);
  }

  /**
   * A view of {@code flat}, a tensor laid out as the master, per parameter name: each {@code
   * flat[offset : offset + size]} reshaped to the parameter's shape, attached to {@code manager}.
   */
  public Map<String, NDArray> unflatten(NDArray flat, NDManager manager) {
    if (flat.size() != numel) {
      throw new IllegalArgumentException(
          "A flat tensor of these parameters has " + numel + " elements, not " + flat.size());
    }
    NDList pieces = flat.split(splitPoints, 0);
    Map<String, NDArray> out = new LinkedHashMap<>();
    for (int i = 0; i < segments.size(); i++) {
      Segment s = segments.get(i);
      NDArray piece = pieces.get(i);
      NDArray view = piece.reshape(s.shape());
      if (piece != flat) { // DJL's split into one piece returns the array itself
        piece.close();
      }
      NDScope.unregister(view);
      view.attach(manager);
      out.put(s.name(), view);
    }
    return out;
  }

  /**
   * Concatenates per-parameter tensors, one for every segment with its shape, into a new {@code
   * [numel]} tensor laid out as the master, attached to {@code manager}.
   *
   * @throws IllegalArgumentException naming a missing, extra or misshapen entry
   */
  public NDArray flatten(Map<String, NDArray> perParameter, NDManager manager) {
    if (perParameter.size() != segments.size()) {
      List<String> extra = new ArrayList<>(perParameter.keySet());
      extra.removeAll(shapes().keySet());
      if (!extra.isEmpty()) {
        throw new IllegalArgumentException("No parameter named " + extra.get(0));
      }
    }
    try (NDManager scratch = manager.newSubManager()) {
      NDList rows = new NDList(segments.size());
      for (Segment s : segments) {
        NDArray a = perParameter.get(s.name());
        if (a == null) {
          throw new IllegalArgumentException("Missing a tensor for parameter " + s.name());
        }
        if (!a.getShape().equals(s.shape())) {
          throw new IllegalArgumentException(
              "Tensor for parameter "
                  + s.name()
                  + " has shape "
                  + a.getShape()
                  + ", the parameter has shape "
                  + s.shape());
        }
        NDArray moved = a.toDevice(master.getDevice(), false);
        if (moved != a) {
          moved.attach(scratch);
        }
        NDArray wide = moved.toType(DataType.FLOAT32, false);
        if (wide != moved) {
          wide.attach(scratch);
        }
        NDArray row = wide.reshape(-1);
        row.attach(scratch);
        rows.add(row);
      }
      NDArray flat = NDArrays.concat(rows, 0);
      NDScope.unregister(flat);
      flat.attach(manager);
      return flat;
    }
  }

  /**
   * A {@code [numel]} fp32 tensor on the master's device holding {@code value(segment)} over every
   * segment, attached to {@code manager} (per-parameter settings as per-element vectors).
   */
  public NDArray perElement(ToDoubleFunction<Segment> value, NDManager manager) {
    try (NDManager scratch = manager.newSubManager(master.getDevice())) {
      NDList parts = new NDList(segments.size());
      for (Segment s : segments) {
        parts.add(
            scratch.full(new Shape(s.size()), (float) value.applyAsDouble(s), DataType.FLOAT32));
      }
      NDArray flat = NDArrays.concat(parts, 0);
      NDScope.unregister(flat);
      flat.attach(manager);
      return flat;
    }
  }

  /** Frees the master; the parameters' views keep its storage alive until they are closed. */
  @Override
  public void close() {
    manager.close();
  }
}
