"""Skeleton data: SkeletonDataset, the transforms of PIPELINE, loaders."""
from . import dataset, dataset3d, pipelines  # noqa: F401  (registers the components)
from .builder import build_dataset, build_loader, class_names, data_spec, metric_top_k, num_classes
