// The captioner's scenes from their specification (captioner_scene.hpp).
#include "captioner_scene.hpp"

#include <algorithm>
#include <array>
#include <cmath>

#include "rng.hpp"

namespace attn {
namespace {

constexpr int kSize = 128, kMinSide = 24, kMaxSide = 40, kGap = 4, kJitter = 20;

struct Colour {
  const char* name;
  std::array<int, 3> rgb;
};
constexpr std::array<Colour, 4> kColours = {
    {{"red", {220, 40, 40}}, {"green", {40, 170, 60}}, {"blue", {40, 70, 220}}, {"yellow", {230, 200, 40}}}};
constexpr std::array<const char*, 3> kShapes = {"circle", "square", "triangle"};

// Whether the point (x, y) (pixels, y down) is inside the object.
bool inside(const SceneObject& o, double x, double y) {
  const double s = o.side, lx = x - o.x, ly = y - o.y;
  if (lx < 0 || ly < 0 || lx > s || ly > s) return false;
  if (o.shape == "square") return true;
  if (o.shape == "circle") return (lx - s / 2) * (lx - s / 2) + (ly - s / 2) * (ly - s / 2) <= s * s / 4;
  // Triangle: apex (s/2, 0), base along y = s; half-width at height ly is ly/2.
  return std::abs(lx - s / 2) <= ly / 2;
}

// The share of pixel (px, py) inside the object: 4 x 4 samples, or the
// pixel's centre alone.
double coverage(const SceneObject& o, int px, int py, bool antialias) {
  if (!antialias) return inside(o, px + 0.5, py + 0.5) ? 1.0 : 0.0;
  int n = 0;
  for (int sy = 0; sy < 4; ++sy)
    for (int sx = 0; sx < 4; ++sx) n += inside(o, px + (sx + 0.5) / 4, py + (sy + 0.5) / 4) ? 1 : 0;
  return n / 16.0;
}

int uniform_int(Rng& rng, int lo, int hi) {  // [lo, hi]
  return lo + static_cast<int>(rng.next() % static_cast<std::uint64_t>(hi - lo + 1));
}

// The larger of the two boxes' gaps along x and along y.
int gap(const SceneObject& a, const SceneObject& b) {
  const int gx = std::max(b.x - (a.x + a.side), a.x - (b.x + b.side));
  const int gy = std::max(b.y - (a.y + a.side), a.y - (b.y + b.side));
  return std::max(gx, gy);
}

std::string phrase(const SceneObject& o) { return "a " + o.colour + " " + o.shape; }

}  // namespace

CaptionScene draw_caption_scene(std::uint64_t seed) {
  Rng rng(seed, 0xCA7710);
  CaptionScene scene;
  const int count = uniform_int(rng, 1, 3);
  std::array<int, 12> pairs{};
  for (int i = 0; i < 12; ++i) pairs[static_cast<size_t>(i)] = i;
  for (int i = 11; i > 0; --i)
    std::swap(pairs[static_cast<size_t>(i)], pairs[static_cast<size_t>(uniform_int(rng, 0, i))]);
  std::vector<std::array<int, 3>> colours;
  // Layouts are redrawn whole when an object cannot be placed (rare).
  while (static_cast<int>(scene.objects.size()) < count) {
    scene.objects.clear();
    colours.clear();
    for (int i = 0; i < count; ++i) {
      const int pair = pairs[static_cast<size_t>(i)];
      SceneObject o;
      o.colour = kColours[static_cast<size_t>(pair / 3)].name;
      o.shape = kShapes[static_cast<size_t>(pair % 3)];
      o.side = uniform_int(rng, kMinSide, kMaxSide);
      bool placed = false;
      for (int attempt = 0; attempt < 200 && !placed; ++attempt) {
        o.x = uniform_int(rng, 0, kSize - o.side);
        o.y = uniform_int(rng, 0, kSize - o.side);
        placed = std::all_of(scene.objects.begin(), scene.objects.end(),
                             [&](const SceneObject& other) { return gap(o, other) >= kGap; });
      }
      if (!placed) break;
      std::array<int, 3> rgb = kColours[static_cast<size_t>(pair / 3)].rgb;
      for (int& c : rgb) c = std::clamp(c + uniform_int(rng, -kJitter, kJitter), 0, 255);
      scene.objects.push_back(o);
      colours.push_back(rgb);
    }
  }
  std::array<int, 3> background{};
  for (int& c : background) c = uniform_int(rng, 170, 255);
  const double sigma = rng.uniform(0.0f, 8.0f);
  const bool antialias = rng.uniform() < 0.5f;
  scene.image = Image::blank(kSize, kSize);
  for (int y = 0; y < kSize; ++y)
    for (int x = 0; x < kSize; ++x) {
      std::array<double, 3> v{};
      for (size_t c = 0; c < 3; ++c) v[c] = background[c] + sigma * rng.gaussian();
      for (size_t i = 0; i < scene.objects.size(); ++i) {
        const double a = coverage(scene.objects[i], x, y, antialias);
        for (size_t c = 0; c < 3; ++c) v[c] = v[c] * (1 - a) + colours[i][c] * a;
      }
      std::uint8_t* p = scene.image.pixel(x, y);
      for (size_t c = 0; c < 3; ++c) p[c] = static_cast<std::uint8_t>(std::clamp(std::lround(v[c]), 0L, 255L));
    }
  return scene;
}

std::vector<std::string> valid_captions(const std::vector<SceneObject>& objects) {
  std::vector<size_t> order(objects.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::vector<std::string> out;
  do {
    if (objects.size() == 1) {
      out.push_back(phrase(objects[0]));
    } else if (objects.size() == 2) {
      const SceneObject &a = objects[order[0]], &b = objects[order[1]];
      const double dx = a.cx() - b.cx(), dy = a.cy() - b.cy();
      const char* relation =
          std::abs(dx) >= std::abs(dy) ? (dx < 0 ? "left of" : "right of") : (dy < 0 ? "above" : "below");
      out.push_back(phrase(a) + " " + relation + " " + phrase(b));
    } else if (objects.size() == 3) {
      out.push_back(phrase(objects[order[0]]) + " , " + phrase(objects[order[1]]) + " and " +
                    phrase(objects[order[2]]));
    }
  } while (std::next_permutation(order.begin(), order.end()));
  return out;
}

std::vector<int> object_cells(const SceneObject& object, int cols) {
  const int p = kSize / cols;
  std::vector<int> cells;
  for (int cy = 0; cy < cols; ++cy)
    for (int cx = 0; cx < cols; ++cx) {
      bool covered = false;
      for (int y = cy * p; y < (cy + 1) * p && !covered; ++y)
        for (int x = cx * p; x < (cx + 1) * p && !covered; ++x) covered = coverage(object, x, y, true) >= 0.5;
      if (covered) cells.push_back(cy * cols + cx);
    }
  return cells;
}

}  // namespace attn
