"""`gkeras.quantizers`: not supported (Keras's `keras.quantizers`).

Issue 17 leaves it out; Keras's names are here as stand-ins that raise a
NotImplementedError saying why."""

from gkeras.utils.unsupported import unsupported_class, unsupported_function

_NAMES = [
    "AWQConfig", "AbsMaxQuantizer", "Float8QuantizationConfig",
    "GPTQConfig", "Int4QuantizationConfig", "Int8QuantizationConfig",
    "QuantizationConfig", "Quantizer", "abs_max_quantize",
    "abs_max_quantize_grouped_with_zero_point",
    "compute_float8_amax_history", "compute_float8_scale",
    "deserialize", "fake_quant_with_min_max_vars", "get", "pack_int4",
    "quantize_and_dequantize", "serialize", "unpack_int4",
]

for _name in _NAMES:
    _make = unsupported_class if _name[:1].isupper() else \
        unsupported_function
    globals()[_name] = _make(f"gkeras.quantizers.{_name}", "quantizers")
del _make
del _name

__all__ = list(_NAMES)
