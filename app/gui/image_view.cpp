// The image view: the image with the attention overlay. Click a patch to
// make it the query, shift-click to add patches (their attention averaged),
// right-drag to hide keys (Ctrl: show them again), wheel to zoom, middle-drag
// to pan, hover for the exact weight.
#include <algorithm>
#include <cmath>
#include <sstream>

#include "panels.hpp"

namespace gui {
namespace {

// A key for everything the overlay's pixels depend on.
std::string overlay_key(const AppState& state, const std::vector<int>& selected, const attn::OverlayRegion& r) {
  const DisplaySettings& d = state.settings.display;
  std::ostringstream k;
  k << state.scene.generation << '/' << state.map_revision << '/' << static_cast<int>(d.colormap) << '/' << d.opacity
    << '/' << static_cast<int>(d.upsample) << '/' << static_cast<int>(d.scale) << '/' << d.grid << '/'
    << d.scale_includes_query << '/' << r.x0 << '/' << r.y0 << '/' << r.width << '/' << r.height << '/' << r.step;
  for (int t : selected) k << ',' << t;
  return k.str();
}

std::string scale_name(const DisplaySettings& d) {
  if (d.scale == attn::MapScale::Fixed) return "weights as they are (0-1)";
  const char* what = d.scale == attn::MapScale::Max ? "scaled to the max" : "scaled min to max";
  return std::string(what) + (d.scale_includes_query ? "" : " outside the query");
}

// The token under a screen position, or -1.
int token_at(const AppState& state, const UiContext& ui, ImVec2 p) {
  if (!state.scene.ready()) return -1;
  const auto& img = *state.scene.image;
  const float fx = (p.x - ui.image_min.x) / (ui.image_max.x - ui.image_min.x) * img.width;
  const float fy = (p.y - ui.image_min.y) / (ui.image_max.y - ui.image_min.y) * img.height;
  if (fx < 0 || fy < 0) return -1;
  const auto& g = state.scene.grid;
  const int c = static_cast<int>(fx) / g.patch, r = static_cast<int>(fy) / g.patch;
  if (c >= g.cols || r >= g.rows) return -1;
  const int t = g.index(c, r);
  return t < state.tokens() ? t : -1;
}

}  // namespace

void draw_image_view(AppState& state, UiContext& ui, const Layout& l) {
  ImGui::PushStyleVar(ImGuiStyleVar_WindowPadding, ImVec2(4, 4));
  begin_panel(ui, "Image", l.image_pos, l.image_size,
              ImGuiWindowFlags_NoScrollbar | ImGuiWindowFlags_NoScrollWithMouse);
  ImGui::PopStyleVar();
  if (!state.scene.ready()) {
    ImGui::TextUnformatted(state.busy_label(0.0).empty() ? "no image" : "loading...");
    ImGui::End();
    return;
  }
  Settings& s = state.settings;
  if (state.scene.words) draw_word_strip(state, ui);
  if (s.compare.on) {
    draw_compare_view(state, ui);
    ImGui::End();
    return;
  }
  const auto selected = state.scene.words ? std::vector<int>{} : state.outlined_queries();
  const attn::OverlayStyle style = [&] {
    attn::OverlayStyle st = state.overlay_style();
    st.rings = false;  // drawn below as rectangles (nine texture reads a fragment saved on the GPU path)
    return st;
  }();

  // Fit the image in the canvas, then apply zoom and pan.
  const ImVec2 canvas_pos = ImGui::GetCursorScreenPos();
  const ImVec2 avail = ImGui::GetContentRegionAvail();
  const auto& img = *state.scene.image;
  const float fit = std::min(avail.x / img.width, avail.y / img.height);
  const float scale = fit * ui.zoom;
  const ImVec2 size(img.width * scale, img.height * scale);
  ImVec2 origin(canvas_pos.x + (avail.x - size.x) * 0.5f - ui.pan.x * scale,
                canvas_pos.y + (avail.y - size.y) * 0.5f - ui.pan.y * scale);
  ui.pan.x = std::clamp(ui.pan.x, -img.width * 0.5f, img.width * 0.5f);
  ui.pan.y = std::clamp(ui.pan.y, -img.height * 0.5f, img.height * 0.5f);
  ui.image_min = origin;
  ui.image_max = ImVec2(origin.x + size.x, origin.y + size.y);

  // The overlay is drawn for the visible part of the image only, at about
  // one fragment per screen pixel: a 2048 x 2048 photo fitted in 900 pixels
  // costs 0.8 million fragments a change, not 4.2 million.
  attn::OverlayRegion region;
  region.step = std::max(1.0f, 1.0f / std::max(scale, 1e-6f));
  region.x0 = std::clamp(static_cast<int>(std::floor((canvas_pos.x - origin.x) / scale)), 0, img.width - 1);
  region.y0 = std::clamp(static_cast<int>(std::floor((canvas_pos.y - origin.y) / scale)), 0, img.height - 1);
  const float x1 = std::clamp((canvas_pos.x + avail.x - origin.x) / scale, 0.0f, static_cast<float>(img.width));
  const float y1 = std::clamp((canvas_pos.y + avail.y - origin.y) / scale, 0.0f, static_cast<float>(img.height));
  region.width = std::max(1, static_cast<int>(std::ceil((x1 - region.x0) / region.step)));
  region.height = std::max(1, static_cast<int>(std::ceil((y1 - region.y0) / region.step)));
  const std::string key = overlay_key(state, selected, region);
  if (key != ui.overlay_key) {
    try {
      ui.renderer.draw_overlay(ui.overlay, state.scene, state.map, selected, style, region);
      ui.overlay_key = key;
    } catch (const std::exception& e) {
      state.post(e.what(), true);
      ui.overlay_key = key;
    }
  }

  ImGui::InvisibleButton(
      "canvas", avail,
      ImGuiButtonFlags_MouseButtonLeft | ImGuiButtonFlags_MouseButtonRight | ImGuiButtonFlags_MouseButtonMiddle);
  const bool hovered = ImGui::IsItemHovered();
  ImDrawList* dl = ImGui::GetWindowDrawList();
  dl->PushClipRect(canvas_pos, ImVec2(canvas_pos.x + avail.x, canvas_pos.y + avail.y), true);
  const ImVec2 shown_min(origin.x + region.x0 * scale, origin.y + region.y0 * scale);
  const ImVec2 shown_max(shown_min.x + region.width * region.step * scale,
                         shown_min.y + region.height * region.step * scale);
  dl->AddImage(imgui_texture(ui.overlay.texture()), shown_min, shown_max);
  // The query patches' rings, as the exported overlay has them: white just
  // inside the patch, black just outside.
  for (int t : selected) {
    const auto& grid = state.scene.grid;
    if (t < 0 || t >= grid.count()) continue;
    const float cell = grid.patch * scale;
    const int col = t % grid.cols, row = t / grid.cols;
    const ImVec2 a(origin.x + static_cast<float>(col) * cell, origin.y + static_cast<float>(row) * cell);
    const ImVec2 b(a.x + cell, a.y + cell);
    const float w = std::clamp(cell * 0.25f, 1.0f, 2.0f);
    dl->AddRect(ImVec2(a.x - 1.0f, a.y - 1.0f), ImVec2(b.x + 1.0f, b.y + 1.0f), IM_COL32(0, 0, 0, 255), 0.0f, 0, 1.0f);
    dl->AddRect(ImVec2(a.x + w * 0.5f, a.y + w * 0.5f), ImVec2(b.x - w * 0.5f, b.y - w * 0.5f),
                IM_COL32(255, 255, 255, 255), 0.0f, 0, w);
  }

  ImGuiIO& io = ImGui::GetIO();
  ui.hovered = hovered ? token_at(state, ui, io.MousePos) : -1;
  const auto& g = state.scene.grid;
  if (hovered) {
    // Zoom about the mouse.
    if (io.MouseWheel != 0.0f) {
      const float old = ui.zoom;
      ui.zoom = std::clamp(ui.zoom * std::pow(1.2f, io.MouseWheel), 1.0f, 64.0f);
      const float mx = (io.MousePos.x - origin.x) / scale, my = (io.MousePos.y - origin.y) / scale;
      ui.pan.x += (mx - img.width * 0.5f - ui.pan.x) * (1.0f - old / ui.zoom);
      ui.pan.y += (my - img.height * 0.5f - ui.pan.y) * (1.0f - old / ui.zoom);
    }
    if (ImGui::IsMouseDragging(ImGuiMouseButton_Middle)) {
      ui.pan.x -= io.MouseDelta.x / scale;
      ui.pan.y -= io.MouseDelta.y / scale;
    }
    if (ui.hovered >= 0 && !state.scene.words && ImGui::IsMouseClicked(ImGuiMouseButton_Left)) {
      state.select(clicked_selection(state.effective_queries(), ui.hovered, io.KeyShift));
    }
    if (ImGui::IsMouseClicked(ImGuiMouseButton_Right)) {
      ui.painting = true;
      ui.paint_hide = !io.KeyCtrl;
    }
  }
  if (!ImGui::IsMouseDown(ImGuiMouseButton_Right)) ui.painting = false;
  if (ui.painting && ui.hovered >= 0) {
    auto& h = s.attention.hidden_keys;
    const auto it = std::find(h.begin(), h.end(), ui.hovered);
    if (ui.paint_hide && it == h.end()) h.push_back(ui.hovered);
    if (!ui.paint_hide && it != h.end()) h.erase(it);
  }

  // Painted (hidden) keys: hatched in grey.
  const float cell = g.patch * scale;
  for (int t : s.attention.hidden_keys) {
    if (t >= state.tokens()) continue;
    const int col = t % g.cols, row = t / g.cols;
    const ImVec2 a(origin.x + static_cast<float>(col) * cell, origin.y + static_cast<float>(row) * cell);
    dl->AddRectFilled(a, ImVec2(a.x + cell, a.y + cell), IM_COL32(40, 40, 40, 170));
    dl->AddLine(a, ImVec2(a.x + cell, a.y + cell), IM_COL32(200, 200, 200, 160), 1.0f);
  }
  if (ui.hovered >= 0) {
    const int t = ui.hovered;
    const int col = t % g.cols, row = t / g.cols;
    const ImVec2 a(origin.x + static_cast<float>(col) * cell, origin.y + static_cast<float>(row) * cell);
    dl->AddRect(a, ImVec2(a.x + cell, a.y + cell), IM_COL32(0, 255, 255, 255), 0.0f, 0, 2.0f);
    const float w = t < static_cast<int>(state.map.size()) ? state.map[static_cast<size_t>(t)] : 0.0f;
    int rank = 1;
    for (int j = 0; j < std::min<int>(state.tokens(), static_cast<int>(state.map.size())); ++j)
      rank += state.map[static_cast<size_t>(j)] > w;
    ImGui::BeginTooltip();
    if (state.scene.words) {  // the raw weights, and which words look here
      const auto at = state.words_at(t);
      const auto words = state.effective_words();
      double mean = 0;
      for (int i : words) mean += at[static_cast<size_t>(i)];
      ImGui::Text("patch (%d, %d), image key %d", t % g.cols, t / g.cols, state.scene.words->keys.offset + t);
      ImGui::Text("weight %.6g  (%s)", words.empty() ? 0.0 : mean / static_cast<double>(words.size()),
                  words.size() > 1 ? "mean of the selected words" : "the selected word");
      ImGui::Text("rank %d of %d", rank, state.tokens());
      ImGui::TextDisabled("the words above are tinted by their weight here");
      ImGui::EndTooltip();
      dl->PopClipRect();
      ImGui::End();
      return;
    }
    ImGui::Text("patch (%d, %d), token %d", t % g.cols, t / g.cols, t);
    ImGui::Text("weight %.6g  (%s)", w,
                s.view.head < 0 ? "all heads" : ("head " + std::to_string(s.view.head)).c_str());
    ImGui::Text("rank %d of %d", rank, state.tokens());
    ImGui::TextDisabled("colours: %s", scale_name(s.display).c_str());
    ImGui::EndTooltip();
  }
  dl->PopClipRect();
  ImGui::End();
}

}  // namespace gui
