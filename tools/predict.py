"""Classify skeleton .npy files with an exported ST-GCN (Paddle Inference or ONNX Runtime), PaddleVideo-style.

python tools/predict.py --input_file data/fsd10/example_skeleton.npy --model_file inference/STGCN/STGCN.json
python tools/predict.py -i clip.npy --model_file joint/M.json bone/M.json --fuse-weights 1 1   (streams fused)

--input_file takes one .npy (a sample C x T x V x M, or a batch N x C x T x V x M), a folder of .npy files or a
glob. Each sample goes through the model's test pipeline, so a raw file of any length T works. The exported
model carries its contract (<name>.contract.json: test pipeline, class names, ...); --config is needed only for a
model exported without one, and if given must agree with it. Several --model_file (the streams of a multi-stream
model, each with its own contract and input pipeline) are fused as mmaction2 does: the weighted sum of their softmax
scores (--fuse-weights), reported normalised.
"""
import glob
import json
import os

import paddlevideo  # noqa: F401  (sets the CPU runtime before paddle is imported)
import numpy as np

from paddlevideo.inference import Recognizer
from paddlevideo.inference.recognizer import check_same_classes
from paddlevideo.inference.predictor import BACKENDS, DEFAULT_ENABLE_MKLDNN, PRECISIONS
from paddlevideo.loader.builder import read_names
from paddlevideo.loader.dataset import check_samples, check_skeleton_shape, open_npy
from paddlevideo.metrics.fusion import check_weights, fuse_scores
from paddlevideo.utils.cli import ArgumentParser, add_bool_flag, bounded, run, str2bool
from paddlevideo.utils.config import get_config
from paddlevideo.utils.errors import ConfigError, DataError
from paddlevideo.utils.fileio import check_output_file, write_text


def parse_args(argv):
    parser = ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('-i', '--input_file', required=True, help='.npy file, folder of .npy files, or glob')
    parser.add_argument('-c', '--config', default=None,
                        help='YAML config the model was exported with (default: the contract exported beside it; '
                             'needed for a model exported without one)')
    parser.add_argument('-o', '--override', action='append', default=[], metavar='KEY=VALUE',
                        help='config override (repeatable)')
    parser.add_argument('--model_file', required=True, nargs='+',
                        help='<name>.json (or legacy .pdmodel), or <name>.onnx; several: their scores are fused')
    parser.add_argument('--fuse-weights', type=bounded(float, 0), nargs='+', default=None,
                        help='one weight per --model_file (default: all 1); mmaction2: joint : bone = 1 : 1, joint : '
                             'joint-motion : bone : bone-motion = 2 : 1 : 2 : 1')
    parser.add_argument('--params_file', default=None, help='<name>.pdiparams (default: beside the model file)')
    parser.add_argument('--backend', choices=BACKENDS, default=None,
                        help='default: onnxruntime for a .onnx model file or, on the CPU, a .json with a .onnx '
                             'twin (the fastest fp32 CPU engine measured), else paddle')
    add_bool_flag(parser, '--use_gpu', 'run on the GPU (falls back to the CPU, with a notice, if there is none)')
    add_bool_flag(parser, '--use_tensorrt', 'use TensorRT on the GPU (dynamic batch up to --batch_size)')
    parser.add_argument('--enable_mkldnn', type=str2bool, nargs='?', const=True, default=DEFAULT_ENABLE_MKLDNN,
                        help=f'Paddle Inference on CPU: use oneDNN (default {DEFAULT_ENABLE_MKLDNN})')
    parser.add_argument('--precision', choices=PRECISIONS, default='fp32',
                        help='fp32 (default): the logits main.py --test gives; bf16 runs Paddle Inference with '
                             'oneDNN on a CPU with bf16 instructions (faster, logits moved by bf16 rounding: '
                             'docs/benchmarks.md); auto: bf16 where the CPU has it and no --backend is named, fp32 '
                             'otherwise; fp16 / int8 need TensorRT')
    parser.add_argument('--cpu_threads', type=bounded(int, 1), default=None,
                        help='math threads (default: all cores)')
    parser.add_argument('-b', '--batch_size', type=bounded(int, 1), default=1, help='samples per engine run')
    parser.add_argument('--top_k', type=bounded(int, 1), default=1, help='classes to report (at most the class count)')
    parser.add_argument('--label_map', default=None, help='class names, one per line, in class-id order')
    parser.add_argument('--output', default=None, help='also write the results to this JSON file')
    return parser.parse_args(argv)


def input_files(pattern):
    """A file, the .npy files of a folder, or the files a glob matches, sorted."""
    if os.path.isdir(pattern):
        files = sorted(glob.glob(os.path.join(pattern, '*.npy')))
    elif os.path.isfile(pattern):
        files = [pattern]
    else:
        files = sorted(f for f in glob.glob(pattern) if os.path.isfile(f))
    if not files:
        raise DataError(f'no input .npy file found at {pattern}')
    return files


def samples(files, recognizers):
    """(name, [sample C x W x V x M for each model]) for every sample of every file, after each model's own test
    pipeline."""
    for path in files:
        data = open_npy(path, 'input')[0]
        if data.ndim not in (4, 5):
            raise DataError(f'{path}: expected a skeleton array, C x T x V x M (one sample) or N x C x T x V x M; '
                            f'found shape {data.shape}')
        batch = data if data.ndim == 5 else data[None]
        for recognizer in recognizers:
            _, C, _, V, M = recognizer.contract['input_shape']
            check_skeleton_shape(batch.shape, path, channels=recognizer.pipeline.in_channels(C), joints=V, persons=M)
        check_samples(batch, path)
        for i in range(len(batch)):
            name = f'{path}[{i}]' if data.ndim == 5 else path
            yield name, [r.prepare(np.array(batch[i]), name) for r in recognizers]


def report(names, probabilities, top_k, labels):
    """Print PaddleVideo's per-sample lines; returns the results as dicts."""
    results = []
    for name, scores in zip(names, probabilities):
        classes = np.argsort(-scores, kind='stable')[:top_k]
        print(f'Current video file: {name}')
        top = []
        for rank, c in enumerate(classes, 1):
            label = f' ({labels[c]})' if labels else ''
            print(f'\ttop-{rank} class: {c}{label}')
            print(f'\ttop-{rank} score: {scores[c]:.5f}')
            top.append({'class_id': int(c), 'score': float(scores[c]), **({'name': labels[c]} if labels else {})})
        results.append({'file': name, 'top_k': top})
    return results


def load_models(args):
    """One Recognizer per --model_file; several must name the same classes."""
    several = len(args.model_file) > 1
    if several and (args.config or args.params_file):
        raise ConfigError('--config and --params_file describe one model: with several --model_file each model '
                          'brings its own contract (<name>.contract.json) and <name>.pdiparams')
    if args.override and not args.config:
        raise ConfigError('-o/--override changes a config: give --config too')
    cfg = get_config(args.config, args.override) if args.config else None
    recognizers = [Recognizer.from_export(
        model_file, cfg, args.config, params_file=args.params_file, backend=args.backend, use_gpu=args.use_gpu,
        use_tensorrt=args.use_tensorrt, enable_mkldnn=args.enable_mkldnn, precision=args.precision,
        cpu_threads=args.cpu_threads, batch_size=args.batch_size) for model_file in args.model_file]
    check_same_classes(recognizers)
    return recognizers


def main(argv=None):
    args = parse_args(argv)
    files = input_files(args.input_file)
    if args.output:
        check_output_file(args.output, '--output', reads=[*files, *args.model_file, args.params_file, args.config,
                                                          args.label_map])
    recognizers = load_models(args)
    weights = args.fuse_weights or [1.0] * len(recognizers)
    check_weights(weights, len(recognizers), 'models')
    classes = recognizers[0].num_classes
    if args.top_k > classes:
        raise ConfigError(f'--top_k must be at most {classes} (the number of classes), got {args.top_k}')
    labels = read_names(args.label_map, classes) if args.label_map else recognizers[0].contract['class_names']

    def scores(batch):
        """The batch's class probabilities: the models' softmax scores, weighted, summed and normalised."""
        logits = [r.logits(np.stack([sample[k] for sample in batch])) for k, r in enumerate(recognizers)]
        return fuse_scores(logits, weights) / sum(weights)

    results, names, batch = [], [], []
    for name, prepared in samples(files, recognizers):
        names.append(name)
        batch.append(prepared)
        if len(batch) == args.batch_size:
            results += report(names, scores(batch), args.top_k, labels)
            names, batch = [], []
    if batch:
        results += report(names, scores(batch), args.top_k, labels)
    if args.output:
        engines = [{'model_file': r.predictor.model_file, 'backend': r.predictor.backend,
                    'device': r.predictor.device} for r in recognizers]
        summary = {**engines[0]} if len(engines) == 1 else {'models': engines, 'fuse_weights': weights}
        write_text(args.output, json.dumps({**summary, 'results': results}, indent=1))


def cli():
    run(main)


if __name__ == '__main__':
    cli()
