from .skeleton_metric import (classification_report, format_report, write_confusion, write_dump,  # noqa: F401
                              write_submission)
