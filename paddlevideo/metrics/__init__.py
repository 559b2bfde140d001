from .skeleton_metric import (classification_report, format_report, headline, write_confusion,  # noqa: F401
                              write_dump, write_submission)
from .curves import parse_log, plot_curves  # noqa: F401
