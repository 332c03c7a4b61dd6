/**
 * The optimizer side of the recipe: AdamW with per-parameter weight-decay exclusion and layer-wise
 * learning-rate scaling, global-norm gradient clipping, learning-rate schedules and resumable
 * optimizer state.
 *
 * <p>Written with NDArray operations rather than DJL's {@code Adam}/{@code Optimizer}, because
 * DJL's AdamW applies one weight decay to every parameter, clips gradients element-wise and cannot
 * save its state. Everything here addresses parameters by their timm/BEiT names (see {@link
 * org.dtmspark.core.nn.Parameters}).
 */
package org.dtmspark.core.optim;
