package org.dtmspark.core.optim;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.LinkedHashMap;
import java.util.Map;
import org.dtmspark.core.nn.Parameters;
import org.dtmspark.core.nn.VisionTransformer;
import org.dtmspark.core.nn.VitConfig;
import org.dtmspark.core.optim.ParameterGroups.NoDecayRule;
import org.junit.jupiter.api.Test;

class ParameterGroupsTest {
  private static final int DEPTH = 12;

  @Test
  void referenceNoDecayParametersAreExcludedFromWeightDecay() {
    assertThat(ParameterGroups.decays("blocks.0.attn.q_bias", new long[] {6})).isFalse();
    assertThat(ParameterGroups.decays("cls_token", new long[] {1, 1, 4})).isFalse();
    assertThat(ParameterGroups.decays("pos_embed", new long[] {1, 197, 4})).isFalse();
    assertThat(ParameterGroups.decays("blocks.3.norm1.weight", new long[] {4})).isFalse();
    assertThat(ParameterGroups.decays("blocks.3.gamma_1", new long[] {4})).isFalse();
    assertThat(ParameterGroups.decays("patch_embed.proj.bias", new long[] {4})).isFalse();
  }

  @Test
  void maskTokenAndRelativePositionTablesAreDecayedAsInTheReference() {
    assertThat(ParameterGroups.decays("mask_token", new long[] {1, 1, 4})).isTrue();
    assertThat(
            ParameterGroups.decays(
                "rel_pos_bias.relative_position_bias_table", new long[] {732, 12}))
        .isTrue();
    assertThat(
            ParameterGroups.decays(
                "blocks.2.attn.relative_position_bias_table", new long[] {732, 12}))
        .isTrue();
  }

  @Test
  void theEarlierRuleStaysAvailableAsASwitch() {
    NoDecayRule legacy = NoDecayRule.of(true);
    assertThat(legacy).isEqualTo(NoDecayRule.TABLES_AND_TOKENS);
    assertThat(NoDecayRule.of(false)).isEqualTo(NoDecayRule.REFERENCE);
    assertThat(ParameterGroups.decays("mask_token", new long[] {1, 1, 4}, legacy)).isFalse();
    assertThat(
            ParameterGroups.decays(
                "blocks.2.attn.relative_position_bias_table", new long[] {732, 12}, legacy))
        .isFalse();
    assertThat(ParameterGroups.decays("blocks.0.attn.qkv.weight", new long[] {12, 4}, legacy))
        .isTrue();
  }

  /**
   * The reference's rule, written out independently: BEiT v2 {@code get_parameter_groups} with
   * {@code skip_list = model.no_weight_decay() = {"pos_embed", "cls_token"}}.
   */
  private static boolean referenceDecays(String name, Shape shape) {
    boolean skip =
        shape.dimension() == 1
            || name.endsWith(".bias")
            || name.equals("pos_embed")
            || name.equals("cls_token");
    return !skip;
  }

  @Test
  void groupsEqualTheReferenceRuleOnVitSmallBaseLargeParameterNames() {
    for (String size : new String[] {"small", "base", "large"}) {
      VitConfig pretrain = VitConfig.preset(size, 224, 16).withTokenHeadDim(512);
      VitConfig classifier = VitConfig.preset(size, 224, 16).withNumClasses(1000);
      for (VitConfig config : new VitConfig[] {pretrain, classifier}) {
        Map<String, Shape> shapes = VisionTransformer.parameterShapes(config);
        ParameterGroups groups = ParameterGroups.ofShapes(shapes, config.depth(), 1.0);
        int decayed = 0;
        for (Map.Entry<String, Shape> e : shapes.entrySet()) {
          boolean expected = referenceDecays(e.getKey(), e.getValue());
          assertThat(groups.group(e.getKey()).decay())
              .as("%s %s", size, e.getKey())
              .isEqualTo(expected);
          decayed += expected ? 1 : 0;
        }
        // Per block qkv, proj, fc1, fc2 and the relative position table; plus the patch
        // embedding, the shared table, the head, and in pretraining the mask token.
        int perModel = config.classifierLayout() ? 3 : 4;
        assertThat(decayed).as(size).isEqualTo(5 * config.depth() + perModel);
        assertThat(groups.decayedCount()).isEqualTo(decayed);
      }
    }
  }

  @Test
  void weightMatricesAreDecayed() {
    assertThat(ParameterGroups.decays("blocks.0.attn.qkv.weight", new long[] {12, 4})).isTrue();
    assertThat(ParameterGroups.decays("patch_embed.proj.weight", new long[] {4, 3, 16, 16}))
        .isTrue();
    assertThat(ParameterGroups.decays("lm_head.weight", new long[] {512, 4})).isTrue();
  }

  @Test
  void oneDimensionalParametersAreNeverDecayedWhateverTheirName() {
    assertThat(ParameterGroups.decays("lm_head.weight", new long[] {512})).isFalse();
  }

  @Test
  void layerIdsFollowBeitForDepth12() {
    assertThat(ParameterGroups.layerId("cls_token", DEPTH)).isZero();
    assertThat(ParameterGroups.layerId("mask_token", DEPTH)).isZero();
    assertThat(ParameterGroups.layerId("pos_embed", DEPTH)).isZero();
    assertThat(ParameterGroups.layerId("patch_embed.proj.weight", DEPTH)).isZero();
    assertThat(ParameterGroups.layerId("blocks.0.attn.qkv.weight", DEPTH)).isEqualTo(1);
    assertThat(ParameterGroups.layerId("blocks.11.mlp.fc2.bias", DEPTH)).isEqualTo(12);
    assertThat(ParameterGroups.layerId("rel_pos_bias.relative_position_bias_table", DEPTH))
        .isEqualTo(13);
    assertThat(ParameterGroups.layerId("norm.weight", DEPTH)).isEqualTo(13);
    assertThat(ParameterGroups.layerId("head.weight", DEPTH)).isEqualTo(13);
  }

  @Test
  void layerScalesDecayGeometricallyFromTheHead() {
    double decay = 0.65;
    assertThat(ParameterGroups.layerScale("head.weight", DEPTH, decay)).isEqualTo(1.0);
    assertThat(
            ParameterGroups.layerScale("rel_pos_bias.relative_position_bias_table", DEPTH, decay))
        .isEqualTo(1.0);
    assertThat(ParameterGroups.layerScale("blocks.11.attn.qkv.weight", DEPTH, decay))
        .isCloseTo(0.65, within(1e-15));
    assertThat(ParameterGroups.layerScale("blocks.5.attn.qkv.weight", DEPTH, decay))
        .isCloseTo(Math.pow(0.65, 7), within(1e-15));
    assertThat(ParameterGroups.layerScale("blocks.0.norm1.weight", DEPTH, decay))
        .isCloseTo(Math.pow(0.65, 12), within(1e-15));
    assertThat(ParameterGroups.layerScale("patch_embed.proj.weight", DEPTH, decay))
        .isCloseTo(Math.pow(0.65, 13), within(1e-15));
    assertThat(ParameterGroups.layerScale("cls_token", DEPTH, decay))
        .isCloseTo(3.6975e-3, within(1e-6));
  }

  @Test
  void blockIndexMustBeBelowDepth() {
    assertThatThrownBy(() -> ParameterGroups.layerId("blocks.12.attn.qkv.weight", DEPTH))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage(
            "Parameter blocks.12.attn.qkv.weight must have a block index in [0, 12) for model"
                + " depth 12, cannot be: 12");
    assertThatThrownBy(() -> ParameterGroups.layerId("blocks.x.norm1.weight", DEPTH))
        .hasMessage(
            "Parameter blocks.x.norm1.weight must have a block index after 'blocks.', cannot be:"
                + " x");
  }

  @Test
  void groupsCoverEveryParameterInOrderWithDecayAndScale() {
    try (NDManager manager = NDManager.newBaseManager();
        Parameters params = Parameters.create(manager)) {
      params.put("cls_token", manager.zeros(new Shape(1, 1, 4)));
      params.put("patch_embed.proj.weight", manager.zeros(new Shape(4, 3, 2, 2)));
      params.put("patch_embed.proj.bias", manager.zeros(new Shape(4)));
      params.put("blocks.0.attn.qkv.weight", manager.zeros(new Shape(12, 4)));
      params.put("blocks.1.norm1.weight", manager.zeros(new Shape(4)));
      params.put("head.weight", manager.zeros(new Shape(5, 4)));

      ParameterGroups groups = ParameterGroups.of(params, 2, 0.5);

      assertThat(groups.names()).containsExactlyElementsOf(params.names());
      assertThat(groups.decayedCount()).isEqualTo(3);
      assertThat(groups.notDecayedCount()).isEqualTo(3);
      ParameterGroups.Group qkv = groups.group("blocks.0.attn.qkv.weight");
      assertThat(qkv.decay()).isTrue();
      assertThat(qkv.layerId()).isEqualTo(1);
      assertThat(qkv.lrScale()).isEqualTo(0.25);
      assertThat(qkv.shape()).isEqualTo(new Shape(12, 4));
      assertThat(groups.group("cls_token").lrScale()).isEqualTo(0.125);
      assertThat(groups.group("head.weight").lrScale()).isEqualTo(1.0);
      assertThat(groups.summary())
          .startsWith(
              "weight decay: 3 tensors (116 values); no weight decay: 3 tensors (12 values)")
          .contains("layer decay 0.5")
          .contains("0 (lr x0.1250) 3");
      assertThatThrownBy(() -> groups.group("nope"))
          .hasMessage("No optimizer settings for parameter nope");
    }
  }

  @Test
  void layerDecayOfOneGivesEveryParameterScaleOne() {
    LinkedHashMap<String, Shape> shapes = new LinkedHashMap<>();
    shapes.put("cls_token", new Shape(1, 1, 4));
    shapes.put("blocks.0.attn.qkv.weight", new Shape(12, 4));
    shapes.put("head.weight", new Shape(5, 4));
    ParameterGroups groups = ParameterGroups.ofShapes(shapes, 1, 1.0);
    assertThat(groups.groups()).allSatisfy(g -> assertThat(g.lrScale()).isEqualTo(1.0));
    assertThat(groups.summary()).doesNotContain("layer decay");
  }

  @Test
  void depthAndLayerDecayAreValidated() {
    LinkedHashMap<String, Shape> shapes = new LinkedHashMap<>();
    assertThatThrownBy(() -> ParameterGroups.ofShapes(shapes, 0, 1.0))
        .hasMessage("Model depth must be at least 1, cannot be: 0");
    assertThatThrownBy(() -> ParameterGroups.ofShapes(shapes, 12, 0.0))
        .hasMessage("Layer decay must be in (0, 1], cannot be: 0.0");
    assertThatThrownBy(() -> ParameterGroups.ofShapes(shapes, 12, 1.5))
        .hasMessage("Layer decay must be in (0, 1], cannot be: 1.5");
  }
}
