#pragma once
// Scenes for the bundled captioner, drawn from its written specification
// (assets/captioner/README.md, "Scenes"), so the app's "new scene" button
// and the tests draw scenes the captioner was never trained on:
//   128 x 128 RGB; a background of one colour (each channel in [170, 255])
//   plus per-pixel Gaussian noise (sigma in [0, 8] levels); 1 to 3 objects,
//   each a different (colour, shape) pair; circle (filled disc), square,
//   triangle (isosceles, apex up, base horizontal); red (220, 40, 40), green
//   (40, 170, 60), blue (40, 70, 220), yellow (230, 200, 40), each channel
//   jittered by up to +-20; a square box of side 24-40 px fully inside the
//   image, boxes at least 4 px apart; anti-aliased (4 x 4 samples) or not.
// The captions: "a red circle"; "a red circle left of a blue square" (the
// first-named object's place relative to the second's, from their boxes'
// centres: left of / right of when |dx| >= |dy|, else above / below);
// "a red circle , a blue square and a green triangle". Any naming order.
#include <cstdint>
#include <string>
#include <vector>

#include "image.hpp"

namespace attn {

struct SceneObject {
  std::string colour, shape;   // "red", "circle", ...
  int x = 0, y = 0, side = 0;  // the box: top-left corner and side, pixels
  double cx() const { return x + side / 2.0; }
  double cy() const { return y + side / 2.0; }
};

struct CaptionScene {
  Image image;  // 128 x 128
  std::vector<SceneObject> objects;
};

// The scene of `seed` (the same on every machine: attn::Rng).
CaptionScene draw_caption_scene(std::uint64_t seed);

// Every true and complete caption of the objects (each naming order once).
std::vector<std::string> valid_captions(const std::vector<SceneObject>& objects);

// The cells of a `cols` x `cols` grid over the 128 x 128 image that the
// object covers (any pixel of the cell inside it), row-major.
std::vector<int> object_cells(const SceneObject& object, int cols);

}  // namespace attn
