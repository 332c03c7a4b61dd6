package org.dtmspark.core.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The named, ordered tensors of a model, keyed by timm/BEiT-style names ({@code
 * patch_embed.proj.weight}, {@code blocks.0.attn.qkv.weight}, ...).
 *
 * <p>Parameters outlive any {@link NDScope} open when they are added: a training step wraps its
 * temporaries in a scope, and the weights must survive it.
 *
 * <p>Names, not DJL's per-process ids, identify a parameter everywhere: in checkpoints, in the
 * optimizer state and in gradient synchronisation across ranks. Every array is attached to this
 * object's own {@link NDManager}, so closing the parameters frees them.
 */
public final class Parameters implements AutoCloseable {
  private final NDManager manager;
  private final LinkedHashMap<String, NDArray> arrays = new LinkedHashMap<>();

  private Parameters(NDManager manager) {
    this.manager = manager;
  }

  /** Creates an empty set whose arrays live in a new sub-manager of {@code parent}. */
  public static Parameters create(NDManager parent) {
    return new Parameters(parent.newSubManager());
  }

  /** The manager that owns every array of this set. */
  public NDManager manager() {
    return manager;
  }

  /** Adds {@code array} under {@code name}, moving it to this set's manager. */
  public void put(String name, NDArray array) {
    if (arrays.containsKey(name)) {
      throw new IllegalArgumentException("Parameter already defined: " + name);
    }
    NDScope.unregister(array);
    array.attach(manager);
    array.setName(name);
    arrays.put(name, array);
  }

  /** Replaces the value of an existing parameter, keeping its shape. */
  public void replace(String name, NDArray array) {
    NDArray old = get(name);
    if (!old.getShape().equals(array.getShape())) {
      throw new IllegalArgumentException(
          "Parameter "
              + name
              + " has shape "
              + old.getShape()
              + ", cannot be replaced by shape "
              + array.getShape());
    }
    NDScope.unregister(array);
    array.attach(manager);
    array.setName(name);
    arrays.put(name, array);
    old.close();
  }

  /** The parameter called {@code name}; fails naming it when it does not exist. */
  public NDArray get(String name) {
    NDArray array = arrays.get(name);
    if (array == null) {
      throw new IllegalArgumentException("No parameter named " + name);
    }
    return array;
  }

  public boolean contains(String name) {
    return arrays.containsKey(name);
  }

  /** Names in definition order. */
  public List<String> names() {
    return Collections.unmodifiableList(new ArrayList<>(arrays.keySet()));
  }

  /** Read-only view in definition order. */
  public Map<String, NDArray> asMap() {
    return Collections.unmodifiableMap(arrays);
  }

  /** Total number of scalar values over all parameters. */
  public long numel() {
    long n = 0;
    for (NDArray a : arrays.values()) {
      n += a.size();
    }
    return n;
  }

  /** Marks every parameter as trainable so that a gradient collector records its gradient. */
  public void requireGradients() {
    for (NDArray a : arrays.values()) {
      a.setRequiresGradient(true);
    }
  }

  /** Gradient of every parameter, by name; fails naming a parameter that has none. */
  public Map<String, NDArray> gradients() {
    LinkedHashMap<String, NDArray> grads = new LinkedHashMap<>();
    for (Map.Entry<String, NDArray> e : arrays.entrySet()) {
      if (!e.getValue().hasGradient()) {
        throw new IllegalStateException("Parameter " + e.getKey() + " does not track a gradient");
      }
      grads.put(e.getKey(), e.getValue().getGradient());
    }
    return grads;
  }

  @Override
  public void close() {
    arrays.clear();
    manager.close();
  }
}
