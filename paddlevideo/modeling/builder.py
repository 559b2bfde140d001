"""Build a recognizer from the MODEL section: framework(backbone=..., head=...)."""
import paddle

from ..utils.errors import ConfigError
from ..utils.registry import COMPONENTS


def build_model(model_cfg):
    cfg = dict(model_cfg or {})
    for key in ('framework', 'backbone', 'head'):
        if key not in cfg:
            raise ConfigError(f"MODEL needs '{key}'; got {sorted(cfg)}")
    unknown = set(cfg) - {'framework', 'backbone', 'head', 'if_top5'}
    if unknown:
        raise ConfigError(f"MODEL: unknown key(s) {sorted(unknown)}; known: ['backbone', 'framework', 'head', "
                          f"'if_top5']")
    # A fresh name scope: parameter names (which key the optimizer state) are the same in every process.
    with paddle.utils.unique_name.guard():
        backbone = COMPONENTS.build('backbone', cfg['backbone'])
        head = COMPONENTS.build('head', cfg['head'])
        extra = {'if_top5': cfg['if_top5']} if 'if_top5' in cfg else {}
        return COMPONENTS.build('framework', {'name': cfg['framework'], **extra}, backbone=backbone, head=head)
