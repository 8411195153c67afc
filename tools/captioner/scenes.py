"""Synthetic scenes for the attnscope captioner: coloured shapes on a noisy
plain background, with their captions and per-object metadata.

Spec (kept in sync with assets/captioner/README.md):
  * 128x128 RGB. Background: one colour, each channel uniform in [170, 255],
    plus per-pixel, per-channel Gaussian noise, sigma uniform in [0, 8] per
    scene, clipped to 0..255.
  * 1 to 3 objects, each a different (colour, shape) pair. Shapes: circle
    (filled disc), square (axis-aligned), triangle (filled, isosceles, apex
    up, base horizontal). Colours: red, green, blue, yellow (base RGB below),
    each channel jittered uniformly by up to +-20 per object.
  * An object lives in a square box of side 24..40 px (the circle's
    diameter, the square's side, the triangle's base and height), fully
    inside the image; two boxes are at least 4 px apart in x or in y.
  * Half the scenes are anti-aliased (coverage from 4x4 supersampling), half
    hard-edged (a pixel is covered when its centre is inside).
  * An object's centre is the centre of its box (for the triangle too).

Captions are lists of tokens from VOCAB:
  one object:    a red circle
  two objects:   a red circle left of a blue square
                 (relation of the first-named to the second-named object from
                 their centres: horizontal when |dx| >= |dy|, 'left of' when
                 dx < 0 else 'right of'; vertical otherwise, 'above' when
                 dy < 0 else 'below'; image y grows downwards)
  three objects: a red circle , a blue square and a green triangle
Any naming order is valid; `caption()` takes the order as an argument.

Training uses one canonical order (`canonical_order()`): three objects left
to right by centre x; two objects, when |dx| >= |dy| the left one first
('left of'), else the upper one first ('above'), so the relation word only
tells horizontal from vertical; each object named next is the leftmost (or,
for a vertical pair, the upmost) one not yet named.
"""
import numpy as np

IMAGE_SIZE = 128
VOCAB = ["<pad>", "<bos>", "<eos>", "a", "red", "green", "blue", "yellow",
         "circle", "square", "triangle", "left", "right", "of", "above",
         "below", ",", "and"]
TOKEN = {w: i for i, w in enumerate(VOCAB)}
PAD, BOS, EOS = 0, 1, 2
COLOURS = ["red", "green", "blue", "yellow"]
COLOUR_RGB = {"red": (220, 40, 40), "green": (40, 170, 60),
              "blue": (40, 70, 220), "yellow": (230, 200, 40)}
SHAPES = ["circle", "square", "triangle"]
MIN_SIDE, MAX_SIDE, MIN_GAP = 24.0, 40.0, 4.0
SUPERSAMPLE = 4


def inside(shape, x0, y0, s, x, y):
    """Boolean array: are the points (x, y) inside the shape whose box has
    top-left (x0, y0) and side s?"""
    if shape == "square":
        return (x >= x0) & (x < x0 + s) & (y >= y0) & (y < y0 + s)
    if shape == "circle":
        r = s / 2.0
        return (x - (x0 + r)) ** 2 + (y - (y0 + r)) ** 2 <= r * r
    if shape == "triangle":
        # apex (x0 + s/2, y0), base from (x0, y0 + s) to (x0 + s, y0 + s)
        return (y >= y0) & (y <= y0 + s) & (np.abs(x - (x0 + s / 2.0)) <= (y - y0) / 2.0)
    raise ValueError(shape)


def coverage(shape, x0, y0, s, antialias, size=IMAGE_SIZE):
    """Float32 [size, size] coverage of the shape per pixel (0..1)."""
    mask = np.zeros((size, size), np.float32)
    c0, c1 = max(int(np.floor(x0)) - 1, 0), min(int(np.ceil(x0 + s)) + 1, size)
    r0, r1 = max(int(np.floor(y0)) - 1, 0), min(int(np.ceil(y0 + s)) + 1, size)
    if antialias:
        n = SUPERSAMPLE
        offs = (np.arange(n) + 0.5) / n
        ys = (np.arange(r0, r1)[:, None] + offs[None, :]).reshape(-1)
        xs = (np.arange(c0, c1)[:, None] + offs[None, :]).reshape(-1)
        hit = inside(shape, x0, y0, s, xs[None, :], ys[:, None]).astype(np.float32)
        hit = hit.reshape(r1 - r0, n, c1 - c0, n).mean(axis=(1, 3))
    else:
        ys = np.arange(r0, r1) + 0.5
        xs = np.arange(c0, c1) + 0.5
        hit = inside(shape, x0, y0, s, xs[None, :], ys[:, None]).astype(np.float32)
    mask[r0:r1, c0:c1] = hit
    return mask


def _apart(a, b):
    """Boxes (x0, y0, s) at least MIN_GAP apart in x or in y."""
    gap_x = max(b[0] - (a[0] + a[2]), a[0] - (b[0] + b[2]))
    gap_y = max(b[1] - (a[1] + a[2]), a[1] - (b[1] + b[2]))
    return gap_x >= MIN_GAP or gap_y >= MIN_GAP


def make_scene(rng, n_objects=None, with_masks=True):
    """One scene from the numpy Generator rng.

    Returns (image uint8 [128, 128, 3], objects), each object a dict with
    colour, shape, bbox (x0, y0, x1, y1), centre (cx, cy), antialias and,
    when with_masks, mask (float32 [128, 128] coverage)."""
    size = IMAGE_SIZE
    if n_objects is None:
        n_objects = int(rng.integers(1, 4))
    pairs = [(c, s) for c in COLOURS for s in SHAPES]
    chosen = rng.choice(len(pairs), size=n_objects, replace=False)
    antialias = bool(rng.integers(0, 2))
    bg = rng.uniform(170.0, 255.0, size=3)
    sigma = rng.uniform(0.0, 8.0)
    image = bg[None, None, :] + rng.normal(0.0, 1.0, size=(size, size, 3)) * sigma
    boxes = []
    while len(boxes) < n_objects:  # rejection sampling, restart when stuck
        for _ in range(200):
            s = rng.uniform(MIN_SIDE, MAX_SIDE)
            box = (rng.uniform(0.0, size - s), rng.uniform(0.0, size - s), s)
            if all(_apart(box, b) for b in boxes):
                boxes.append(box)
                break
        else:
            boxes = []
    objects = []
    for k, (x0, y0, s) in zip(chosen, boxes):
        colour, shape = pairs[k]
        rgb = np.array(COLOUR_RGB[colour], np.float64) + rng.uniform(-20.0, 20.0, size=3)
        cov = coverage(shape, x0, y0, s, antialias)
        a = cov[:, :, None].astype(np.float64)
        image = image * (1.0 - a) + rgb[None, None, :] * a
        obj = {"colour": colour, "shape": shape, "bbox": (x0, y0, x0 + s, y0 + s),
               "centre": (x0 + s / 2.0, y0 + s / 2.0), "antialias": antialias,
               "rgb": tuple(float(v) for v in rgb)}
        if with_masks:
            obj["mask"] = cov
        objects.append(obj)
    image = np.clip(np.rint(image), 0, 255).astype(np.uint8)
    return image, objects


def relation(first, second):
    """Relation words of `first` to `second` (centres (x, y))."""
    dx, dy = first[0] - second[0], first[1] - second[1]
    if abs(dx) >= abs(dy):
        return ["left", "of"] if dx < 0 else ["right", "of"]
    return ["above"] if dy < 0 else ["below"]


def caption(objects, order):
    """Caption words naming objects (dicts with colour, shape, centre) in
    the given order (a permutation of their indices)."""
    named = [objects[i] for i in order]
    words = lambda o: ["a", o["colour"], o["shape"]]  # noqa: E731
    if len(named) == 1:
        return words(named[0])
    if len(named) == 2:
        return words(named[0]) + relation(named[0]["centre"], named[1]["centre"]) + words(named[1])
    if len(named) == 3:
        return words(named[0]) + [","] + words(named[1]) + ["and"] + words(named[2])
    raise ValueError("1 to 3 objects")


def canonical_order(objects):
    """The training captions' naming order (indices into objects): three
    objects by centre x (ties by y), two objects left one first when
    |dx| >= |dy| else upper one first, one object trivially."""
    n = len(objects)
    key_x = lambda i: (objects[i]["centre"][0], objects[i]["centre"][1], i)  # noqa: E731
    key_y = lambda i: (objects[i]["centre"][1], objects[i]["centre"][0], i)  # noqa: E731
    if n == 2:
        (x0, y0), (x1, y1) = objects[0]["centre"], objects[1]["centre"]
        return sorted(range(2), key=key_x if abs(x0 - x1) >= abs(y0 - y1) else key_y)
    return sorted(range(n), key=key_x)


def canonical_caption(objects):
    """The caption in the canonical order: a two-object caption always says
    'left of' or 'above'."""
    return caption(objects, canonical_order(objects))


def parse(words):
    """Mentions in a caption: list of (colour, shape, index of the colour
    word), and the relation words, or None when the caption is not of one of
    the three forms."""
    def mention(i):
        if i + 2 < len(words) and words[i] == "a" and words[i + 1] in COLOURS and words[i + 2] in SHAPES:
            return (words[i + 1], words[i + 2], i + 1)
        return None
    n = len(words)
    if n == 3:
        m = mention(0)
        return ([m], None) if m else None
    if n in (7, 8):
        m0 = mention(0)
        rel = words[3:n - 3]
        m1 = mention(n - 3)
        if m0 and m1 and rel in (["left", "of"], ["right", "of"], ["above"], ["below"]):
            return ([m0, m1], rel)
        return None
    if n == 11 and words[3] == "," and words[7] == "and":
        ms = [mention(0), mention(4), mention(8)]
        return (ms, None) if all(ms) else None
    return None


def caption_correct(words, objects):
    """Is the caption an exact, true description of the scene (any order)?
    Returns (ok, order): order maps each mention to its object index, or None."""
    parsed = parse(list(words))
    if parsed is None:
        return False, None
    mentions, rel = parsed
    if len(mentions) != len(objects):
        return False, None
    index = {(o["colour"], o["shape"]): i for i, o in enumerate(objects)}
    order = [index.get((c, s)) for c, s, _ in mentions]
    if None in order or len(set(order)) != len(order):
        return False, None
    if rel is not None and rel != relation(objects[order[0]]["centre"], objects[order[1]]["centre"]):
        return False, order
    return True, order


def scene_rng(base_seed, index):
    """The Generator of scene `index` in the set `base_seed` (independent of
    how many scenes are drawn)."""
    return np.random.default_rng([int(base_seed), int(index)])


if __name__ == "__main__":
    import sys
    from PIL import Image
    rng = scene_rng(int(sys.argv[1]) if len(sys.argv) > 1 else 0, 0)
    for i in range(8):
        img, objs = make_scene(rng)
        print(i, " ".join(canonical_caption(objs)))
        Image.fromarray(img).save(f"/tmp/scene_{i}.png")
