"""One recognizer for every caller (predict.py, demo_video.py, live): skeleton frames -> class scores.

Frames come as a pose estimator gives them, (T, V, 3) x, y in pixels and a confidence, with the frame size; they
are normalised to the coordinates the model was trained on (its contract's `coords`), laid out as one sample
(C, T, V, M) and sent through the model's own test pipeline, then through the network: a dygraph model built from
a config and weights, or an exported one run by Predictor. Samples already in the model's coordinates (.npy
files) skip the normalisation.
"""
import numpy as np

from ..loader.pipelines import Compose
from ..metrics.fusion import check_weights, fuse_scores, softmax
from ..skeleton import mirror_frames, normalize_xy
from ..utils.errors import CheckpointError, ConfigError, DataError
from .contract import check_agreement, contract_path, input_shape, model_contract, read_contract


class Recognizer:
    """`scores(clips, size)` -> (N, K) softmax for N clips of raw frames; `logits(samples)` for pipeline outputs.

    `contract` is the model's input contract (contract.py), `run` maps a batch (N, C, W, V, M) to logits (N, K).
    """

    def __init__(self, contract, run, source):
        self.contract, self._run, self.source = contract, run, source
        self.pipeline = Compose(contract['pipeline'], contract['layout'], contract['window'])
        self.window, self.fps, self.coords = int(contract['window']), contract['fps'], contract['coords']
        self.num_classes = int(contract['num_classes'])
        self.class_names = contract['class_names'] or [f'class {i}' for i in range(self.num_classes)]
        self.background = contract['background_class']
        self.mirror = False     # True: frames are mirrored first (a clockwise skater for a counter-clockwise model)
        self._rng = np.random.default_rng(0)   # a test pipeline is deterministic; transforms still take an rng

    @classmethod
    def from_config(cls, cfg, weights):
        """Dygraph: MODEL built from `cfg`, `weights` loaded, eval mode."""
        import paddle

        from ..modeling import build_model
        from ..utils.checkpoint import load_weights

        model = load_weights(build_model(cfg.MODEL), weights)
        model.eval()

        def run(batch):
            with paddle.no_grad():
                return model(paddle.to_tensor(batch)).numpy()
        return cls(model_contract(cfg), run, weights)

    @classmethod
    def from_export(cls, model_file, cfg=None, config_file=None, **predictor_args):
        """An exported model through Predictor (its defaults: fp32), with the contract exported beside it.

        A config, if given, must agree with that contract; a model exported before contracts needs one.
        """
        from .predictor import Predictor

        predictor = Predictor(model_file, **predictor_args)
        exported = read_contract(predictor.model_file)
        want = [None, *predictor.input_shape[1:]]
        if cfg is not None:
            given = model_contract(cfg)
            if input_shape(cfg) != want:
                raise ConfigError(f'{predictor.model_file} takes input {want} (N, C, window, V, M) but {config_file} '
                                  f'makes {input_shape(cfg)}: predict with the config the model was exported with')
            if exported:
                check_agreement(exported, given, contract_path(predictor.model_file), config_file)
            contract = exported or given
        elif exported is None:
            raise ConfigError(f'{predictor.model_file} has no {contract_path(predictor.model_file)} (exported '
                              f'before models carried their contract): give --config, the config it was exported with')
        else:
            contract = exported
        if contract['input_shape'] != want:
            raise CheckpointError(f'{contract_path(predictor.model_file)} says input {contract["input_shape"]} but '
                                  f'{predictor.model_file} takes {want}: export the model again')
        recognizer = cls(contract, predictor.predict, predictor.model_file)
        recognizer.predictor = predictor
        return recognizer

    def prepare(self, sample, where):
        """One sample (C, T, V, M) in the model's coordinates -> the test pipeline's output (C', W, V, M)."""
        _, C, W, V, M = self.contract['input_shape']
        out = self.pipeline(sample, self._rng)
        if out.shape != (C, W, V, M):
            raise DataError(f'{where}: the test pipeline gives {out.shape}, the model takes (C, W, V, M) = '
                            f'{(C, W, V, M)}')
        return out

    def sample(self, frames, size):
        """(T, V, 3) frames, x, y in pixels, of a (W, H) video -> one raw sample (3, T, V, M) in the model's
        coordinates (the first person; further persons of the model stay zero), mirrored first if `mirror`."""
        frames = np.asarray(frames, dtype=np.float32)
        V, M = self.contract['joints'], self.contract['persons']
        if frames.ndim != 3 or frames.shape[1:] != (V, 3):
            raise DataError(f'skeleton frames: expected (T, {V}, 3) x, y in pixels and a confidence, '
                            f'found {frames.shape}')
        if self.mirror:
            frames = mirror_frames(frames, size[0], self.contract['layout'])
        out = np.zeros((3, len(frames), V, M), dtype=np.float32)
        out[..., 0] = normalize_xy(frames, size[0], size[1], self.coords).transpose(2, 0, 1)
        return out

    def warm_up(self, size):
        """Run the network once (its first run builds kernels and can take seconds), so that live input does
        not fall behind on its first window."""
        frames = np.zeros((self.window, self.contract['joints'], 3), np.float32)
        frames[:, :, :2] = np.linspace(0.2, 0.8, self.contract['joints'])[:, None] * np.array(size)
        frames[:, :, 2] = 1
        self.scores([frames], size)

    def logits(self, samples):
        """(N, C', W, V, M) pipeline outputs -> (N, K) logits."""
        return np.asarray(self._run(np.ascontiguousarray(samples, dtype=np.float32)), dtype=np.float32)

    def batch(self, clips, size):
        """N clips of raw frames (each (T, V, 3) in pixels) -> the network's input (N, C', W, V, M)."""
        return np.stack([self.prepare(self.sample(c, size), 'skeleton frames') for c in clips])

    def scores(self, clips, size):
        """N clips of raw frames (each (T, V, 3) in pixels) -> (N, K) class probabilities."""
        return softmax(self.logits(self.batch(clips, size)))


class FusedRecognizer:
    """Several recognizers of the same classes (one per stream: joint, bone, their motions) as one, for the video
    path: each brings its own input pipeline, their softmax scores are summed with `weights` and normalised
    (mmaction2's score fusion). They must agree on what a window is (frames, frame rate, layout) and on the
    classes, or the fused scores would mean nothing."""

    def __init__(self, recognizers, weights=None):
        self.parts = list(recognizers)
        self.weights = [float(w) for w in (weights or [1.0] * len(self.parts))]
        check_weights(self.weights, len(self.parts), 'models')
        check_same_classes(self.parts)
        first = self.parts[0]
        for r in self.parts[1:]:
            for what, mine, theirs in (('window', r.window, first.window), ('fps', r.fps, first.fps),
                                       ('layout', r.contract['layout'], first.contract['layout'])):
                if mine != theirs:
                    raise ConfigError(f'{r.source}: {what} {mine!r}, {first.source} has {theirs!r}: fused models '
                                      f'must see the same windows')
        self.contract, self.window, self.fps, self.source = first.contract, first.window, first.fps, first.source
        self.num_classes, self.class_names, self.background = first.num_classes, first.class_names, first.background

    @property
    def mirror(self):
        return self.parts[0].mirror

    @mirror.setter
    def mirror(self, value):
        for r in self.parts:
            r.mirror = value

    def warm_up(self, size):
        for r in self.parts:
            r.warm_up(size)

    def scores(self, clips, size):
        logits = [r.logits(r.batch(clips, size)) for r in self.parts]
        return fuse_scores(logits, self.weights) / sum(self.weights)


def check_same_classes(recognizers):
    """ConfigError unless every recognizer names the same classes (and the same background) as the first."""
    first = recognizers[0]
    for r in recognizers[1:]:
        mine = (r.num_classes, r.contract['class_names'], r.background)
        theirs = (first.num_classes, first.contract['class_names'], first.background)
        if mine != theirs:
            raise ConfigError(f'{r.source}: {r.num_classes} classes {r.contract["class_names"]}, {first.source} has '
                              f'{first.num_classes} {first.contract["class_names"]}: fused models must name the '
                              f'same classes')
