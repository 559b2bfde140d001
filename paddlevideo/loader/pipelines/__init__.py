from .skeleton import (Compose, GenSkeFeat, RandomCrop, RandomFlip, RandomRotateScale,  # noqa: F401
                       Sampleframe, SkeletonNorm, valid_length)
