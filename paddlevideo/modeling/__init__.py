"""Model components (registered in utils.registry.COMPONENTS) and the builder that assembles them from MODEL."""
from . import backbones, framework, heads  # noqa: F401  (registers the components)
from .builder import build_model
