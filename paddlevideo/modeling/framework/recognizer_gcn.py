"""RecognizerGCN: backbone -> head, with the train / validation / test steps the loops call. if_top5 (PP-Human's
key, for two-class models) leaves top-5 out of the training log."""
import paddle
import paddle.nn as nn

from ...utils.registry import COMPONENTS


def topk_accuracy(logits, labels, k):
    k = min(k, logits.shape[1])
    hit = (paddle.topk(logits, k, axis=1)[1] == labels.reshape([-1, 1])).any(axis=1)
    return hit.astype('float32').mean()


@COMPONENTS.register('framework')
class RecognizerGCN(nn.Layer):
    def __init__(self, backbone, head, if_top5=True):
        super().__init__()
        self.backbone, self.head, self.if_top5 = backbone, head, bool(if_top5)

    def forward(self, data):
        """(N, C, T, V, M) -> (N, num_classes) logits, before softmax."""
        return self.head(self.backbone(data))

    def train_outputs(self, logits, labels, labels_b=None, lam=None):
        """Loss and top-1 / top-5 of a training batch's logits (mixed labels when labels_b / lam are given)."""
        out = {'loss': self.head.loss(logits, labels, labels_b, lam)}
        with paddle.no_grad():
            for k in (1, 5) if self.if_top5 else (1,):
                acc = topk_accuracy(logits, labels, k)
                if labels_b is not None:
                    acc = lam * acc + (1 - lam) * topk_accuracy(logits, labels_b, k)
                out[f'top{k}'] = acc
        return out
