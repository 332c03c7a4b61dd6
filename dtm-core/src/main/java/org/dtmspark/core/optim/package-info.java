/**
 * The optimizer side of the recipe: all parameters in one flat buffer ({@link
 * org.dtmspark.core.optim.FlatParameters}), AdamW over it with per-parameter weight-decay exclusion
 * and layer-wise learning-rate scaling, learning-rate schedules and resumable optimizer state.
 * Global-norm clipping and the loss scale are folded into AdamW's scalars by {@code
 * org.dtmspark.core.train.GradientUpdate}.
 *
 * <p>Written with NDArray operations rather than DJL's {@code Adam}/{@code Optimizer}, because
 * DJL's AdamW applies one weight decay to every parameter, clips gradients element-wise and cannot
 * save its state. Everything here addresses parameters by their timm/BEiT names (see {@link
 * org.dtmspark.core.nn.Parameters}).
 */
package org.dtmspark.core.optim;
