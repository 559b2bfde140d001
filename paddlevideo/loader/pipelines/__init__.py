from .skeleton import (Compose, DropJoints, GenSkeFeat, RandomCrop, RandomFlip, RandomRotateScale,  # noqa: F401
                       Sampleframe, SkeletonNorm, valid_length)
from .body import BodyNorm, PoseNoise  # noqa: F401
from .camera import RandomCamera, fsd_view  # noqa: F401
from .window import JumpWindow, apex_frame, jump_apexes  # noqa: F401
from .sampling import UniformSampleFrames  # noqa: F401
