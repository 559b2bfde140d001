"""Config parsing, overrides, and a PaddleVideo stgcn_fsd.yaml running unchanged."""
import math
import os
import pickle
import re
import subprocess
import sys
import textwrap

import numpy as np
import paddle
import pytest

from paddlevideo.loader import build_dataset, class_names, metric_top_k
from paddlevideo.loader.builder import read_names
from paddlevideo.loader.dataset import load_labels
from paddlevideo.loader.pipelines import Compose, Sampleframe, SkeletonNorm
from paddlevideo.modeling import build_model
from paddlevideo.modeling.graph import Graph
from paddlevideo.solver import build_optimizer
from paddlevideo.utils.config import _to_attr, get_config
from paddlevideo.skeleton import layout_spec
from paddlevideo.utils.errors import ConfigError, DataError
from paddlevideo.utils.registry import COMPONENTS

# PaddleVideo's own configs/recognition/stgcn/stgcn_fsd.yaml, as its users have it.
PADDLEVIDEO_FSD = textwrap.dedent('''\
    MODEL: #MODEL field
        framework: "RecognizerGCN"
        backbone:
            name: "STGCN"
        head:
            name: "STGCNHead"
            num_classes: 30
    DATASET: #DATASET field
        batch_size: 64
        num_workers: 4
        test_batch_size: 1
        test_num_workers: 0
        train:
            format: "SkeletonDataset"
            file_path: "/home/aistudio/work/data/train_data.npy"
            label_path: "/home/aistudio/work/data/train_label.npy"
        test:
            format: "SkeletonDataset"
            file_path: "/home/aistudio/work/data/test_A_data.npy"
            test_mode: True
    PIPELINE:
        train:
            sample:
                name: "AutoPadding"
                window_size: 350
            transform:
                - SkeletonNorm:
        test:
            sample:
                name: "AutoPadding"
                window_size: 350
            transform:
                - SkeletonNorm:
    OPTIMIZER:
      name: 'Momentum'
      momentum: 0.9
      learning_rate:
        iter_step: True
        name: 'CustomWarmupCosineDecay'
        max_epoch: 90
        warmup_epochs: 10
        warmup_start_lr: 0.005
        cosine_base_lr: 0.05
      weight_decay:
        name: 'L2'
        value: 1e-4
    MIX:
        name: "Mixup"
        alpha: 0.2
    METRIC:
        name: 'SkeletonMetric'
        out_file: 'submission.csv'
    INFERENCE:
        name: 'STGCN_Inference_helper'
        num_channels: 2
        window_size: 350
        vertex_nums: 25
        person_nums: 1
    model_name: "STGCN"
    log_interval: 10
    epochs: 90
    ''')


@pytest.fixture
def pv_yaml(tmp_path):
    path = tmp_path / 'stgcn_fsd.yaml'
    path.write_text(PADDLEVIDEO_FSD)
    return str(path)


def test_paddlevideo_yaml_builds_everything(pv_yaml):
    cfg = get_config(pv_yaml)
    assert cfg.DATASET.batch_size == 64 and cfg.output_dir.endswith('output/STGCN')
    model = build_model(cfg.MODEL)
    assert model.backbone.graph_mode == 'spatial' and len(model.backbone.edge_importance) == 10
    pipe = Compose(cfg.PIPELINE.test)
    assert isinstance(pipe.transforms[0], Sampleframe) and pipe.transforms[0].window_size == 350
    assert isinstance(pipe.transforms[1], SkeletonNorm)
    opt, sched, iter_step = build_optimizer(cfg.OPTIMIZER, model.parameters(), steps_per_epoch=10)
    assert isinstance(opt, paddle.optimizer.Momentum) and iter_step
    lrs = []
    for _ in range(900):
        lrs.append(sched.get_lr())
        sched.step()
    assert lrs[0] == pytest.approx(0.005)                     # warm-up start
    assert max(lrs) == pytest.approx(0.05 * (1 + math.cos(math.pi / 9)) / 2, rel=1e-6)  # end of warm-up
    assert lrs[-1] < 1e-4                                      # cosine reaches ~0 at epoch 90


def test_overrides(pv_yaml):
    cfg = get_config(pv_yaml, ['DATASET.batch_size=8', 'MODEL.backbone.graph=learnable', 'epochs=3',
                               'PIPELINE.test.transform.0.SkeletonNorm={axis: 3}', 'output_dir=/tmp/x'])
    assert cfg.DATASET.batch_size == 8 and cfg.epochs == 3 and cfg.output_dir == '/tmp/x'
    assert cfg.MODEL.backbone.graph == 'learnable' and cfg.PIPELINE.test.transform[0].SkeletonNorm.axis == 3
    with pytest.raises(ConfigError, match="'7' is not an index into a list of 1"):
        get_config(pv_yaml, ['PIPELINE.test.transform.7=x'])
    with pytest.raises(ConfigError, match='is not KEY=VALUE'):
        get_config(pv_yaml, ['epochs'])


def test_unknown_keys_and_names_list_what_is_known(pv_yaml, tmp_path):
    with pytest.raises(ConfigError, match=r"unknown key\(s\) \['EPOCHS'\]; known: .*'epochs'"):
        get_config(pv_yaml, ['EPOCHS=3'])
    with pytest.raises(ConfigError, match=r"DATASET: unknown key\(s\) \['batchsize'\]"):
        get_config(pv_yaml, ['DATASET.batchsize=3'])
    with pytest.raises(ConfigError, match="unknown backbone 'STGCNN'; known: STGCN"):
        build_model(get_config(pv_yaml, ['MODEL.backbone.name=STGCNN']).MODEL)
    with pytest.raises(ConfigError, match=r"STGCN: unknown option\(s\) \['layers'\]; known: .*'layout'"):
        build_model(get_config(pv_yaml, ['MODEL.backbone.layers=3']).MODEL)
    with pytest.raises(ConfigError, match="unknown graph mode 'fancy'; known: spatial, learnable"):
        build_model(get_config(pv_yaml, ['MODEL.backbone.graph=fancy']).MODEL)
    with pytest.raises(ConfigError, match="unknown skeleton layout 'body99'; known: fsd10, ntu-rgb\\+d, coco"):
        build_model(get_config(pv_yaml, ['MODEL.backbone.layout=body99']).MODEL)
    with pytest.raises(ConfigError, match="unknown transform 'Skeletonorm'; known: .*SkeletonNorm"):
        Compose({'transform': [{'Skeletonorm': None}]})
    with pytest.raises(ConfigError, match='config file not found'):
        get_config(str(tmp_path / 'nope.yaml'))
    bad = tmp_path / 'bad.yaml'
    bad.write_text('MODEL: [1, 2\n')
    with pytest.raises(ConfigError, match='not valid YAML'):
        get_config(str(bad))


def test_registry_knows_every_component_kind():
    assert COMPONENTS.names('backbone') == ['STGCN']
    assert COMPONENTS.names('head') == ['STGCNHead']
    assert COMPONENTS.names('framework') == ['RecognizerGCN']
    assert COMPONENTS.names('dataset') == ['Skeleton3DDataset', 'SkeletonDataset']
    assert {'AutoPadding', 'Sampleframe', 'SkeletonNorm', 'RandomCrop', 'RandomFlip',
            'RandomRotateScale'} <= set(COMPONENTS.names('transform'))
    assert COMPONENTS.get('transform', 'AutoPadding') is Sampleframe


@pytest.mark.parametrize('override, message', [
    ('epochs=two', "epochs: expected an integer >= 1, got 'two'"),
    ('epochs=-1', 'epochs: expected an integer >= 1, got -1'),
    ('DATASET.batch_size=sixteen', "DATASET.batch_size: expected an integer >= 1, got 'sixteen'"),
    ('DATASET.batch_size=0', 'DATASET.batch_size: expected an integer >= 1, got 0'),
    ('DATASET.batch_size=2.5', 'DATASET.batch_size: expected an integer >= 1, got 2.5'),
    ('MODEL.head.num_classes=five', "MODEL.head.num_classes: expected an integer >= 1, got 'five'"),
    ('MODEL.backbone.in_channels=0', 'MODEL.backbone.in_channels: expected an integer >= 1, got 0'),
    ('log_interval=0', 'log_interval: expected an integer >= 1, got 0'),
    ('INFERENCE.window_size=-5', 'INFERENCE.window_size: expected an integer >= 1, got -5'),
    ('DATASET.valid_fraction=0', 'DATASET.valid_fraction: expected a number > 0 and <= 1, got 0'),
    ('MODEL=5', 'MODEL must be a section (a mapping), got 5'),
    ('DATASET=5', 'DATASET must be a section (a mapping), got 5'),
    ('PIPELINE.test=5', 'PIPELINE.test must be a section (a mapping), got 5'),
    ('PRECISEBN={preciseBN_interval: 5}', 'PRECISEBN: precise BatchNorm statistics are not implemented'),
    ('GRADIENT_ACCUMULATION={global_batch_size: 64}', 'GRADIENT_ACCUMULATION: gradient accumulation is not '
                                                      'implemented'),
    ('resume_epoch=3', 'resume_epoch: 3: use --resume, which continues from the last complete epoch'),
    ('log_level=LOUD', "log_level: expected one of DEBUG, INFO, WARNING, ERROR, got 'LOUD'"),
])
def test_config_values_are_checked_where_the_config_is_read(pv_yaml, override, message):
    with pytest.raises(ConfigError) as err:
        get_config(pv_yaml, [override])
    assert str(err.value).startswith(f'{pv_yaml}: {message}'), str(err.value)


def test_paddlevideo_defaults_of_its_extra_keys_are_accepted(pv_yaml):
    cfg = get_config(pv_yaml, ['resume_epoch=0', 'log_level=INFO', 'PRECISEBN=', 'DATASET.valid_fraction=0.1'])
    assert cfg.resume_epoch == 0 and cfg.log_level == 'INFO'


@pytest.mark.parametrize('transform, message', [
    ({'Sampleframe': {'window_size': -5}}, 'Sampleframe.window_size: expected an integer >= 1, got -5'),
    ({'RandomCrop': {'min_ratio': 1.5}}, 'RandomCrop.min_ratio: expected a number > 0 and <= 1, got 1.5'),
    ({'RandomCrop': {'frames': 48}}, 'RandomCrop.frames: expected [low, high] frame counts, got 48'),
    ({'RandomFlip': {'prob': 'half'}}, "RandomFlip.prob: expected a number >= 0 and <= 1, got 'half'"),
    ({'RandomRotateScale': {'scale': [1.2, 0.9]}}, 'RandomRotateScale.scale: expected a number >= 1.2, got 0.9'),
    ({'SkeletonNorm': None, 'RandomCrop': None}, 'PIPELINE transform entry '),
])
def test_transform_options_are_checked_when_the_pipeline_is_built(transform, message):
    with pytest.raises(ConfigError, match=f'^{re.escape(message)}'):
        Compose({'transform': [transform]})


def paddlevideo_style_config(tmp_path, layout, channels, persons, classes, label_file, extra_model='',
                             metric=''):
    """A config in the form of PaddleVideo's NTU and PP-Human ST-GCN configs: Iden pipelines, .pkl labels,
    PiecewiseDecay with Nesterov, if_top5, data_bn, METRIC.top_k."""
    rng = np.random.default_rng(0)
    joints = 17 if layout.startswith('coco') else 25
    np.save(tmp_path / 'x.npy', rng.normal(size=(6, channels, 40, joints, persons)).astype(np.float32))
    path = tmp_path / 'pv.yaml'
    path.write_text(textwrap.dedent(f'''\
        MODEL:
            framework: "RecognizerGCN"
            backbone:
                name: "STGCN"
                in_channels: {channels}
                dropout: 0.5
                layout: '{layout}'
                data_bn: True
            head:
                name: "STGCNHead"
                num_classes: {classes}
            {extra_model}
        DATASET:
            batch_size: 2
            num_workers: 0
            test_batch_size: 1
            test_num_workers: 0
            train:
                format: "SkeletonDataset"
                file_path: "{tmp_path / 'x.npy'}"
                label_path: "{label_file}"
            test:
                format: "SkeletonDataset"
                file_path: "{tmp_path / 'x.npy'}"
                label_path: "{label_file}"
                test_mode: True
        PIPELINE:
            train:
                transform:
                    - Iden:
            test:
                transform:
                    - Iden:
        OPTIMIZER:
          name: 'Momentum'
          momentum: 0.9
          learning_rate:
            name: 'PiecewiseDecay'
            boundaries: [30, 40]
            values: [0.1, 0.01, 0.001]
          weight_decay:
            name: 'L2'
            value: 1e-4
          use_nesterov: True
        METRIC:
            name: 'SkeletonMetric'
            {metric}
        INFERENCE:
            name: 'STGCN_Inference_helper'
            num_channels: {channels}
            window_size: 40
            vertex_nums: {joints}
        model_name: "STGCN"
        log_interval: 10
        epochs: 50
        '''))
    return str(path)


@pytest.mark.parametrize('kind', ['ntu', 'pphuman'])
def test_paddlevideo_ntu_and_pphuman_configs_load_and_run(tmp_path, kind):
    labels = tmp_path / 'labels.pkl'
    count = 60 if kind == 'ntu' else 2
    truth = [count - 1, 0, 1, 1, 0, 1]
    labels.write_bytes(pickle.dumps(([f'S001C001P001R001A{i:03d}.skeleton' for i in range(6)], truth)))
    if kind == 'ntu':
        path = paddlevideo_style_config(tmp_path, 'ntu-rgb+d', 3, 2, 60, labels)
    else:
        path = paddlevideo_style_config(tmp_path, 'coco_keypoint', 2, 1, 2, labels, 'if_top5: False', 'top_k: 2')
    cfg = get_config(path)
    dataset = build_dataset(cfg, 'train')
    np.testing.assert_array_equal(dataset.labels, truth)
    data, label = dataset[0]
    assert data.dtype == np.float32 and data.shape == dataset.data.shape[1:] and label == count - 1  # Iden: all
    model = build_model(cfg.MODEL)
    opt, _, _ = build_optimizer(cfg.OPTIMIZER, model.parameters(), steps_per_epoch=3)
    out = model.train_outputs(model(paddle.to_tensor(np.stack([dataset[i][0] for i in range(2)]))),
                              paddle.to_tensor(dataset.labels[:2]))
    assert sorted(out) == (['loss', 'top1', 'top5'] if kind == 'ntu' else ['loss', 'top1'])
    assert metric_top_k(cfg) == (5 if kind == 'ntu' else 2)


def test_paddlevideo_coco_keypoint_layout_is_its_own_graph():
    """PP-Human's 'coco_keypoint': 17 joints, PaddleVideo's own bones and centre 11 (not our 'coco', centre 0)."""
    spec = layout_spec('coco_keypoint')
    assert spec['center'] == 11 and spec['num_node'] == 17 and (11, 12) in spec['edges']
    A = Graph('coco_keypoint').A
    assert A.shape == (3, 17, 17)
    np.testing.assert_allclose(A.sum(axis=(0, 1)), 1, atol=1e-6)   # every joint's inputs sum to one
    assert not np.allclose(A, Graph('coco').A)


def test_label_pickles_are_read_without_running_code(tmp_path):
    marker = tmp_path / 'ran'

    class RunsCode:
        def __reduce__(self):
            return os.system, (f'touch {marker}',)
    evil = tmp_path / 'evil.pkl'
    evil.write_bytes(pickle.dumps((['a'], [RunsCode()])))
    with pytest.raises(DataError, match=r'evil\.pkl: not loaded: it asks to build posix\.system, and a label file '
                                        r'holds only arrays and plain containers'):
        load_labels(str(evil), 1)
    assert not marker.exists()
    plain = tmp_path / 'plain.pkl'
    plain.write_bytes(pickle.dumps(np.array([2, 0, 1])))
    np.testing.assert_array_equal(load_labels(str(plain), 3, 3), [2, 0, 1])


def test_importing_paddle_through_paddlevideo_says_nothing():
    """Paddle 3.3.1's import prints a ccache note and an OMP_NUM_THREADS warning (for the thread count this
    project sets on purpose); a user should see our lines only. Other output of the import still passes."""
    code = ('import sys, paddlevideo, paddle; print("after", file=sys.stderr); '
            'print(paddle.__version__, sys.modules["os"].environ["OMP_NUM_THREADS"])')
    result = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, timeout=120,
                            env={**os.environ, 'OMP_NUM_THREADS': '2'})
    assert result.returncode == 0 and result.stdout.split() == [paddle.__version__, '2']
    assert result.stderr == 'after\n'


def test_class_names_come_from_one_reader(tmp_path):
    """INFERENCE.class_names (a list or a file), predict.py's --label_map and fuse_scores' --class-names all read
    names through read_names: blank lines skipped, the count checked."""
    names = tmp_path / 'names.txt'
    names.write_text('Axel\n\nLutz\n')
    assert read_names(str(names), 2) == ['Axel', 'Lutz']
    with pytest.raises(ConfigError, match=r'names\.txt: 2 class names for 3 classes \(one name per line expected\)$'):
        read_names(str(names), 3)
    (tmp_path / 'binary.txt').write_bytes(b'\xff\xfe\x00A')
    with pytest.raises(ConfigError, match=r'binary\.txt: not a text file of class names \(not UTF-8\)$'):
        read_names(str(tmp_path / 'binary.txt'))
    with pytest.raises(ConfigError, match=r' is a folder; expected a class names file$'):
        read_names(str(tmp_path))
    base = {'MODEL': {'head': {'num_classes': 2}}}
    assert class_names(_to_attr({**base, 'INFERENCE': {'class_names': str(names)}})) == ['Axel', 'Lutz']
    with pytest.raises(ConfigError, match=r'^INFERENCE.class_names: 3 names for num_classes=2$'):
        class_names(_to_attr({**base, 'INFERENCE': {'class_names': ['a', 'b', 'c']}}))
