package org.dtmspark.core.io;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.junit.jupiter.api.Test;

class TensorDataTest {

  @Test
  void dataLengthMustMatchShapeAndDtype() {
    assertThatThrownBy(() -> new TensorData(DType.F32, new long[] {2, 3}, new byte[20]))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage(
            "Tensor data length must equal numel * 4 = 24 for dtype F32 and shape [2, 3], cannot"
                + " be: 20");
    assertThatThrownBy(() -> new TensorData(DType.F32, new long[] {-1}, new byte[0]))
        .hasMessageContaining("at least 0");
  }

  @Test
  void scalarHasOneElementAndEmptyTensorNone() {
    assertThat(new TensorData(DType.I64, new long[0], new byte[8]).numel()).isEqualTo(1);
    assertThat(new TensorData(DType.F16, new long[] {3, 0}, new byte[0]).numel()).isZero();
  }

  @Test
  void shapeIsCopiedInAndOut() {
    long[] shape = {2};
    TensorData t = TensorData.ofFloats(shape, new float[] {1, 2});
    shape[0] = 7;
    t.shape()[0] = 9;
    assertThat(t.shape()).containsExactly(2);
  }

  @Test
  void floatsAreStoredLittleEndian() {
    TensorData t = TensorData.ofFloats(new long[] {2}, new float[] {1f, -2.5f});
    assertThat(t.data()).containsExactly(0, 0, (byte) 0x80, 0x3f, 0, 0, 0x20, (byte) 0xc0);
    assertThat(t.toFloatArray()).containsExactly(1f, -2.5f);
  }

  @Test
  void float32RoundTripsThroughNdArray() {
    try (NDManager m = NDManager.newBaseManager()) {
      NDArray a = m.create(new float[] {0.5f, -1f, 3f, 1e-8f, 7f, -0f}, new Shape(2, 3));
      TensorData t = TensorData.fromNDArray(a);
      assertThat(t.dtype()).isEqualTo(DType.F32);
      assertThat(t.shape()).containsExactly(2, 3);
      NDArray back = t.toNDArray(m);
      assertThat(back.getShape()).isEqualTo(new Shape(2, 3));
      assertThat(back.getDataType()).isEqualTo(DataType.FLOAT32);
      assertThat(back.toFloatArray()).containsExactly(a.toFloatArray());
    }
  }

  @Test
  void halfEncodingAgreesWithPyTorch() {
    float[] values = {
      0f,
      -0f,
      1f,
      65504f,
      65519f,
      65520f,
      0x1p-24f,
      0x1p-25f,
      3 * 0x1p-25f,
      1f + 0x1p-11f,
      1f + 3 * 0x1p-11f,
      -2.5f,
      0.1f,
      1e-7f,
      123.456f,
      Float.POSITIVE_INFINITY
    };
    try (NDManager m = NDManager.newBaseManager()) {
      NDArray half = m.create(values).toType(DataType.FLOAT16, false);
      TensorData fromTorch = TensorData.fromNDArray(half);
      assertThat(fromTorch.dtype()).isEqualTo(DType.F16);
      assertThat(fromTorch.data())
          .containsExactly(TensorData.ofFloatsAsHalf(new long[] {values.length}, values).data());
    }
  }

  @Test
  void halfTensorBecomesHalfNdArrayWithTheSameValues() {
    float[] values = {1.5f, -0.25f, 65504f, 0x1p-24f};
    TensorData t = TensorData.ofFloatsAsHalf(new long[] {2, 2}, values);
    assertThat(t.toFloatArray()).containsExactly(values);
    try (NDManager m = NDManager.newBaseManager()) {
      NDArray a = t.toNDArray(m);
      assertThat(a.getDataType()).isEqualTo(DataType.FLOAT16);
      assertThat(a.getShape()).isEqualTo(new Shape(2, 2));
      assertThat(a.toType(DataType.FLOAT32, false).toFloatArray()).containsExactly(values);
    }
  }

  @Test
  void bfloat16IsWidenedToFloat32() {
    ByteBuffer buf = ByteBuffer.allocate(6).order(ByteOrder.LITTLE_ENDIAN);
    buf.putShort((short) 0x3f80).putShort((short) 0xc040).putShort((short) 0x4049);
    TensorData t = new TensorData(DType.BF16, new long[] {3}, buf.array());
    float[] expected = {1f, -3f, Float.intBitsToFloat(0x40490000)};
    assertThat(t.toFloatArray()).containsExactly(expected);
    try (NDManager m = NDManager.newBaseManager()) {
      NDArray a = t.toNDArray(m);
      assertThat(a.getDataType()).isEqualTo(DataType.FLOAT32);
      assertThat(a.toFloatArray()).containsExactly(expected);
    }
  }

  @Test
  void integerAndBooleanTensorsRoundTripThroughNdArray() {
    try (NDManager m = NDManager.newBaseManager()) {
      NDArray longs = m.create(new long[] {-1, 0, 1L << 40});
      TensorData lt = TensorData.fromNDArray(longs);
      assertThat(lt.dtype()).isEqualTo(DType.I64);
      assertThat(lt.toNDArray(m).toLongArray()).containsExactly(-1, 0, 1L << 40);

      NDArray flags = m.create(new boolean[] {true, false, true});
      TensorData bt = TensorData.fromNDArray(flags);
      assertThat(bt.dtype()).isEqualTo(DType.BOOL);
      assertThat(bt.data()).containsExactly(1, 0, 1);
      assertThat(bt.toNDArray(m).toBooleanArray()).containsExactly(true, false, true);

      NDArray scalar = m.create(42f);
      TensorData st = TensorData.fromNDArray(scalar);
      assertThat(st.shape()).isEmpty();
      assertThat(st.toNDArray(m).getShape()).isEqualTo(new Shape());
    }
  }

  @Test
  void float64IsNarrowedToFloat() {
    ByteBuffer buf = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN);
    buf.putDouble(1.0 / 3).putDouble(-1e300);
    TensorData t = new TensorData(DType.F64, new long[] {2}, buf.array());
    assertThat(t.toFloatArray()).containsExactly((float) (1.0 / 3), Float.NEGATIVE_INFINITY);
  }

  @Test
  void integerTensorsDoNotConvertToFloats() {
    TensorData t = new TensorData(DType.I32, new long[] {1}, new byte[4]);
    assertThatThrownBy(t::toFloatArray)
        .isInstanceOf(IllegalStateException.class)
        .hasMessage("Only floating-point tensors convert to float[], cannot be: I32");
  }

  @Test
  void unknownSafetensorsDtypeIsNamed() {
    assertThatThrownBy(() -> DType.fromSafetensorsName("F8_E4M3"))
        .hasMessageEndingWith("cannot be: F8_E4M3");
    assertThat(DType.fromSafetensorsName("BF16")).isEqualTo(DType.BF16);
  }
}
