"""Export a trained ST-GCN to a Paddle inference model (<name>.json + .pdiparams) and <name>.onnx.

python tools/export_model.py -c configs/recognition/stgcn/stgcn_fsd.yaml -p output/STGCN/STGCN_best.pdparams \
    -o inference [--onnx=False]
"""
import os
import warnings

import paddlevideo  # noqa: F401  (sets the CPU runtime before paddle is imported)
from paddlevideo.inference import export_model, input_shape
from paddlevideo.inference.contract import SUFFIX
from paddlevideo.utils.cli import ArgumentParser, add_bool_flag, run
from paddlevideo.utils.config import get_config
from paddlevideo.utils.errors import ConfigError
from paddlevideo.utils.fileio import check_output_file, check_output_folder

# What Paddle 3.3.1's to_static says of every block of this model, that no user can act on: a Tensor without
# 'place' in the PIR graph, and relu_ being relu in a static graph.
PADDLE_EXPORT_NOISE = (r"Tensor do not have 'place' interface", r'In static graph mode, relu_\(\) is the same')


def parse_args(argv):
    parser = ArgumentParser(description=__doc__.splitlines()[0])
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
    if args.save_name == '':
        raise ConfigError('--save_name is empty; expected a file name (or leave it out for model_name)')
    check_output_folder(args.output_path, '-o/--output_path')
    cfg = get_config(args.config, args.override)
    name = args.save_name or cfg.model_name
    for suffix in ('.json', '.pdiparams', SUFFIX) + (('.onnx',) if args.onnx else ()):
        check_output_file(os.path.join(args.output_path, name + suffix), '-o/--output_path',
                          reads=[args.pretrained_params, args.config])
    for message in PADDLE_EXPORT_NOISE:
        warnings.filterwarnings('ignore', message=message, category=UserWarning)
    paths = export_model(cfg, args.pretrained_params, args.output_path, args.save_name, onnx=args.onnx)
    print(f'exported {cfg.model_name} with input {input_shape(cfg)}: {", ".join(paths)}')


def cli():
    run(main)


if __name__ == '__main__':
    cli()
