from .skeleton import (Compose, DropJoints, GenSkeFeat, RandomCrop, RandomFlip, RandomRotateScale,  # noqa: F401
                       Sampleframe, SkeletonNorm, valid_length)
