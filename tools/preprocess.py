"""The one image-preprocessing rule shared by every patchwise generator.

The Rust side mirrors `preprocess` bit for bit, so keep it exactly as is:

    p : RGB uint8 image already at the model's H x W (no resizing here)
    x = (f32(p) - f32(127.5)) / f32(127.5)          # float32 arithmetic
    float32 model input  -> x
    int8 model input     -> y = x / f32(scale)
                            q = round_half_away_from_zero(y) + zero_point
                            clamp to [-128, 127], int8

round_half_away_from_zero is computed exactly: np.rint (ties to even) and
then exact .5 ties are moved away from zero.  (floor(y + 0.5) is *not* used:
the addition can round in float32 and give a wrong answer.)
"""
import numpy as np

F32 = np.float32


def round_half_away_from_zero(y):
    """Exact round-half-away-from-zero of a float32 array (returns float32)."""
    y = np.asarray(y, dtype=F32)
    r = np.rint(y)
    t = np.trunc(y)
    frac = y - t  # exact for IEEE floats
    tie = np.abs(frac) == F32(0.5)
    return np.where(tie, t + np.sign(y), r).astype(F32)


def normalize(p):
    """uint8 RGB -> float32 in [-1, 1]: (p - 127.5) / 127.5 in float32."""
    p = np.asarray(p)
    assert p.dtype == np.uint8, p.dtype
    return (p.astype(F32) - F32(127.5)) / F32(127.5)


def quantize(x, scale, zero_point, dtype=np.int8):
    """float32 -> int8 with the exact rule above."""
    y = np.asarray(x, dtype=F32) / F32(scale)
    r = round_half_away_from_zero(y)
    info = np.iinfo(dtype)
    r = np.clip(r, F32(-(2.0 ** 30)), F32(2.0 ** 30)).astype(np.int64) + int(zero_point)
    return np.clip(r, info.min, info.max).astype(dtype)


def preprocess(p, dtype, scale=None, zero_point=None):
    """THE rule: uint8 RGB image (H, W, 3) at the model's size -> model input
    (1, H, W, 3) of `dtype` (np.float32 or np.int8)."""
    p = np.asarray(p)
    assert p.ndim == 3 and p.shape[2] == 3 and p.dtype == np.uint8, (p.shape, p.dtype)
    x = normalize(p)[None]
    if np.dtype(dtype) == np.float32:
        return x
    if np.dtype(dtype) == np.int8:
        return quantize(x, scale, zero_point, np.int8)
    raise ValueError(f"unsupported model input dtype {dtype}")


if __name__ == "__main__":  # tiny self-check
    y = np.array([0.5, -0.5, 1.5, -1.5, 2.5, 0.49999997, -2.5000002, 126.5, -127.5, 1e9],
                 dtype=F32)
    print(round_half_away_from_zero(y))
    assert list(round_half_away_from_zero(y)[:5]) == [1, -1, 2, -2, 3]
    assert round_half_away_from_zero(y)[5] == 0
    print(quantize(y, 1.0, 0))
