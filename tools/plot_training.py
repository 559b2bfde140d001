"""Draw the training curves (loss, top-1, learning rate, validation accuracy) of a train.log as a PNG.

python tools/plot_training.py output/STGCN/train.log [-o output/STGCN/train_curves.png]
Training writes the same picture beside its train.log when it ends; this redraws it for any log, an unfinished
run's included.
"""
import os

from paddlevideo.metrics.curves import parse_log, plot_curves
from paddlevideo.utils.cli import ArgumentParser, run
from paddlevideo.utils.fileio import check_output_file


def main(argv=None):
    parser = ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('log', help='a train.log written by main.py')
    parser.add_argument('-o', '--output', default=None, help='PNG to write (default: train_curves.png beside the log)')
    args = parser.parse_args(argv)
    out = args.output or os.path.join(os.path.dirname(os.path.abspath(args.log)), 'train_curves.png')
    check_output_file(out, '-o/--output', reads=[args.log])
    curves = parse_log(args.log)
    plot_curves(curves, out, os.path.basename(os.path.dirname(os.path.abspath(args.log))))
    print(f"{out}: {len(curves['epoch'].get('loss', []))} epochs, {len(curves['val'].get('top1', []))} validations")


def cli():
    run(main)


if __name__ == '__main__':
    cli()
