"""bf16 against fp32 on a labelled test set: top-1 of each, how often their top-1 agree, the largest logit change
and the throughput of each; prints one JSON line.

    python benchmarks/bf16_agreement.py -c configs/recognition/stgcn/stgcn_penn_action.yaml -w W.pdparams

The checkpoint is exported to a temporary folder. fp32 runs through ONNX Runtime (the default CPU engine), bf16
through Paddle Inference with oneDNN (``Predictor(precision='bf16')``), both at --batch-size. The samples are
DATASET.test through PIPELINE.test, as ``main.py --test`` reads them (one window per clip).
"""
import argparse
import json
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import paddlevideo  # noqa: E402,F401  (sets the CPU runtime before paddle is imported)
import numpy as np  # noqa: E402

from paddlevideo.inference import Predictor, export_model  # noqa: E402
from paddlevideo.loader import build_dataset  # noqa: E402
from paddlevideo.utils.cli import run  # noqa: E402
from paddlevideo.utils.config import get_config  # noqa: E402
from paddlevideo.utils.errors import ConfigError  # noqa: E402
from paddlevideo.utils.runtime import cpu_has_bf16  # noqa: E402


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('-c', '--config', required=True)
    parser.add_argument('-w', '--weights', required=True)
    parser.add_argument('-o', '--override', action='append', default=[], metavar='KEY=VALUE')
    parser.add_argument('--batch-size', type=int, default=32)
    args = parser.parse_args(argv)
    if not cpu_has_bf16():
        raise ConfigError('this CPU has no bf16 instructions (avx512_bf16 or amx_bf16): nothing to compare')
    cfg = get_config(args.config, args.override)
    dataset = build_dataset(cfg, 'test')
    pairs = [dataset[i] for i in range(len(dataset))]
    x = np.stack([p[0] for p in pairs]).astype(np.float32)
    labels = np.array([p[1] for p in pairs])
    result = {'benchmark': 'bf16_agreement', 'config': args.config, 'weights': args.weights, 'clips': len(x),
              'input': list(x.shape[1:]), 'batch_size': args.batch_size}
    logits = {}
    with tempfile.TemporaryDirectory() as folder:
        files = export_model(cfg, args.weights, folder, onnx=True)
        model = {os.path.splitext(f)[1]: f for f in files}
        for precision, model_file in (('fp32', model['.onnx']), ('bf16', model['.json'])):
            predictor = Predictor(model_file, precision=precision, batch_size=args.batch_size,
                                  notify=lambda line: None)
            predictor.predict(x[:args.batch_size])  # warm-up: session / kernel creation
            start = time.perf_counter()
            logits[precision] = predictor.predict(x)
            seconds = time.perf_counter() - start
            result[precision] = {'device': f'{predictor.backend}, {predictor.device}',
                                 'top1': round(float((logits[precision].argmax(1) == labels).mean()), 4),
                                 'clips_per_s': round(len(x) / seconds, 1)}
    fp32, bf16 = logits['fp32'], logits['bf16']
    result['top1_agreement'] = round(float((fp32.argmax(1) == bf16.argmax(1)).mean()), 4)
    result['max_abs_logit_change'] = round(float(np.abs(fp32 - bf16).max()), 4)
    result['fp32_logit_std'] = round(float(fp32.std()), 3)
    print(json.dumps(result))


if __name__ == '__main__':
    run(main)
