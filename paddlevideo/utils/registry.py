"""The one registry: component name -> class, each tagged with its kind (backbone, head, dataset, ...)."""
import inspect

from .errors import ConfigError


class Registry:
    def __init__(self):
        self._items = {}  # name -> (kind, class)

    def register(self, kind, *aliases):
        """Class decorator: register under its own name (and any aliases) as a component of `kind`."""
        def wrap(cls):
            for name in (cls.__name__, *aliases):
                if name in self._items:
                    raise KeyError(f'{name} is registered twice')
                self._items[name] = (kind, cls)
            return cls
        return wrap

    def names(self, kind):
        return sorted(n for n, (k, _) in self._items.items() if k == kind)

    def get(self, kind, name):
        if name not in self._items or self._items[name][0] != kind:
            raise ConfigError(f"unknown {kind} '{name}'; known: {', '.join(self.names(kind))}")
        return self._items[name][1]

    def build(self, kind, cfg, name_key='name', **extra):
        """Instantiate from a config dict {name_key: Name, arg: value, ...} plus keyword extras."""
        cfg = dict(cfg or {})
        if name_key not in cfg:
            raise ConfigError(f"{kind} config needs a '{name_key}'; got keys {sorted(cfg)}")
        cls = self.get(kind, cfg.pop(name_key))
        kwargs = {**cfg, **extra}
        params = inspect.signature(cls.__init__).parameters
        if not any(p.kind == p.VAR_KEYWORD for p in params.values()):
            unknown = sorted(set(kwargs) - set(params))
            if unknown:
                known = sorted(p for p in params if p != 'self')
                raise ConfigError(f"{cls.__name__}: unknown option(s) {unknown}; known: {known}")
        try:
            return cls(**kwargs)
        except TypeError as e:  # a missing required argument
            raise ConfigError(f'{cls.__name__}: {e}') from None


COMPONENTS = Registry()
