"""Command-line helpers shared by main.py and tools/: one-line errors (argparse's included), number flags with their
range, PaddleVideo-style boolean flags."""
import argparse
import math
import sys

from .errors import PaddleVideoError


class ArgumentParser(argparse.ArgumentParser):
    """argparse's parser, its mistakes (an unknown flag, a value of the wrong kind) one line and exit 2 like every
    other user mistake: argparse's own prints the whole usage first."""

    def error(self, message):
        self.exit(2, f'error: {message} ({self.prog} --help lists the options)\n')


def bounded(kind, low=None, high=None):
    """An argparse type: a finite `kind` (int or float) within [low, high] (None: no bound), else one line saying
    what was expected and what was found."""
    want = 'an integer' if kind is int else 'a number'
    if low is not None and high is not None:
        want += f' between {low} and {high}'
    elif low is not None:
        want += f' >= {low}'
    elif high is not None:
        want += f' <= {high}'

    def parse(text):
        try:
            value = kind(text)
        except ValueError:
            value = None
        if value is None or not math.isfinite(value) or (low is not None and value < low) or \
                (high is not None and value > high):
            raise argparse.ArgumentTypeError(f"expected {want}, got '{text}'")
        return value
    return parse


def str2bool(text):
    """'True'/'false'/'1'/'0'/'yes'/'no' -> bool, for flags given bare or as --flag=True/False."""
    value = str(text).strip().lower()
    if value in ('true', '1', 'yes', 'y', 'on'):
        return True
    if value in ('false', '0', 'no', 'n', 'off'):
        return False
    raise argparse.ArgumentTypeError(f"expected True or False, got '{text}'")


def add_bool_flag(parser, name, help, default=False):
    """--name, --name=True and --name=False all work (PaddleVideo's tools take both spellings)."""
    parser.add_argument(name, type=str2bool, nargs='?', const=True, default=default, help=help)


def run(main, argv=None):
    """Call main(argv); a user mistake (PaddleVideoError) or a file the system refuses (OSError: no permission,
    a folder where a file belongs, a full disk) becomes one line on stderr and exit code 2."""
    try:
        return main(argv)
    except PaddleVideoError as e:
        print(f'error: {e}', file=sys.stderr)
        sys.exit(2)
    except OSError as e:
        where = f'{e.filename}: ' if e.filename else ''
        print(f'error: {where}{e.strerror or e}', file=sys.stderr)
        sys.exit(2)
    except KeyboardInterrupt:
        print('interrupted', file=sys.stderr)
        sys.exit(130)
