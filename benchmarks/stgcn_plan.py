"""PaddleVideo's ST-GCN layer plan, free of any framework import: the references and the FLOP count share it."""

# (in, out, stride, residual) of the ten blocks; in=None is the input channels. Blocks 4 and 7 (0-based) halve
# the time axis and carry a 1x1 convolution on the residual; block 0 has no residual.
PLAN = [(None, 64, 1, False), (64, 64, 1, True), (64, 64, 1, True), (64, 64, 1, True),
        (64, 128, 2, True), (128, 128, 1, True), (128, 128, 1, True),
        (128, 256, 2, True), (256, 256, 1, True), (256, 256, 1, True)]
TEMPORAL_KERNEL = 9
