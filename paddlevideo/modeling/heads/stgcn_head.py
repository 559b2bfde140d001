"""STGCNHead: a 1x1 convolution from backbone features to class logits (PaddleVideo's `head.fcn`)."""
import paddle.nn as nn
import paddle.nn.functional as F

from ...utils.registry import COMPONENTS


@COMPONENTS.register('head')
class STGCNHead(nn.Layer):
    def __init__(self, num_classes=10, in_channels=256, ls_eps=0.0, drop_ratio=0.0):
        super().__init__()
        self.num_classes, self.ls_eps = num_classes, ls_eps
        self.dropout = nn.Dropout(drop_ratio) if drop_ratio > 0 else None
        self.fcn = nn.Conv2D(in_channels, num_classes, kernel_size=1)

    def forward(self, x):
        """(N, C, 1, 1) -> (N, num_classes) logits."""
        if self.dropout is not None:
            x = self.dropout(x)
        return self.fcn(x).flatten(1)

    def loss(self, logits, labels, labels_b=None, lam=None):
        """Cross entropy (label smoothing ls_eps); mixup (lam * CE(labels) + (1 - lam) * CE(labels_b)) if given."""
        loss = F.cross_entropy(logits, labels, label_smoothing=self.ls_eps)
        if labels_b is None:
            return loss
        return lam * loss + (1 - lam) * F.cross_entropy(logits, labels_b, label_smoothing=self.ls_eps)
