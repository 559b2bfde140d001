"""STGCN / STGCNHead / RecognizerGCN: graphs, shapes, PaddleVideo checkpoint parity, bias folding."""
import json
import os
import pickle
import re

import numpy as np
import paddle
import paddle.nn as nn
import pytest

from paddlevideo.loader.pipelines import Compose
from paddlevideo.modeling import build_model
from paddlevideo.modeling.backbones import cpu_gemm
from paddlevideo.modeling.backbones.stgcn import conv_bn, conv_nobias
from paddlevideo.modeling.summary import model_summary
from paddlevideo.modeling.graph import Graph
from paddlevideo.utils.checkpoint import load_state, load_weights
from paddlevideo.utils.errors import CheckpointError


def model_cfg(num_classes=30, **backbone):
    return {'framework': 'RecognizerGCN', 'backbone': {'name': 'STGCN', **backbone},
            'head': {'name': 'STGCNHead', 'num_classes': num_classes}}


def test_spatial_graph_equals_paddlevideo_buffer(compat):
    A = paddle.load(str(compat / 'paddlevideo_stgcn_fsd.pdparams'))['backbone.A'].numpy()
    assert np.array_equal(Graph('fsd10', 'spatial').A, A)
    for layout, v in (('coco', 17), ('ntu-rgb+d', 25)):
        g = Graph(layout, 'spatial').A
        assert g.shape == (3, v, v)
        assert np.allclose(g.sum(axis=(0, 1)), 1.0)          # every joint's inputs sum to one
    assert Graph('fsd10', 'uniform').A.shape == (1, 25, 25) and Graph('fsd10', 'distance').A.shape == (2, 25, 25)


def test_paddlevideo_checkpoint_reproduces_its_logits(compat):
    model = build_model(model_cfg())
    keys = json.loads((compat / 'paddlevideo_stgcn_fsd_keys.json').read_text())
    assert {k: list(v.shape) for k, v in model.state_dict().items()} == keys     # same names, same shapes
    load_weights(model, str(compat / 'paddlevideo_stgcn_fsd.pdparams')).eval()
    expected = np.load(compat / 'paddlevideo_stgcn_fsd_logits.npy')
    prepared = np.load(compat / 'paddlevideo_stgcn_fsd_input.npy')
    with paddle.no_grad():
        np.testing.assert_allclose(model(paddle.to_tensor(prepared)).numpy(), expected, atol=1e-4)
        raw = np.load(compat / 'paddlevideo_stgcn_fsd_raw.npy')[0]
        pipe = Compose({'sample': {'name': 'Sampleframe', 'window_size': 350}, 'transform': [{'SkeletonNorm': None}]})
        ours = model(paddle.to_tensor(pipe(raw, np.random.default_rng(0))[None])).numpy()
    np.testing.assert_allclose(ours, expected, atol=1e-4)
    assert expected.std() > 0.5                             # the fixture's logits really depend on the input


def test_checkpoint_mismatch_is_a_clear_error(compat, tmp_path):
    with pytest.raises(CheckpointError, match=r'head.fcn.weight: model expects shape \[10, 256, 1, 1\], '
                                              r'file has \[30, 256, 1, 1\] \(class count differs'):
        load_weights(build_model(model_cfg(10)), str(compat / 'paddlevideo_stgcn_fsd.pdparams'))
    with pytest.raises(CheckpointError, match=r'\d+ unexpected key\(s\), e.g. .*; \d+ missing key\(s\), e.g. '
                                              r'.*another MODEL.backbone.graph'):
        load_weights(build_model(model_cfg(graph='learnable')), str(compat / 'paddlevideo_stgcn_fsd.pdparams'))
    bad = tmp_path / 'broken.pdparams'
    bad.write_bytes(b'\x80\x04garbage')
    with pytest.raises(CheckpointError, match='cannot be read as a Paddle checkpoint'):
        load_weights(build_model(model_cfg()), str(bad))
    with pytest.raises(CheckpointError, match='weights file not found'):
        load_weights(build_model(model_cfg()), str(tmp_path / 'none.pdparams'))


def test_fine_tuning_onto_another_class_count_starts_the_head_afresh(compat):
    model = build_model(model_cfg(15))
    head = {k: v.numpy().copy() for k, v in model.state_dict().items() if k.startswith('head.')}
    lines = []
    load_weights(model, str(compat / 'paddlevideo_stgcn_fsd.pdparams'), notify=lines.append)
    assert lines == [f"fine-tuning: {compat / 'paddlevideo_stgcn_fsd.pdparams'} has a head for 30 classes, the "
                     f"model 15: the head starts from scratch"]
    state, file = model.state_dict(), paddle.load(str(compat / 'paddlevideo_stgcn_fsd.pdparams'), return_numpy=True)
    for k, v in head.items():
        np.testing.assert_array_equal(state[k].numpy(), v)
    np.testing.assert_array_equal(state['backbone.data_bn.weight'].numpy(), file['backbone.data_bn.weight'])
    with pytest.raises(CheckpointError, match='does not fit the model: head.fcn.weight'):   # testing: no notify
        load_weights(build_model(model_cfg(15)), str(compat / 'paddlevideo_stgcn_fsd.pdparams'))


class RunsCode:
    """What a malicious checkpoint holds: unpickling it calls os.system."""

    def __init__(self, command):
        self.command = command

    def __reduce__(self):
        return os.system, (self.command,)


def test_a_checkpoint_that_would_run_code_is_refused_before_it_runs(compat, tmp_path):
    marker = tmp_path / 'ran'
    state = paddle.load(str(compat / 'paddlevideo_stgcn_fsd.pdparams'), return_numpy=True)
    state['head.fcn.bias'] = RunsCode(f'touch {marker}')
    evil = tmp_path / 'evil.pdparams'
    evil.write_bytes(pickle.dumps(state, protocol=4))
    with pytest.raises(CheckpointError, match=rf'^{re.escape(str(evil))}: not loaded: it asks to build '
                                              rf'posix.system, and a Paddle checkpoint holds only arrays'):
        load_weights(build_model(model_cfg()), str(evil))
    assert not marker.exists()
    evil.write_bytes(pickle.dumps({'lr': RunsCode(f'touch {marker}')}))   # an optimizer state, protocol 5
    with pytest.raises(CheckpointError, match='not loaded: it asks to build posix.system'):
        load_state(str(evil))
    assert not marker.exists()
    state['head.fcn.bias'] = np.zeros(30, np.float32)       # the same file without the payload loads
    evil.write_bytes(pickle.dumps(state, protocol=4))
    np.testing.assert_array_equal(load_state(str(evil))['backbone.A'], state['backbone.A'])


@pytest.mark.parametrize('layout, joints, channels, persons', [('fsd10', 25, 2, 1), ('coco', 17, 3, 2),
                                                                ('ntu-rgb+d', 25, 3, 2)])
@pytest.mark.parametrize('graph', ['spatial', 'learnable'])
def test_shapes_for_every_layout(layout, joints, channels, persons, graph):
    model = build_model(model_cfg(7, layout=layout, in_channels=channels, graph=graph))
    x = paddle.randn([3, channels, 20, joints, persons])
    assert model(x).shape == [3, 7]
    assert model.backbone(x).shape == [3, 256, 1, 1]


def test_learnable_graph_starts_from_the_partition():
    model = build_model(model_cfg(graph='learnable'))
    A = Graph('fsd10', 'spatial').A.reshape(75, 25)
    for block in model.backbone.st_gcn_networks:
        assert np.array_equal(block.gcn.adjacency.numpy(), A) and block.gcn.conv.bias is None
    names = set(model.state_dict())
    assert 'backbone.st_gcn_networks.0.gcn.adjacency' in names and not any('edge_importance' in n for n in names)
    assert not any(n.endswith('tcn.2.bias') or n.endswith('residual.0.bias') for n in names)


def test_folded_conv_bias_equals_biased_conv_then_bn():
    paddle.seed(0)
    conv, bn = nn.Conv2D(4, 6, (3, 1), padding=(1, 0)), nn.BatchNorm2D(6)
    conv.bias.set_value(paddle.randn([6]) * 3)
    ref_conv, ref_bn = nn.Conv2D(4, 6, (3, 1), padding=(1, 0)), nn.BatchNorm2D(6)
    ref_conv.set_state_dict(conv.state_dict())
    for training in (True, True, False):
        x = paddle.randn([3, 4, 7, 5])
        ref_bn.train() if training else ref_bn.eval()
        ours = conv_bn(conv_nobias(conv, x), conv, bn, training)
        np.testing.assert_allclose(ours.numpy(), ref_bn(ref_conv(x)).numpy(), atol=1e-5)
        np.testing.assert_allclose(bn._mean.numpy(), ref_bn._mean.numpy(), atol=1e-6)   # PaddleVideo's meaning
        np.testing.assert_allclose(bn._variance.numpy(), ref_bn._variance.numpy(), atol=1e-6)
    assert np.abs(bn._mean.numpy()).max() > 0.1          # the running mean really carries the bias


def test_spatial_gcn_bias_is_exact_in_training_and_evaluation():
    """PaddleVideo's gcn bias rides as a channel of ones: the biased 1x1 conv followed by PaddleVideo's graph
    product, in both modes."""
    from paddlevideo.modeling.backbones.stgcn import GraphConv
    paddle.seed(1)
    gcn = GraphConv(5, 4, 3, 25, 'spatial', bias=True)
    gcn.conv.bias.set_value(paddle.randn([12]))
    x, graph = paddle.randn([2, 5, 6, 25]), paddle.rand([3, 25, 25])
    y = gcn.conv(x).reshape([2, 3, 4, 6, 25])
    expected = paddle.einsum('nkctv,kvw->nctw', y, graph).numpy()
    gcn.train()
    np.testing.assert_allclose(gcn(x, graph).numpy(), expected, atol=1e-4)
    gcn.eval()
    np.testing.assert_allclose(gcn(x, graph).numpy(), expected, atol=1e-4)


@pytest.mark.parametrize('graph', ['learnable', 'spatial'])
def test_with_cp_trains_to_the_same_weights_and_statistics(graph):
    """Recompute (with_cp) gives the same gradients, dropout masks and BatchNorm running statistics: two
    Momentum steps end in the same state, running means and variances included."""
    x = paddle.to_tensor(np.random.default_rng(0).normal(size=(4, 3, 24, 25, 1)).astype('float32'))
    states = []
    for with_cp in (False, True):
        paddle.seed(0)
        backbone = build_model(model_cfg(graph=graph, in_channels=3, dropout=0.3, with_cp=with_cp)).backbone
        backbone.train()
        opt = paddle.optimizer.Momentum(0.1, parameters=backbone.parameters())
        paddle.seed(1)
        for _ in range(2):
            (backbone(x) ** 2).mean().backward()
            opt.step()
            opt.clear_grad()
        states.append({k: v.numpy() for k, v in backbone.state_dict().items()})
    assert states[0].keys() == states[1].keys()
    for key, value in states[0].items():
        np.testing.assert_allclose(states[1][key], value, atol=1e-6, err_msg=key)


def test_head_loss_with_mixup_and_label_smoothing():
    from paddlevideo.modeling.heads.stgcn_head import STGCNHead
    logits = paddle.to_tensor([[2.0, 0.0, -1.0], [0.0, 1.0, 0.0]])
    a, b = paddle.to_tensor([0, 1]), paddle.to_tensor([2, 2])
    logp = np.log(np.exp(logits.numpy()) / np.exp(logits.numpy()).sum(1, keepdims=True))
    ce = lambda y: -logp[[0, 1], y].mean()  # noqa: E731
    head = STGCNHead(num_classes=3)
    assert float(head.loss(logits, a)) == pytest.approx(ce([0, 1]), rel=1e-5)
    assert float(head.loss(logits, a, b, 0.3)) == pytest.approx(0.3 * ce([0, 1]) + 0.7 * ce([2, 2]), rel=1e-5)
    smooth = STGCNHead(num_classes=3, ls_eps=0.1)
    expected = 0.9 * ce([0, 1]) + 0.1 * -logp.mean()
    assert float(smooth.loss(logits, a)) == pytest.approx(expected, rel=1e-5)


@pytest.mark.parametrize('graph', ['learnable', 'spatial'])
def test_model_summary_counts_what_the_forward_pass_runs(graph):
    """Parameters and multiply-adds per block against a hand count: block 1 (64 -> 64 channels, T = 350, V = 25,
    K = 3 subsets) mixes joints (64 T V V K), then channels (64 64 K T V), then runs the 9-tap temporal conv
    (64 64 9 T V); spatial mode's graph-conv bias rides as one more input channel of ones."""
    model = build_model(model_cfg(30, graph=graph))
    rows = dict((name, (params, macs)) for name, params, macs in model_summary(model, [2, 2, 350, 25, 1]))
    T, V, K = 350, 25, 3
    cin = 64 + (graph == 'spatial')
    assert rows['backbone.st_gcn_networks.1'][1] == cin * T * V * V * K + 64 * cin * K * T * V + 64 * 64 * 9 * T * V
    assert rows['head'] == (256 * 30 + 30, 256 * 30)
    assert sum(p for p, _ in rows.values()) == sum(int(np.prod(p.shape)) for p in model.parameters())
    assert 9.8e9 < sum(m for _, m in rows.values()) < 9.95e9
    x = paddle.randn([1, 2, 40, 25, 1])
    model.eval()
    before = model(x).numpy()
    model_summary(model, [1, 2, 40, 25, 1])                    # leaves the model and Paddle as they were
    np.testing.assert_array_equal(model(x).numpy(), before)
    assert paddle.matmul is paddle.tensor.matmul and cpu_gemm.SGEMM is not None or cpu_gemm.MKL_SGEMM is None


def test_a_half_precision_checkpoint_loads_into_the_float32_model(compat, tmp_path):
    state = paddle.load(str(compat / 'paddlevideo_stgcn_fsd.pdparams'), return_numpy=True)
    half = tmp_path / 'half.pdparams'
    paddle.save({k: v.astype(np.float16) for k, v in state.items()}, str(half))
    model = load_weights(build_model(model_cfg()), str(half))
    got = model.state_dict()['head.fcn.weight']
    assert got.dtype == paddle.float32
    np.testing.assert_array_equal(got.numpy(), state['head.fcn.weight'].astype(np.float16).astype(np.float32))
    ints = tmp_path / 'ints.pdparams'
    paddle.save({k: v.astype(np.int32) for k, v in state.items()}, str(ints))
    with pytest.raises(CheckpointError, match=r'ints\.pdparams: backbone\..* holds int32 values, the model float32$'):
        load_weights(build_model(model_cfg()), str(ints))
