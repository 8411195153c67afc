// Draws attnscope's sample image: a landscape with sky, sun, clouds,
// mountains, a lake, a meadow, a path, a tree and a house. Regions of
// distinct colour and texture, so that clicking a patch of sky lights up the
// sky. Procedural and seeded: the committed assets/sample.png is its output.
//
// usage: attnscope-make-sample OUT.png [WIDTH HEIGHT]
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <numbers>

#include "core/error.hpp"
#include "core/image.hpp"
#include "core/rng.hpp"

namespace {

struct Color {
  float r, g, b;
};
Color mix(Color a, Color b, float t) { return {a.r + (b.r - a.r) * t, a.g + (b.g - a.g) * t, a.b + (b.b - a.b) * t}; }
Color scale(Color c, float s) { return {c.r * s, c.g * s, c.b * s}; }
float smoothstep(float e0, float e1, float x) {
  const float t = std::fmin(std::fmax((x - e0) / (e1 - e0), 0.0f), 1.0f);
  return t * t * (3 - 2 * t);
}

// Value noise on an integer lattice hashed from (x, y, seed): smooth, seeded,
// the same on every machine.
float lattice(int x, int y, unsigned seed) {
  unsigned h = static_cast<unsigned>(x) * 374761393u + static_cast<unsigned>(y) * 668265263u + seed * 2246822519u;
  h = (h ^ (h >> 13)) * 1274126177u;
  return static_cast<float>((h ^ (h >> 16)) & 0xffff) / 65535.0f;
}
float value_noise(float x, float y, unsigned seed) {
  const int xi = static_cast<int>(std::floor(x)), yi = static_cast<int>(std::floor(y));
  const float fx = x - xi, fy = y - yi;
  const float u = fx * fx * (3 - 2 * fx), v = fy * fy * (3 - 2 * fy);
  const float a = lattice(xi, yi, seed), b = lattice(xi + 1, yi, seed);
  const float c = lattice(xi, yi + 1, seed), d = lattice(xi + 1, yi + 1, seed);
  return a + (b - a) * u + (c - a) * v + (a - b - c + d) * u * v;
}
float fbm(float x, float y, unsigned seed, int octaves) {
  float sum = 0, amp = 0.5f, freq = 1;
  for (int i = 0; i < octaves; ++i) {
    sum += amp * value_noise(x * freq, y * freq, seed + static_cast<unsigned>(i) * 17u);
    amp *= 0.5f;
    freq *= 2;
  }
  return sum;
}

Color scene(float x, float y, int w, int h) {
  // Coordinates in units of a 448-pixel reference frame, so other sizes show the same scene.
  const float sx = x * 448.0f / w, sy = y * 448.0f / h;
  const float horizon = 228.0f;

  // Sky: deep blue overhead to pale near the horizon, with clouds.
  Color c = mix(Color{0.16f, 0.36f, 0.78f}, Color{0.66f, 0.82f, 0.96f}, smoothstep(0, horizon, sy));
  const float cloud = fbm(sx / 70.0f, sy / 28.0f, 7, 5);
  const float cloud_band = smoothstep(20, 60, sy) * (1 - smoothstep(120, 170, sy));
  c = mix(c, Color{0.97f, 0.97f, 0.99f}, smoothstep(0.52f, 0.66f, cloud) * cloud_band * 0.95f);
  // Sun with a glow.
  const float sun = std::hypot(sx - 352, sy - 64);
  c = mix(c, Color{1.0f, 0.93f, 0.55f}, 0.55f * std::exp(-sun / 40.0f));
  if (sun < 26) c = Color{1.0f, 0.90f, 0.35f};

  // Far mountains, then near hills.
  const float ridge = 180 + 22 * std::sin(sx / 53.0f) + 12 * std::sin(sx / 23.0f + 1.3f) + 8 * fbm(sx / 30, 0, 3, 3);
  if (sy > ridge) {
    const float snow = smoothstep(ridge + 10, ridge, sy) * smoothstep(176, 165, ridge);
    c = mix(Color{0.42f, 0.46f, 0.58f}, Color{0.93f, 0.94f, 0.97f}, snow);
    c = scale(c, 0.9f + 0.2f * fbm(sx / 12, sy / 12, 11, 3));
  }
  if (sy > horizon + 6 * std::sin(sx / 40.0f)) {
    // Meadow: green, with fine blade texture (vertical streaks).
    const float blades = fbm(sx / 1.6f, sy / 9.0f, 21, 3);
    const float depth = smoothstep(horizon, 448, sy);
    c = mix(Color{0.36f, 0.56f, 0.22f}, Color{0.24f, 0.50f, 0.14f}, depth);
    c = scale(c, 0.72f + 0.56f * blades);
    // Yellow flowers, scattered.
    if (lattice(static_cast<int>(sx / 3), static_cast<int>(sy / 3), 5) > 0.985f) c = Color{0.95f, 0.85f, 0.25f};

    // Lake: blue, with horizontal ripples.
    const float lake = std::pow((sx - 120) / 105.0f, 2.0f) + std::pow((sy - 300) / 38.0f, 2.0f);
    if (lake < 1) {
      const float ripple = 0.5f + 0.5f * std::sin(sy * 1.7f + 3 * fbm(sx / 25, sy / 4, 31, 2));
      c = mix(Color{0.12f, 0.34f, 0.55f}, Color{0.45f, 0.66f, 0.82f}, 0.25f + 0.35f * ripple);
    }
    // A sandy path from the bottom towards the house.
    const float path_x = 300 - (448 - sy) * 0.35f + 12 * std::sin(sy / 30.0f);
    const float half = 8 + (sy - horizon) * 0.12f;
    if (std::abs(sx - path_x) < half && sy > 290) {
      c = scale(Color{0.74f, 0.62f, 0.42f}, 0.85f + 0.3f * fbm(sx / 3, sy / 3, 41, 2));
    }
  }

  // Tree: trunk and a round, leafy crown.
  if (std::abs(sx - 62) < 7 && sy > 250 && sy < 350)
    c = scale(Color{0.40f, 0.26f, 0.14f}, 0.8f + 0.3f * fbm(sx / 2, sy / 8, 51, 2));
  const float crown = std::hypot(sx - 62, (sy - 236) * 1.1f) + 10 * (fbm(sx / 9, sy / 9, 53, 3) - 0.5f);
  if (crown < 46) c = scale(Color{0.13f, 0.38f, 0.12f}, 0.65f + 0.7f * fbm(sx / 4, sy / 4, 55, 3));

  // House: beige walls with windows and a door, a red roof.
  const float hx0 = 300, hx1 = 410, hy0 = 250, hy1 = 330;
  if (sx > hx0 && sx < hx1 && sy > hy0 && sy < hy1) {
    c = Color{0.90f, 0.84f, 0.70f};
    const bool window = (std::abs(sx - 322) < 11 || std::abs(sx - 388) < 11) && std::abs(sy - 278) < 11;
    if (window)
      c = (std::abs(sx - 322) < 1.5f || std::abs(sx - 388) < 1.5f || std::abs(sy - 278) < 1.5f)
              ? Color{0.9f, 0.9f, 0.9f}
              : Color{0.30f, 0.45f, 0.62f};
    if (std::abs(sx - 355) < 11 && sy > 292) c = Color{0.45f, 0.25f, 0.12f};
  }
  const float roof_half = (sy - 196) * 1.05f;  // a triangle from the apex down to the walls
  if (sy > 196 && sy <= hy0 + 2 && std::abs(sx - 355) < roof_half + 4) {
    const float tiles = 0.85f + 0.15f * std::sin(sy * 1.2f);
    c = scale(Color{0.72f, 0.16f, 0.12f}, tiles);
  }
  return c;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2 && argc != 4) {
    std::fprintf(stderr, "usage: %s OUT.png [WIDTH HEIGHT]\n", argv[0]);
    return 2;
  }
  const int w = argc == 4 ? std::atoi(argv[2]) : 448, h = argc == 4 ? std::atoi(argv[3]) : 448;
  if (w < 16 || h < 16 || w > 8192 || h > 8192) {
    std::fprintf(stderr, "make-sample: size must be 16..8192 pixels per side\n");
    return 2;
  }
  attn::Image img = attn::Image::blank(w, h);
  constexpr int kSamples = 3;  // supersampling per axis, for clean edges
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      Color acc{0, 0, 0};
      for (int sy = 0; sy < kSamples; ++sy)
        for (int sx = 0; sx < kSamples; ++sx) {
          const Color c = scene(x + (sx + 0.5f) / kSamples, y + (sy + 0.5f) / kSamples, w, h);
          acc = {acc.r + c.r, acc.g + c.g, acc.b + c.b};
        }
      std::uint8_t* p = img.pixel(x, y);
      const float n = kSamples * kSamples;
      p[0] = static_cast<std::uint8_t>(std::lround(std::fmin(std::fmax(acc.r / n, 0.f), 1.f) * 255));
      p[1] = static_cast<std::uint8_t>(std::lround(std::fmin(std::fmax(acc.g / n, 0.f), 1.f) * 255));
      p[2] = static_cast<std::uint8_t>(std::lround(std::fmin(std::fmax(acc.b / n, 0.f), 1.f) * 255));
    }
  try {
    attn::save_png(argv[1], img);
  } catch (const attn::Error& e) {
    std::fprintf(stderr, "make-sample: %s\n", e.what());
    return 3;
  }
  return 0;
}
