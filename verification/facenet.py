"""dlib's face-descriptor network (the ResNet behind face_recognition), run with numpy.

The dlib wheel we install has no BLAS: its descriptor took 150-190 ms of CPU per face,
the largest single cost of a live check. The same weights, read from the model file that
face_recognition_models ships, give the same 128 numbers through numpy's matrix products
in a fraction of that (`benchmarks/face.py` measures both). Only the network moves here:
dlib still finds the landmarks and cuts the aligned 150x150 chip.

The file is dlib's serialisation of the trained network: layers bottom-up, each a name
("con_4", "affine_", ...) followed by its settings and, for layers with weights, one
tensor of little-endian float32. The residual blocks (dlib's tag/skip/add_prev layers)
follow the architecture published with the model (dnn_face_recognition_ex.cpp).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import numpy as np

from verification.errors import UnknownModel

CHIP_SIZE = 150
CHIP_PADDING = 0.25  # dlib's default for compute_face_descriptor

_NAME = re.compile(rb"\x01([\x04-\x16])(con_4|affine_|relu_|max_pool_2|avg_pool_2|add_prev_|fc_2)")


class _Reader:
    def __init__(self, data: bytes, pos: int) -> None:
        self.data, self.pos = data, pos

    def int(self) -> int:
        control = self.data[self.pos]
        size = control & 0x0F
        if not 1 <= size <= 8:
            raise UnknownModel(f"bad integer at byte {self.pos}")
        raw = self.data[self.pos + 1 : self.pos + 1 + size]
        self.pos += 1 + size
        value = int.from_bytes(raw, "little")
        return -value if control & 0x80 else value

    def float(self) -> float:
        mantissa, exponent = self.int(), self.int()
        return float(np.ldexp(float(mantissa), exponent))

    def tensor(self) -> np.ndarray:
        if self.int() != 2:
            raise UnknownModel(f"unknown tensor version at byte {self.pos}")
        shape = tuple(self.int() for _ in range(4))
        count = int(np.prod(shape))
        values = np.frombuffer(self.data, "<f4", count, self.pos).astype(np.float32)
        self.pos += 4 * count
        return values.reshape(shape)


def _none() -> np.ndarray:
    return np.zeros(0, np.float32)


@dataclass(frozen=True)
class _Layer:
    kind: str  # con, affine, relu, max_pool, avg_pool, add_prev, fc
    weights: np.ndarray = field(default_factory=_none)  # con: (rows*cols*in, out); fc: (in, out)
    bias: np.ndarray = field(default_factory=_none)  # con: (out,); affine: shift per channel
    scale: np.ndarray = field(default_factory=_none)  # affine: gain per channel
    size: tuple[int, int] = (0, 0)  # window rows, cols (0, 0: the whole input)
    stride: tuple[int, int] = (1, 1)
    padding: tuple[int, int] = (0, 0)


@dataclass(frozen=True)
class Network:
    mean_rgb: np.ndarray  # subtracted from the chip's pixels, then divided by 256
    layers: tuple[_Layer, ...]


def load(path: str | Path) -> Network:
    """Read dlib_face_recognition_resnet_model_v1.dat."""
    data = Path(path).read_bytes()
    try:
        return _parse(data)
    except (IndexError, ValueError) as exc:  # a truncated or damaged file
        raise UnknownModel("the face network's file is damaged") from exc


def _parse(data: bytes) -> Network:
    start = data.find(b"\x01\x15input_rgb_image_sized")
    if not data.startswith(b"\x01\x01\x01\x0dloss_metric_2") or start < 0:
        raise UnknownModel("not dlib's face recognition network")
    reader = _Reader(data, start + 23)
    mean_rgb = np.array([reader.float() for _ in range(3)], np.float32)
    if (reader.int(), reader.int()) != (CHIP_SIZE, CHIP_SIZE):
        raise UnknownModel("the network does not take 150x150 chips")
    layers: list[_Layer] = []
    while match := _NAME.search(data, reader.pos):
        if len(match.group(2)) != match.group(1)[0]:
            raise UnknownModel(f"bad layer name at byte {match.start()}")
        name = match.group(2).decode()
        reader.pos = match.end()
        if name == "con_4":
            params = reader.tensor().reshape(-1)
            out, rows, cols = reader.int(), reader.int(), reader.int()
            stride = (reader.int(), reader.int())
            padding = (reader.int(), reader.int())
            filters = params[: params.size - out]
            channels = filters.size // (out * rows * cols)
            # (out, in, rows, cols) -> (rows, cols, in, out): rows of an im2col matrix
            weights = filters.reshape(out, channels, rows, cols).transpose(2, 3, 1, 0)
            layers.append(
                _Layer(
                    "con",
                    weights=np.ascontiguousarray(weights.reshape(-1, out)),
                    bias=params[params.size - out :].copy(),
                    size=(rows, cols),
                    stride=stride,
                    padding=padding,
                )
            )
        elif name == "affine_":
            params = reader.tensor().reshape(-1)
            half = params.size // 2
            layers.append(_Layer("affine", scale=params[:half].copy(), bias=params[half:].copy()))
        elif name in ("max_pool_2", "avg_pool_2"):
            size = (reader.int(), reader.int())
            stride = (reader.int(), reader.int())
            if (reader.int(), reader.int()) != (0, 0):
                raise UnknownModel("padded pooling: not the expected network")
            layers.append(_Layer(name[:-2], size=size, stride=stride))
        elif name == "fc_2":
            outputs, inputs = reader.int(), reader.int()
            params = reader.tensor().reshape(-1)
            if params.size != outputs * inputs:
                raise UnknownModel("the last layer has a bias: not the expected network")
            layers.append(_Layer("fc", weights=params.reshape(inputs, outputs).copy()))
        else:
            layers.append(_Layer(name.rstrip("_")))
    kinds = [layer.kind for layer in layers]
    if kinds.count("con") != 29 or kinds[-2:] != ["avg_pool", "fc"]:
        raise UnknownModel("unexpected layers: not the expected network")
    return Network(mean_rgb, tuple(layers))


@cache
def bundled() -> Network:
    """The network in face_recognition_models (read once per process, ~0.1 s)."""
    import face_recognition_models

    return load(face_recognition_models.face_recognition_model_location())


def _windows(x: np.ndarray, size: tuple[int, int], stride: tuple[int, int]) -> np.ndarray:
    """(rows', cols', size_r, size_c, channels) view of the windows over x (rows, cols, ch)."""
    rows, cols, channels = x.shape
    out_r = (rows - size[0]) // stride[0] + 1
    out_c = (cols - size[1]) // stride[1] + 1
    s0, s1, s2 = x.strides
    return np.lib.stride_tricks.as_strided(
        x,
        (out_r, out_c, size[0], size[1], channels),
        (s0 * stride[0], s1 * stride[1], s0, s1, s2),
        writeable=False,
    )


def _conv(x: np.ndarray, layer: _Layer) -> np.ndarray:
    (pr, pc), (kr, kc) = layer.padding, layer.size
    if pr or pc:
        x = np.pad(x, ((pr, pr), (pc, pc), (0, 0)))
    win = _windows(x, (kr, kc), layer.stride)
    out_r, out_c = win.shape[:2]
    columns = win.reshape(out_r * out_c, -1)  # copies: the im2col matrix
    y = columns @ layer.weights
    y += layer.bias
    return y.reshape(out_r, out_c, -1)


def _pool(x: np.ndarray, layer: _Layer) -> np.ndarray:
    if layer.size == (0, 0):
        return x.mean(axis=(0, 1), keepdims=True)
    win = _windows(np.ascontiguousarray(x), layer.size, layer.stride)
    if layer.kind == "max_pool":
        return win.max(axis=(2, 3))
    return win.mean(axis=(2, 3), dtype=np.float32)


def _add(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """dlib's add_prev: tensors of different sizes add as if padded with zeros."""
    shape = tuple(max(p, q) for p, q in zip(a.shape, b.shape, strict=True))
    out = np.zeros(shape, np.float32)
    out[: a.shape[0], : a.shape[1], : a.shape[2]] += a
    out[: b.shape[0], : b.shape[1], : b.shape[2]] += b
    return out


def forward(net: Network, chip: np.ndarray) -> np.ndarray:
    """The 128-d descriptor of an aligned 150x150 RGB face chip (dlib.get_face_chip)."""
    if chip.shape != (CHIP_SIZE, CHIP_SIZE, 3):
        raise ValueError("a face chip is 150x150 RGB")
    x = (chip.astype(np.float32) - net.mean_rgb) / np.float32(256.0)
    block_input = x  # dlib's tag1: where the current residual block started
    skip: np.ndarray | None = None
    block_done = False
    for layer in net.layers:
        if layer.kind == "con":
            x = _conv(x, layer)
        elif layer.kind == "affine":
            x = x * layer.scale + layer.bias
        elif layer.kind == "relu":
            np.maximum(x, 0, out=x)
            if block_done:  # the relu after add_prev ends a block: the next one starts here
                block_input, block_done = x, False
        elif layer.kind == "max_pool":
            x = _pool(x, layer)
            block_input = x
        elif layer.kind == "avg_pool" and layer.size != (0, 0):
            skip = _pool(block_input, layer)  # the down-sampling block's shortcut
        elif layer.kind == "avg_pool":
            x = _pool(x, layer)
        elif layer.kind == "add_prev":
            x = _add(x, block_input if skip is None else skip)
            skip, block_done = None, True
        elif layer.kind == "fc":
            return (x.reshape(1, -1) @ layer.weights).reshape(-1).astype(np.float64)
    raise UnknownModel("the network has no output layer")
