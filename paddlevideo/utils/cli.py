"""Command-line helpers shared by main.py and tools/: one-line errors, PaddleVideo-style boolean flags."""
import argparse
import sys

from .errors import PaddleVideoError


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
