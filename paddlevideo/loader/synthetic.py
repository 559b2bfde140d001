"""Synthetic figure-skating skeletons: the embedded default data set (numpy only, no download).

A 3D stick figure (bone lengths, joint angles over time) performs one technical element per clip; a perspective
camera projects it to 2D in the FSD layout (N, C=3, T, V=25, M=1): x, y in [-1, 1] with image y growing
downwards, a confidence in [0, 1], OpenPose BODY_25 joint order, exact zero padding after each clip's valid
length. The motions are plausible caricatures, not real skating: use them to check that the pipeline learns.
"""
import numpy as np

# metres, for a skater about 1.7 m tall; every clip jitters them
BONES = dict(hip=0.10, spine=0.50, shoulder=0.18, upper_arm=0.29, forearm=0.26, thigh=0.45, shin=0.43)
LEG = ((9, 10, 11, 22, 23, 24), (12, 13, 14, 19, 20, 21))  # hip, knee, ankle, big toe, small toe, heel: R, L
ARM = ((2, 3, 4), (5, 6, 7))  # shoulder, elbow, wrist: R, L
FACE = ((15, 17), (16, 18))  # eye, ear: R, L
UPPER = [0, 1, 2, 3, 4, 5, 6, 7, 15, 16, 17, 18]  # joints that follow the torso's lean and twist
FEET = [11, 14, 19, 20, 21, 22, 23, 24]


def _ramp(u, a, b):
    """Smooth step from 0 (u <= a) to 1 (u >= b)."""
    x = np.clip((u - a) / (b - a), 0, 1)
    return x * x * (3 - 2 * x)


def _blend(p, key, target, w, side=None):
    """Move track p[key] (one leg/arm column if side is given) towards target with weight w (n,)."""
    a = p[key] if side is None else p[key][:, side]
    new = a + (target - a) * (w if a.ndim == 1 else w[:, None])
    if side is None:
        p[key] = new
    else:
        p[key][:, side] = new


def _path(u, heading, dist):
    """Root positions (n, 2) on the ice (x, z) gliding dist metres along heading (degrees, per frame)."""
    h = np.radians(heading)
    step = np.diff(u, prepend=u[0])[:, None] * dist
    return np.cumsum(step * np.stack([np.sin(h), np.cos(h)], 1), 0)


def _jump(rng, u, p):
    """Glide backwards, crouch, take off, rotate 1-3 turns with arms pulled in, land on one leg, free leg back."""
    s, land = rng.choice([-1, 1]), rng.integers(2)
    c0 = rng.uniform(0.15, 0.35)
    c1 = c0 + rng.uniform(0.08, 0.15)
    c2 = c1 + rng.uniform(0.15, 0.3)
    crouch = _ramp(u, c0, c1 - 0.03) * (1 - _ramp(u, c1 - 0.03, c1))
    tuck = _ramp(u, c1 - 0.02, c1 + 0.04) * (1 - _ramp(u, c2 - 0.06, c2))
    landed = _ramp(u, c2 - 0.02, c2 + 0.06)
    v = np.clip((u - c1) / (c2 - c1), 0, 1)
    p['air'] = rng.uniform(0.3, 0.6) * 4 * v * (1 - v)
    p['path'] = _path(u, p['yaw'] + 180, rng.uniform(3, 7))
    p['yaw'] = p['yaw'] + s * 360 * rng.choice([1, 1.5, 2, 2.5, 3]) * _ramp(u, c1, c2)
    for key, bend in (('knee', 60), ('hip_flex', 45), ('pitch', 25), ('sh_abd', 20)):
        p[key] = p[key] + bend * (crouch[:, None] if p[key].ndim == 2 else crouch)
    for key, target in (('hip_abd', -8), ('knee', 5), ('hip_flex', 0), ('sh_abd', 15), ('sh_flex', 45),
                        ('elbow', 120), ('pitch', 0)):
        _blend(p, key, target, tuck)
    for key, target in (('sh_abd', 85), ('sh_flex', 10), ('elbow', 10), ('pitch', 15)):
        _blend(p, key, target, landed)
    _blend(p, 'knee', 35 - 20 * _ramp(u, c2 + 0.05, 1), landed, land)  # absorb the landing, then glide out
    for key, target in (('hip_flex', -50), ('hip_abd', 20), ('knee', 5)):
        _blend(p, key, target, landed, 1 - land)


def _spin(rng, u, p):
    """Enter gliding, rotate 3-7 turns on one leg (upright, sit or camel position) with varying speed, exit."""
    s, sup = rng.choice([-1, 1]), rng.integers(2)
    e0, e1 = rng.uniform(0.05, 0.2), rng.uniform(0.8, 0.95)
    w = _ramp(u, e0, e0 + 0.1) * (1 - _ramp(u, e1 - 0.05, e1 + 0.03))
    p['path'] = _path(np.minimum(u, e0) + np.maximum(u - e1, 0), p['yaw'] + rng.uniform(-30, 30), rng.uniform(4, 8))
    p['yaw'] = p['yaw'] + s * 360 * rng.uniform(3, 7) * _ramp(u, e0, e1) ** rng.uniform(0.7, 1.4)
    # (support hip, support knee, free hip, free knee, torso lean) of the upright, sit and camel positions
    sup_flex, sup_knee, free_flex, free_knee, pitch = [(0, 5, 60, 90, 0), (90, 100, 85, 10, 35),
                                                       (0, 8, -95, 5, 75)][rng.integers(3)]
    for key, target, side in (('hip_flex', sup_flex, sup), ('knee', sup_knee, sup), ('hip_flex', free_flex, 1 - sup),
                              ('knee', free_knee, 1 - sup), ('pitch', pitch, None)):
        _blend(p, key, target, w, side)
    arms = [(10, 60, 110), (165, 10, 20), (80, 10, 10)][rng.integers(3)]  # pulled in, overhead, out
    for key, target in zip(('sh_abd', 'sh_flex', 'elbow'), arms):
        _blend(p, key, target, w)
    _blend(p, 'hip_flex', -40, _ramp(u, e1, e1 + 0.05), 1 - sup)


def _step_sequence(rng, u, p):
    """Travel along a curve with alternating leg lifts, quick half and full turns, and moving arms."""
    phi = np.pi * rng.integers(4, 9) * u + rng.uniform(0, 2 * np.pi)
    lift = np.maximum(0, np.stack([np.sin(phi), -np.sin(phi)], 1))
    p['hip_flex'] += rng.choice([-1, 1]) * rng.uniform(15, 40) * lift
    p['knee'] += rng.uniform(30, 80) * lift
    p['path'] = _path(u, p['yaw'] + rng.uniform(-90, 90) * u, rng.uniform(4, 9))
    for t, d in zip(rng.uniform(0.05, 0.9, rng.integers(2, 5)), rng.uniform(0.03, 0.1, 4)):
        p['yaw'] = p['yaw'] + rng.choice([-360, -180, 180, 360]) * _ramp(u, t, t + d)
    r = rng.uniform(0, 2 * np.pi, (4, 1))
    p['sh_abd'] = 55 + 35 * np.sin(0.5 * phi[:, None] + r[:2].T)
    p['sh_flex'] = 20 + 30 * np.sin(0.7 * phi[:, None] + r[2:].T)
    p['twist'] += 20 * np.sin(0.5 * phi)
    p['pitch'] += 10 * np.abs(np.sin(phi))


def _spiral(rng, u, p):
    """Glide on one leg, free leg raised behind above hip level, torso forward, arms out; enter and exit."""
    sup = rng.integers(2)
    a0, a1 = rng.uniform(0.05, 0.25), rng.uniform(0.7, 0.9)
    w = _ramp(u, a0, a0 + 0.15) * (1 - _ramp(u, a1, a1 + 0.1))
    for key, target, side in (('hip_flex', -rng.uniform(100, 135), 1 - sup), ('knee', rng.uniform(0, 20), 1 - sup),
                              ('hip_abd', rng.uniform(0, 20), 1 - sup), ('knee', rng.uniform(5, 20), sup),
                              ('pitch', rng.uniform(45, 80), None), ('sh_abd', rng.uniform(60, 100), None),
                              ('sh_flex', rng.uniform(-20, 60), None), ('elbow', 10, None)):
        _blend(p, key, target, w, side)
    p['yaw'] = p['yaw'] + rng.uniform(-120, 120) * u
    p['path'] = _path(u, p['yaw'] + 180 * rng.integers(2), rng.uniform(4, 10))
    p['roll'] += rng.uniform(-10, 10) * w


def _crossovers(rng, u, p):
    """Circle forwards or backwards, leaning in, the outer leg crossing over in front of the inner one."""
    s, back = rng.choice([-1, 1]), rng.integers(2)
    p['yaw'] = p['yaw'] + s * rng.uniform(90, 300) * u
    p['path'] = _path(u, p['yaw'] + 180 * back, rng.uniform(5, 10))
    p['roll'] += s * (1 if back else -1) * rng.uniform(8, 20)
    outer = int((s > 0) != bool(back))  # index of the leg away from the circle's centre
    phi = 2 * np.pi * rng.integers(2, 6) * u + rng.uniform(0, 2 * np.pi)
    lift, push = np.maximum(0, np.sin(phi)), np.maximum(0, -np.sin(phi))
    p['hip_flex'][:, outer] += 25 * lift
    p['hip_abd'][:, outer] -= 30 * lift
    p['knee'][:, outer] += 45 * lift + 15
    p['hip_abd'][:, 1 - outer] += 25 * push
    p['knee'][:, 1 - outer] += 20 * push + 15
    p['sh_abd'][:] = rng.uniform(65, 90, 2)
    p['sh_flex'][:] = rng.uniform(0, 35, 2)
    p['pitch'] += 10
    p['twist'] += s * 15


MOTIONS = {'jump': _jump, 'spin': _spin, 'step_sequence': _step_sequence, 'spiral': _spiral,
           'crossovers': _crossovers}


def _rot(x, angle, axis):
    """Rotate points x (n, J, 3) by angle (n,) radians about the x, y or z axis."""
    i, j = {'x': (1, 2), 'y': (2, 0), 'z': (0, 1)}[axis]
    c, s = np.cos(angle)[:, None], np.sin(angle)[:, None]
    out = x.copy()
    out[..., i], out[..., j] = c * x[..., i] - s * x[..., j], s * x[..., i] + c * x[..., j]
    return out


def _direction(flex, abd, side):
    """Unit vectors (n, 3) of a limb hanging down, swung forward by flex and outwards by abd (radians)."""
    return np.stack([side * np.sin(abd), -np.cos(abd) * np.cos(flex), np.cos(abd) * np.sin(flex)], 1)


def _skeleton(p, b):
    """World joint positions (n, 25, 3), metres, y up, of the pose tracks p with bone lengths b."""
    n = len(p['yaw'])
    x = np.zeros((n, 25, 3))
    r = {k: np.radians(v) for k, v in p.items() if k not in ('path', 'air')}
    for k, side in enumerate((-1, 1)):  # right side at -x, left at +x (the figure faces +z)
        hip, knee, ankle, toe, small_toe, heel = LEG[k]
        x[:, hip, 0] = side * b['hip']
        x[:, knee] = x[:, hip] + b['thigh'] * _direction(r['hip_flex'][:, k], r['hip_abd'][:, k], side)
        shin_angle = r['hip_flex'][:, k] - r['knee'][:, k]
        shin = _direction(shin_angle, r['hip_abd'][:, k], side)
        x[:, ankle] = x[:, knee] + b['shin'] * shin
        foot = np.stack([np.zeros(n), np.sin(shin_angle), np.cos(shin_angle)], 1)
        x[:, toe] = x[:, ankle] + 0.05 * shin + 0.18 * foot
        x[:, small_toe] = x[:, toe] + [side * 0.04, 0, 0] - 0.03 * foot
        x[:, heel] = x[:, ankle] + 0.05 * shin - 0.06 * foot
        shoulder, elbow, wrist = ARM[k]
        x[:, shoulder] = [side * b['shoulder'], b['spine'] - 0.02, 0]
        upper = _direction(r['sh_flex'][:, k], r['sh_abd'][:, k], side)
        x[:, elbow] = x[:, shoulder] + b['upper_arm'] * upper
        inward = np.array([-side * 0.4, 0.2, 1.0]) - (upper @ [-side * 0.4, 0.2, 1.0])[:, None] * upper
        inward /= np.linalg.norm(inward, axis=1, keepdims=True) + 1e-9
        fore = np.cos(r['elbow'][:, k])[:, None] * upper + np.sin(r['elbow'][:, k])[:, None] * inward
        x[:, wrist] = x[:, elbow] + b['forearm'] * fore
        eye, ear = FACE[k]
        x[:, eye] = [side * 0.035, b['spine'] + 0.25, 0.07]
        x[:, ear] = [side * 0.075, b['spine'] + 0.23, -0.01]
    x[:, 1] = [0, b['spine'], 0]
    x[:, 0] = [0, b['spine'] + 0.22, 0.09]
    x[:, UPPER] = _rot(_rot(x[:, UPPER], r['pitch'], 'x'), r['twist'], 'y')
    x = _rot(_rot(x, r['roll'], 'z'), r['yaw'], 'y')
    x[..., 1] += p['air'][:, None] - x[:, FEET, 1].min(1, keepdims=True)  # the lowest foot point on the ice
    x[..., [0, 2]] += p['path'][:, None]
    return x


def _clip(rng, motion, length):
    """One clip (length, 25, 3): x, y in [-1, 1] (y down) and confidence, for motion (a MOTIONS function)."""
    t = np.linspace(0, 1, length)
    warped = t + rng.uniform(-0.6, 0.6) * np.sin(2 * np.pi * t) / (2 * np.pi)  # tempo varies within the clip
    start, end = rng.uniform(0, 0.08), rng.uniform(0.92, 1)
    u = start + (end - start) * warped
    z, pair = np.zeros(length), np.ones((length, 2))
    p = dict(yaw=z + rng.uniform(0, 360), roll=z.copy(), pitch=z + rng.uniform(0, 10), twist=z.copy(), air=z.copy(),
             path=np.zeros((length, 2)), hip_flex=5 * pair, hip_abd=5 * pair, knee=12 * pair,
             sh_abd=pair * rng.uniform(30, 60), sh_flex=pair * rng.uniform(0, 30), elbow=pair * rng.uniform(10, 40))
    motion(rng, u, p)
    x = _skeleton(p, {k: v * rng.normal(1, 0.06) for k, v in BONES.items()})
    # camera: pans to follow the skater (partly), looks down at the ice, perspective projection
    x[..., [0, 2]] -= rng.uniform(0.6, 1.0) * p['path'][:, None]
    x = _rot(x, np.full(length, -np.radians(rng.uniform(5, 25))), 'x')
    xy = x[..., :2] / (rng.uniform(8, 20) + x[..., 2:]) * [1, -1]
    lo, hi = xy.min((0, 1)), xy.max((0, 1))
    scale = rng.uniform(0.6, 1.9) / (hi - lo).max()
    xy = (xy - lo) * scale + rng.uniform(-1, 1 - (hi - lo) * scale)
    xy = np.clip(xy + rng.normal(0, rng.uniform(0.003, 0.015), xy.shape), -1, 1)
    conf = np.clip(rng.uniform(0.5, 0.95, 25) + rng.normal(0, 0.08, (length, 25)), 0.05, 1)
    out = np.concatenate([xy, conf[..., None]], -1)
    for _ in range(rng.poisson(3)):  # detector misses: joint at (0, 0) with confidence 0
        start, joint = rng.integers(length), rng.integers(25)
        out[start:start + rng.integers(1, 12), joint] = 0
    return out


def make_synthetic_skating(num_per_class, seed, max_frames=150, min_len=40, max_len=120):
    """Generate num_per_class clips of each class in MOTIONS, shuffled; deterministic for a given seed.

    Returns data (N, 3, max_frames, 25, 1) float32, labels (N,) int64, class_names (list of str).
    """
    if not 1 <= min_len <= max_len <= max_frames:
        raise ValueError(f'need 1 <= min_len <= max_len <= max_frames, got {min_len}, {max_len}, {max_frames}')
    names = list(MOTIONS)
    labels = np.random.default_rng(seed).permutation(np.repeat(np.arange(len(names)), num_per_class))
    data = np.zeros((len(labels), 3, max_frames, 25, 1), np.float32)
    for i, label in enumerate(labels):
        rng = np.random.default_rng([seed, i])
        clip = _clip(rng, MOTIONS[names[label]], rng.integers(min_len, max_len + 1))
        data[i, :, :len(clip), :, 0] = clip.transpose(2, 0, 1)
    return data, labels.astype(np.int64), names
