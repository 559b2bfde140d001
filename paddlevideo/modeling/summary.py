"""Parameters and multiply-adds of a model, per top-level part (PaddleVideo's summary, mmaction2's get_flops).

The multiply-adds are counted from the matmuls and convolutions a forward pass really runs (Paddle's own
operators, the CPU kernels switched off for the count), so they follow the graph mode and the input shape;
`paddle.flops` counts only layers it has hooks for, which misses this model's functional convolutions.
"""
import contextlib

import numpy as np
import paddle
import paddle.nn.functional as F

from .backbones import cpu_gemm


@contextlib.contextmanager
def _counting(counts, where):
    """Patch paddle.matmul and F.conv2d to add each call's multiply-adds to counts[where[0]]."""
    matmul, conv2d, sgemm = paddle.matmul, F.conv2d, cpu_gemm.SGEMM

    def counted_matmul(x, y, *args, **kwargs):
        out = matmul(x, y, *args, **kwargs)
        counts[where[0]] = counts.get(where[0], 0) + int(np.prod(out.shape)) * int(x.shape[-1])
        return out

    def counted_conv2d(x, weight, *args, **kwargs):
        out = conv2d(x, weight, *args, **kwargs)
        per_output = int(np.prod(weight.shape[1:]))            # Cin / groups x kh x kw
        counts[where[0]] = counts.get(where[0], 0) + int(np.prod(out.shape)) * per_output
        return out
    paddle.matmul, F.conv2d, cpu_gemm.SGEMM = counted_matmul, counted_conv2d, None
    try:
        yield
    finally:
        paddle.matmul, F.conv2d, cpu_gemm.SGEMM = matmul, conv2d, sgemm


def model_summary(model, input_shape):
    """[(part, parameters, multiply-adds)] for one forward pass of a batch of `input_shape` (N, C, T, V, M),
    parts being the backbone's blocks and the head; multiply-adds per sample."""
    parts = []
    for name, layer in model.backbone.named_children():
        if isinstance(layer, paddle.nn.LayerList):
            parts += [(f'backbone.{name}.{i}', block) for i, block in enumerate(layer)]
        else:
            parts.append((f'backbone.{name}', layer))
    parts.append(('head', model.head))
    counts, where, hooks = {}, [None], []
    for name, layer in parts:
        hooks.append(layer.register_forward_pre_hook(lambda layer, args, name=name: where.__setitem__(0, name)))

    def conv_layer(layer, args, out):  # a Conv2D layer called as a layer (the head) runs no F.conv2d
        counts[where[0]] = counts.get(where[0], 0) + int(np.prod(out.shape)) * int(np.prod(layer.weight.shape[1:]))
    hooks += [layer.register_forward_post_hook(conv_layer) for layer in model.sublayers()
              if isinstance(layer, paddle.nn.Conv2D)]
    model.eval()
    try:
        with _counting(counts, where), paddle.no_grad():
            model(paddle.zeros(input_shape, dtype='float32'))
    finally:
        for hook in hooks:
            hook.remove()
    rows = [(name, _params(layer), counts.get(name, 0) // input_shape[0]) for name, layer in parts]
    return [row for row in rows if row[1] or row[2]]


def _params(layer):
    return sum(int(np.prod(p.shape)) for p in layer.parameters())
