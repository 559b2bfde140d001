"""Drawing on video frames (OpenCV, in place on BGR uint8 images): the skeleton, the current element and its
confidence, and a strip of the elements so far. Sizes follow the frame height, so 340x256 and 1080p both read."""
import colorsys

import numpy as np

from ..skeleton import layout_spec

NO_ELEMENT_COLOUR = (128, 128, 128)


def class_colour(class_id, num_classes):
    """A BGR colour per class, evenly spaced in hue; grey for 'no element' (class_id < 0)."""
    if class_id < 0:
        return NO_ELEMENT_COLOUR
    r, g, b = colorsys.hsv_to_rgb(class_id / max(num_classes, 1), 0.75, 0.95)
    return int(b * 255), int(g * 255), int(r * 255)


def _scale(img):
    return max(img.shape[0] / 720, 0.35)


def draw_skeleton(img, joints, layout='fsd10', min_confidence=0.05):
    """Bones and joints of one (V, 3) pixel skeleton; joints under `min_confidence` are left out."""
    import cv2

    s = _scale(img)
    seen = joints[:, 2] > min_confidence
    points = np.round(joints[:, :2]).astype(np.int32)
    for a, b in layout_spec(layout)['edges']:
        if seen[a] and seen[b]:
            cv2.line(img, tuple(points[a]), tuple(points[b]), (255, 200, 0), max(int(3 * s), 1), cv2.LINE_AA)
    for v in np.flatnonzero(seen):
        cv2.circle(img, tuple(points[v]), max(int(4 * s), 2), (0, 0, 255), -1, cv2.LINE_AA)


def draw_label(img, text, colour):
    """`text` on a box of `colour` in the top-left corner."""
    import cv2

    s = _scale(img)
    scale, thick = 0.9 * s, max(int(2 * s), 1)
    (w, h), base = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, thick)
    pad = int(8 * s)
    cv2.rectangle(img, (0, 0), (w + 2 * pad, h + base + 2 * pad), colour, -1)
    cv2.putText(img, text, (pad, h + pad), cv2.FONT_HERSHEY_SIMPLEX, scale, (0, 0, 0), thick, cv2.LINE_AA)


def draw_strip(img, rows, frame, total, num_classes):
    """The elements so far along the bottom: rows [start, end, class_id] over frames 0..total-1 (total: the
    video's length where known, else the frames so far), a white cursor on `frame`."""
    import cv2

    H, W = img.shape[:2]
    height = max(int(24 * _scale(img)), 6)
    total = max(int(total), frame + 1, 1)
    top = H - height
    img[top:] = (img[top:] * 0.4).astype(np.uint8)
    for start, end, class_id in rows:
        x0, x1 = int(start * W / total), int((min(end, frame) + 1) * W / total)
        if x1 > x0 and start <= frame:
            cv2.rectangle(img, (x0, top + 2), (x1 - 1, H - 3), class_colour(class_id, num_classes), -1)
    x = min(int((frame + 0.5) * W / total), W - 1)
    cv2.line(img, (x, top), (x, H - 1), (255, 255, 255), max(int(2 * _scale(img)), 1))


def annotate(img, joints, label, score, class_id, rows, frame, total, num_classes, layout='fsd10'):
    """Everything on one frame: skeleton, 'label score' (or the label alone for 'no element'), the strip."""
    draw_skeleton(img, joints, layout)
    draw_label(img, label if class_id < 0 else f'{label} {score:.2f}', class_colour(class_id, num_classes))
    draw_strip(img, rows, frame, total, num_classes)
    return img
