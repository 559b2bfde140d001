from .skeleton_metric import (classification_report, format_report, headline, write_confusion,  # noqa: F401
                              write_dump, write_submission)
