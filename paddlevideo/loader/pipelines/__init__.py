from .skeleton import (Compose, RandomCrop, RandomFlip, RandomRotateScale, Sampleframe, SkeletonNorm,  # noqa: F401
                       valid_length)
