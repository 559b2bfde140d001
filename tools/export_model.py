"""Export a trained ST-GCN to a Paddle inference model (<name>.json + .pdiparams) and <name>.onnx.

python tools/export_model.py -c configs/recognition/stgcn/stgcn_fsd.yaml -p output/STGCN/STGCN_best.pdparams \
    -o inference [--onnx=False]
"""
import argparse

import paddlevideo  # noqa: F401  (sets the CPU runtime before paddle is imported)
from paddlevideo.inference import export_model, input_shape
from paddlevideo.utils.cli import add_bool_flag, run
from paddlevideo.utils.config import get_config


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('-c', '--config', required=True, help='YAML config the model was trained with')
    parser.add_argument('-p', '--pretrained_params', required=True, help='trained weights (.pdparams)')
    parser.add_argument('-o', '--output_path', default='inference', help='folder to write the model into')
    parser.add_argument('--save_name', default=None, help='file name without suffix (default: model_name)')
    add_bool_flag(parser, '--onnx', 'also write <save_name>.onnx with paddle2onnx, dynamic batch (default: yes; '
                  'predict.py runs it with ONNX Runtime, the fastest fp32 CPU backend)', default=True)
    parser.add_argument('--override', action='append', default=[], metavar='KEY=VALUE',
                        help='config override, e.g. INFERENCE.window_size=64 (repeatable)')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    cfg = get_config(args.config, args.override)
    paths = export_model(cfg, args.pretrained_params, args.output_path, args.save_name, onnx=args.onnx)
    print(f'exported {cfg.model_name} with input {input_shape(cfg)}: {", ".join(paths)}')


def cli():
    run(main)


if __name__ == '__main__':
    cli()
