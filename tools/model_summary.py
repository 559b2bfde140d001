"""Parameters and multiply-adds of a config's model, part by part (PaddleVideo's summary, mmaction2's get_flops).

python tools/model_summary.py -c configs/recognition/stgcn/stgcn_fsd.yaml [-o KEY=VALUE ...]
The input is one sample of the shape the model is exported with (INFERENCE / the test pipeline's window).
"""
import paddlevideo  # noqa: F401  (sets the CPU runtime before paddle is imported)
from paddlevideo.inference import input_shape
from paddlevideo.modeling import build_model
from paddlevideo.modeling.summary import model_summary
from paddlevideo.utils.cli import ArgumentParser, run
from paddlevideo.utils.config import get_config


def main(argv=None):
    parser = ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('-c', '--config', required=True, help='YAML config')
    parser.add_argument('-o', '--override', action='append', default=[], metavar='KEY=VALUE')
    args = parser.parse_args(argv)
    cfg = get_config(args.config, args.override)
    shape = [1, *input_shape(cfg)[1:]]
    rows = model_summary(build_model(cfg.MODEL), shape)
    print(f'{cfg.model_name}: input {shape} (N, C, T, V, M)')
    print(f"{'part':<30s} {'parameters':>12s} {'multiply-adds':>15s}")
    for name, params, macs in rows:
        print(f'{name:<30s} {params:>12,d} {macs:>15,d}')
    params, macs = sum(r[1] for r in rows), sum(r[2] for r in rows)
    print(f"{'total':<30s} {params:>12,d} {macs:>15,d}")
    print(f'Params: {params / 1e6:.2f} M, {params * 4 / 2**20:.1f} MB in fp32; '
          f'multiply-adds: {macs / 1e9:.2f} G per sample ({2 * macs / 1e9:.2f} GFLOPs)')


def cli():
    run(main)


if __name__ == '__main__':
    cli()
