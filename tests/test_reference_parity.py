"""Our STGCN against the PaddleVideo formulation in benchmarks/paddlevideo_reference.py.

(a) A checkpoint made by PaddleVideo's own code loads into the reference and gives PaddleVideo's logits.
(b) For both graph modes, ours and the reference share one state dict, trained a few steps on real Penn Action
clips so that BatchNorm statistics are real and the logits depend on the input; they must then agree in eval
mode, in the training-mode loss, in the BatchNorm statistics that step updates, and in every gradient
(float64, see test_gradients_agree).
"""
import copy
import json

import numpy as np
import pytest

from conftest import SHARED  # noqa: E402  (conftest puts the repository on sys.path)

COMPAT = SHARED / 'compat'
PENN = SHARED / 'data' / 'penn_action'
if not (COMPAT.is_dir() and PENN.is_dir()):
    pytest.skip(f'needs the shared fixtures in {SHARED} (compat/ and data/penn_action/)', allow_module_level=True)

import paddle  # noqa: E402
import paddle.nn.functional as F  # noqa: E402

from benchmarks.paddlevideo_reference import ReferenceRecognizer  # noqa: E402
from paddlevideo.modeling import build_model  # noqa: E402

NUM_CLASSES = 15   # Penn Action
WINDOW = 64
BATCH = 6
TRAIN_STEPS = 3


def build_ours(graph, num_classes):
    return build_model({'framework': 'RecognizerGCN',
                        'backbone': {'name': 'STGCN', 'graph': graph, 'in_channels': 2, 'layout': 'fsd10'},
                        'head': {'name': 'STGCNHead', 'num_classes': num_classes}})


def penn_batches():
    """Two batches of real clips (x, y, first WINDOW frames) spread over the classes: one to train, one to test."""
    data = np.load(PENN / 'train_data.npy', mmap_mode='r')
    labels = np.load(PENN / 'train_label.npy')
    idx = np.linspace(0, len(labels) - 1, 2 * BATCH).astype(int)
    x = np.ascontiguousarray(data[idx, :2, :WINDOW])
    return [(paddle.to_tensor(x[i::2]), paddle.to_tensor(labels[idx[i::2]])) for i in (0, 1)]


def test_paddlevideo_checkpoint_gives_paddlevideo_logits():
    model = ReferenceRecognizer(num_classes=30, in_channels=2, layout='fsd10', graph='spatial')
    keys = json.loads((COMPAT / 'paddlevideo_stgcn_fsd_keys.json').read_text())
    assert {k: list(v.shape) for k, v in model.state_dict().items()} == keys
    missing, unexpected = model.set_state_dict(paddle.load(str(COMPAT / 'paddlevideo_stgcn_fsd.pdparams')))
    assert missing == [] and unexpected == []
    model.eval()
    expected = np.load(COMPAT / 'paddlevideo_stgcn_fsd_logits.npy')
    with paddle.no_grad():
        logits = model(paddle.to_tensor(np.load(COMPAT / 'paddlevideo_stgcn_fsd_input.npy'))).numpy()
    assert expected.std() > 0.1  # a fixture whose logits are all alike would prove nothing
    np.testing.assert_allclose(logits, expected, rtol=0, atol=1e-4)


@pytest.fixture(scope='module', params=['spatial', 'learnable'])
def trained_pair(request):
    """(ours, reference, test batch): ours trained TRAIN_STEPS Momentum steps, its state copied to the reference."""
    paddle.seed(0)
    ours = build_ours(request.param, NUM_CLASSES)
    reference = ReferenceRecognizer(num_classes=NUM_CLASSES, in_channels=2, layout='fsd10', graph=request.param)
    assert {k: v.shape for k, v in ours.state_dict().items()} == \
        {k: v.shape for k, v in reference.state_dict().items()}
    (x, y), test_batch = penn_batches()
    opt = paddle.optimizer.Momentum(0.05, momentum=0.9, parameters=ours.parameters(),
                                    weight_decay=paddle.regularizer.L2Decay(1e-4))
    ours.train()
    for _ in range(TRAIN_STEPS):
        F.cross_entropy(ours(x), y).backward()
        opt.step()
        opt.clear_grad()
    missing, unexpected = reference.set_state_dict(ours.state_dict())
    assert missing == [] and unexpected == []
    return ours, reference, test_batch


def test_eval_logits_agree(trained_pair):
    ours, reference, (x, _) = trained_pair
    ours.eval()
    reference.eval()
    with paddle.no_grad():
        a, b = ours(x).numpy(), reference(x).numpy()
    assert b.std(axis=0).mean() > 0.05, f'logits barely depend on the input (std across samples {b.std(axis=0)})'
    np.testing.assert_allclose(a, b, rtol=0, atol=1e-4)


def test_training_loss_and_statistics_agree(trained_pair):
    ours, reference, (x, y) = trained_pair
    ours.train()
    reference.train()
    with paddle.no_grad():
        loss_ours, loss_ref = F.cross_entropy(ours(x), y).item(), F.cross_entropy(reference(x), y).item()
    assert loss_ref > 0.1
    np.testing.assert_allclose(loss_ours, loss_ref, rtol=1e-5)
    ref_state = reference.state_dict()
    for name, value in ours.state_dict().items():  # the running statistics that step updated
        if name.endswith(('_mean', '_variance')):
            np.testing.assert_allclose(value.numpy(), ref_state[name].numpy(), rtol=1e-4, atol=1e-5, err_msg=name)


def test_gradients_agree(trained_pair):
    """Per-parameter gradients, compared in float64.

    In float32 the training-mode BatchNorm backward amplifies rounding: on these weights the reference's own
    float32 gradients differ from its float64 ones by up to ~2e-3 (relative), so a float32 comparison could
    not tell a bug from noise at 1e-3. In float64 the two formulations agree to ~1e-8.
    """
    ours, reference = (copy.deepcopy(m).to(dtype='float64') for m in trained_pair[:2])
    x, y = trained_pair[2]
    ours.train()
    reference.train()
    F.cross_entropy(ours(x.astype('float64')), y).backward()
    F.cross_entropy(reference(x.astype('float64')), y).backward()
    ref_params = dict(reference.named_parameters())
    grads = {name: (p.grad, ref_params[name].grad) for name, p in ours.named_parameters() if not p.stop_gradient}
    total = np.sqrt(sum(float((g.numpy() ** 2).sum()) for _, g in grads.values() if g is not None))
    assert total > 0
    for name, (g_ours, g_ref) in grads.items():
        shape = ref_params[name].shape
        g_ref = np.zeros(shape) if g_ref is None else g_ref.numpy()
        g_ours = np.zeros(shape) if g_ours is None else g_ours.numpy()
        ref_norm = np.linalg.norm(g_ref)
        if ref_norm < 1e-9 * total:
            # a bias right before a training-mode BatchNorm: its gradient is zero in exact arithmetic
            assert np.linalg.norm(g_ours) < 1e-9 * total, name
            continue
        assert np.linalg.norm(g_ours - g_ref) / ref_norm < 1e-6, name


def test_pytorch_reference_gives_paddlevideo_logits():
    """benchmarks/torch_reference.py, the PyTorch yardstick of the speed benchmarks, is PaddleVideo's network."""
    torch = pytest.importorskip('torch', reason='torch is optional (benchmarks only)')
    from benchmarks.torch_reference import TorchRecognizer, paddlevideo_state
    from paddlevideo.modeling.graph import Graph

    model = TorchRecognizer(Graph(layout='fsd10', strategy='spatial').A, num_classes=30, in_channels=2)
    state = {k: v.numpy() for k, v in paddle.load(str(COMPAT / 'paddlevideo_stgcn_fsd.pdparams')).items()}
    model.load_state_dict(paddlevideo_state(state), strict=True)
    with torch.no_grad():
        logits = model.eval()(torch.from_numpy(np.load(COMPAT / 'paddlevideo_stgcn_fsd_input.npy'))).numpy()
    np.testing.assert_allclose(logits, np.load(COMPAT / 'paddlevideo_stgcn_fsd_logits.npy'), rtol=0, atol=1e-4)
