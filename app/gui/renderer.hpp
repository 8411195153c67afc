#pragma once
// Everything the app draws with its own shaders. Owns every GL object it
// uses (one owner each) and re-uploads a texture only when its input changed.
#include <map>
#include <memory>
#include <vector>

#include "app_state.hpp"
#include "gl.hpp"

namespace gui {

// How overlays are drawn: by the fragment shader, or on the CPU by
// attn::render_overlay (the same pixels, which the tests check) and
// uploaded. On a software OpenGL (Mesa's llvmpipe and the like) the CPU is
// the default: there the shader is compiled for the same cores, and the
// engine's own loop is about nine times faster (bench/RESULTS.md).
// ATTNSCOPE_OVERLAY=gpu|cpu overrides the choice.
enum class OverlayPath { Gpu, Cpu };

class Renderer {
 public:
  // Compiles the shaders; throws std::runtime_error with the info log.
  void init();

  // The overlay of `map` (grid.count() values) for `region` of the image,
  // into `target` (resized to attn::overlay_size()), as attn::render_overlay
  // draws it: `outlined` (the queries' cells) ringed when style.rings, and
  // left out of the colour scale unless style.scale_includes_outlined.
  // Shown smaller than the image, grid lines are left out where a cell
  // would be under 6 target pixels.
  void draw_overlay(RenderTarget& target, const Scene& scene, const std::vector<float>& map,
                    const std::vector<int>& outlined, const attn::OverlayStyle& style,
                    const attn::OverlayRegion& region = {});
  OverlayPath overlay_path() const { return path_; }

  // How many image pixels a side one texel of the uploaded image holds: 1,
  // or more when the image exceeds the GPU's texture limit and is shown from
  // a box-filtered copy (0 before any upload).
  int image_factor() const { return image_factor_; }
  // The texture limit in use: GL_MAX_TEXTURE_SIZE, or ATTNSCOPE_MAX_TEXTURE_SIZE
  // when that is smaller (tests use it to reach the limit with small images).
  static int max_texture_size();

  // The matrix (values scaled to [0, 1] on upload, per `scale`) into `target`,
  // showing the window `view` = {x0, y0, x1, y1} in 0..1 and outlining `row`.
  void draw_matrix(RenderTarget& target, const std::shared_ptr<const attn::Matrix>& m, std::uint64_t revision,
                   const DisplaySettings& s, const float view[4], int row);

 private:
  const Texture& lut(attn::Colormap map);
  void upload_image(const Scene& scene);

  Program overlay_, matrix_;
  EmptyVertexArray vao_;
  Texture image_, map_, selected_, matrix_tex_;
  std::map<attn::Colormap, Texture> luts_;
  std::uint64_t uploaded_image_ = 0;  // the scene generation whose image is in image_
  int image_factor_ = 0;
  OverlayPath path_ = OverlayPath::Gpu;
  std::uint64_t uploaded_matrix_ = ~0ull;
  attn::MapScale uploaded_matrix_scale_{};
};

}  // namespace gui
