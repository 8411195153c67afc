#include "renderer.hpp"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <stdexcept>

#include "gl_shaders.hpp"

namespace gui {

void Renderer::init() {
  overlay_ = Program::fullscreen("overlay", kShader_overlay_frag);
  matrix_ = Program::fullscreen("matrix", kShader_matrix_frag);
  vao_.create();
  const auto* name = reinterpret_cast<const char*>(glGetString(GL_RENDERER));
  const std::string renderer = name ? name : "";
  bool software = false;
  for (const char* s : {"llvmpipe", "softpipe", "Software Rasterizer", "SwiftShader"})
    software = software || renderer.find(s) != std::string::npos;
  path_ = software ? OverlayPath::Cpu : OverlayPath::Gpu;
  if (const char* e = std::getenv("ATTNSCOPE_OVERLAY")) {
    if (std::strcmp(e, "gpu") == 0) path_ = OverlayPath::Gpu;
    if (std::strcmp(e, "cpu") == 0) path_ = OverlayPath::Cpu;
  }
}

const Texture& Renderer::lut(attn::Colormap map) {
  Texture& t = luts_[map];
  if (!t) {
    std::vector<std::uint8_t> rgba;
    for (const attn::Rgb& c : attn::colormap_table(map)) rgba.insert(rgba.end(), {c.r, c.g, c.b, 255});
    t.upload(256, 1, GL_RGBA8, rgba.data());
  }
  return t;
}

int Renderer::max_texture_size() {
  GLint max_size = 0;
  glGetIntegerv(GL_MAX_TEXTURE_SIZE, &max_size);
  if (const char* e = std::getenv("ATTNSCOPE_MAX_TEXTURE_SIZE")) {
    const int cap = std::atoi(e);
    if (cap >= 64 && cap < max_size) max_size = cap;
  }
  return std::max(1, static_cast<int>(max_size));
}

namespace {

// The image shrunk by an integer factor, each texel the mean of its
// factor x factor block (the last blocks may be partial).
attn::Image box_shrink(const attn::Image& img, int factor) {
  attn::Image out = attn::Image::blank((img.width + factor - 1) / factor, (img.height + factor - 1) / factor);
  for (int y = 0; y < out.height; ++y)
    for (int x = 0; x < out.width; ++x) {
      unsigned sum[4] = {0, 0, 0, 0}, count = 0;
      for (int yy = y * factor; yy < std::min(img.height, (y + 1) * factor); ++yy)
        for (int xx = x * factor; xx < std::min(img.width, (x + 1) * factor); ++xx, ++count)
          for (int c = 0; c < 4; ++c) sum[c] += img.pixel(xx, yy)[c];
      for (int c = 0; c < 4; ++c) out.pixel(x, y)[c] = static_cast<std::uint8_t>((sum[c] + count / 2) / count);
    }
  return out;
}

}  // namespace

void Renderer::upload_image(const Scene& scene) {
  if (uploaded_image_ == scene.generation) return;
  const int limit = max_texture_size();
  const attn::Image& img = *scene.image;
  // Past the limit the view shows a box-filtered copy; the engine still
  // works on every pixel, and exports are drawn on the CPU (exports.cpp).
  image_factor_ = std::max((img.width + limit - 1) / limit, (img.height + limit - 1) / limit);
  if (image_factor_ > 1) {
    const attn::Image small = box_shrink(img, image_factor_);
    image_.upload(small.width, small.height, GL_RGBA8, small.rgba.data());
  } else {
    image_.upload(img.width, img.height, GL_RGBA8, img.rgba.data());
  }
  uploaded_image_ = scene.generation;
}

void Renderer::draw_overlay(RenderTarget& target, const Scene& scene, const std::vector<float>& map,
                            const std::vector<int>& outlined, const attn::OverlayStyle& s,
                            const attn::OverlayRegion& region) {
  const attn::PatchGrid& g = scene.grid;
  const auto [width, height] = attn::overlay_size(region, scene.image->width, scene.image->height);
  // Until the first map of a new scene is computed, both paths show zeros.
  const std::vector<float> zeros(map.size() == static_cast<size_t>(g.count()) ? 0 : static_cast<size_t>(g.count()));
  const std::vector<float>& values = zeros.empty() ? map : zeros;
  if (path_ == OverlayPath::Cpu) {
    const attn::Image out = attn::render_overlay(*scene.image, g, values, s, outlined, region);
    target.upload(out.width, out.height, out.rgba.data());
    return;
  }
  upload_image(scene);
  const std::vector<float> scaled = attn::scale_map(
      values, s.scale, s.scale_includes_outlined ? std::span<const int>() : std::span<const int>(outlined));
  map_.upload(g.cols, g.rows, GL_R32F, scaled.data());
  std::vector<std::uint8_t> sel(static_cast<size_t>(g.count()), 0);
  for (int t : outlined)
    if (t >= 0 && t < g.count()) sel[static_cast<size_t>(t)] = 255;
  selected_.upload(g.cols, g.rows, GL_R8, sel.data());

  const float step = std::max(1.0f, region.step);
  target.resize(width, height);
  target.bind();
  overlay_.use();
  glActiveTexture(GL_TEXTURE0);
  glBindTexture(GL_TEXTURE_2D, image_.id());
  glActiveTexture(GL_TEXTURE1);
  glBindTexture(GL_TEXTURE_2D, map_.id());
  glActiveTexture(GL_TEXTURE2);
  glBindTexture(GL_TEXTURE_2D, selected_.id());
  glActiveTexture(GL_TEXTURE3);
  glBindTexture(GL_TEXTURE_2D, lut(s.colormap).id());
  glUniform1i(overlay_.uniform("u_image"), 0);
  glUniform1i(overlay_.uniform("u_map"), 1);
  glUniform1i(overlay_.uniform("u_selected"), 2);
  glUniform1i(overlay_.uniform("u_lut"), 3);
  glUniform1i(overlay_.uniform("u_patch"), g.patch);
  glUniform2i(overlay_.uniform("u_grid"), g.cols, g.rows);
  glUniform1f(overlay_.uniform("u_opacity"), s.opacity);
  glUniform1i(overlay_.uniform("u_signed"), s.signed_values ? 1 : 0);
  glUniform1i(overlay_.uniform("u_bilinear"), s.upsample == attn::Upsample::Bilinear);
  glUniform1i(overlay_.uniform("u_grid_lines"), attn::grid_lines_shown(s, g, step));
  glUniform1f(overlay_.uniform("u_step"), step);
  glUniform1i(overlay_.uniform("u_outlines"), s.rings && !outlined.empty());
  glUniform2f(overlay_.uniform("u_origin"), static_cast<float>(region.x0), static_cast<float>(region.y0));
  glUniform1i(overlay_.uniform("u_image_factor"), image_factor_);
  glUniform2i(overlay_.uniform("u_image_size"), scene.image->width, scene.image->height);
  vao_.draw_fullscreen();
  glActiveTexture(GL_TEXTURE0);
  glBindFramebuffer(GL_FRAMEBUFFER, 0);
}

void Renderer::draw_matrix(RenderTarget& target, const std::shared_ptr<const attn::Matrix>& m, std::uint64_t revision,
                           const DisplaySettings& s, const float view[4], int row) {
  if (!m || m->size() == 0) return;
  if (uploaded_matrix_ != revision || uploaded_matrix_scale_ != s.scale) {
    // Each row (one query's distribution) is scaled on its own: with one
    // scale for the whole matrix the bright diagonal hides every other row.
    std::vector<float> scaled;
    scaled.reserve(static_cast<size_t>(m->size()));
    for (Eigen::Index i = 0; i < m->rows(); ++i) {
      const auto line = attn::scale_map(std::span(m->row(i).data(), static_cast<size_t>(m->cols())), s.scale);
      scaled.insert(scaled.end(), line.begin(), line.end());
    }
    matrix_tex_.upload(static_cast<int>(m->cols()), static_cast<int>(m->rows()), GL_R32F, scaled.data());
    uploaded_matrix_ = revision;
    uploaded_matrix_scale_ = s.scale;
  }
  target.bind();
  matrix_.use();
  glActiveTexture(GL_TEXTURE0);
  glBindTexture(GL_TEXTURE_2D, matrix_tex_.id());
  glActiveTexture(GL_TEXTURE1);
  glBindTexture(GL_TEXTURE_2D, lut(s.colormap).id());
  glUniform1i(matrix_.uniform("u_matrix"), 0);
  glUniform1i(matrix_.uniform("u_lut"), 1);
  glUniform4f(matrix_.uniform("u_view"), view[0], view[1], view[2], view[3]);
  glUniform2i(matrix_.uniform("u_size"), static_cast<int>(m->cols()), static_cast<int>(m->rows()));
  glUniform1i(matrix_.uniform("u_row"), row);
  glUniform2f(matrix_.uniform("u_pixels"), static_cast<float>(target.width()), static_cast<float>(target.height()));
  vao_.draw_fullscreen();
  glActiveTexture(GL_TEXTURE0);
  glBindFramebuffer(GL_FRAMEBUFFER, 0);
}

}  // namespace gui
