"""Records Keras's `backend.result_type` on every pair of dtypes, for
tests/test_tree_and_utils_api.py.

    KERAS_BACKEND=jax python tests/data/record_keras_result_type.py k \
        > tests/data/keras_result_type.json

(With `g` instead of `k` it prints gkeras's answers, for comparison.)
"""
import sys, json, itertools
if sys.argv[1] == "k":
    import keras; B = keras.backend
else:
    from gkeras.backend import dtypes as B
ts = ["bool","uint8","uint16","uint32","int8","int16","int32","int64","bfloat16","float16","float32","float64", "complex64", int, float, bool]
out = {}
for a, b in itertools.combinations_with_replacement(ts, 2):
    k = f"{getattr(a,'__name__',a)}|{getattr(b,'__name__',b)}"
    try: out[k] = B.result_type(a, b)
    except Exception as e: out[k] = "ERR"
for a in ts:
    try: out[f"{getattr(a,'__name__',a)}"] = B.result_type(a)
    except Exception: out[str(a)]="ERR"
out["none"] = B.result_type(); out["3"] = B.result_type("int8", "uint8", float)
print(json.dumps(out, sort_keys=True))
