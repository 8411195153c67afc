// Heads: a small overlay per head plus the mean; clicking one shows it in
// the image view.
#include <cmath>
#include <sstream>

#include "panels.hpp"

namespace gui {

void draw_heads(AppState& state, UiContext& ui, const Layout& l) {
  begin_panel(ui, "Heads", l.heads_pos, l.heads_size);
  if (!state.scene.ready() || state.head_maps.rows() == 0) {
    ImGui::End();
    return;
  }
  Settings& s = state.settings;
  if (state.scene.vit && s.view.query == attn::ViewQuery::TokenNorms) {
    ImGui::TextWrapped(
        "Token norms belong to the tokens, not to the heads: the image shows them. Pick another view under "
        "\"attention of\" to see each head.");
    ImGui::End();
    return;
  }
  const int heads = state.scene.heads;
  const int count = heads + 1;  // the heads, then the mean
  const float avail = ImGui::GetContentRegionAvail().x;
  const int cols = std::max(1, static_cast<int>(std::ceil(std::sqrt(static_cast<double>(count)))));
  const float cell = std::floor(avail / cols) - ImGui::GetStyle().ItemSpacing.x;
  const auto& img = *state.scene.image;
  const float aspect = static_cast<float>(img.height) / img.width;
  // Thumbnails are overlays drawn at a reduced resolution.
  const int step = std::max(1, static_cast<int>(img.width / std::max(cell, 16.0f)));

  const auto selected = state.outlined_queries();
  std::ostringstream key;
  const DisplaySettings& d = s.display;
  key << state.scene.generation << '/' << state.map_revision << '/' << step << '/' << static_cast<int>(d.colormap)
      << '/' << d.opacity << '/' << static_cast<int>(d.upsample) << '/' << static_cast<int>(d.scale) << '/'
      << d.scale_includes_query;
  for (int t : selected) key << ',' << t;
  if (ui.thumbs.size() != static_cast<size_t>(count)) {
    ui.thumbs.resize(static_cast<size_t>(count));
    ui.thumb_keys.assign(static_cast<size_t>(count), "");
  }
  // One thumbnail a frame is brought up to date, in turn: a change shown
  // every frame (a drag, held arrow keys) costs one small overlay a frame,
  // not all of them in one, and every thumbnail is current `count` frames
  // after the change stops.
  for (int k = 0; k < count; ++k) {
    const int i = (ui.next_thumb + k) % count;
    if (ui.thumb_keys[static_cast<size_t>(i)] == key.str()) continue;
    attn::OverlayStyle thumb = state.overlay_style();
    thumb.grid = false;
    try {
      ui.renderer.draw_overlay(ui.thumbs[static_cast<size_t>(i)], state.scene, state.head_map(i < heads ? i : -1),
                               selected, thumb, {0, 0, static_cast<float>(step)});
    } catch (const std::exception& e) {
      state.post(e.what(), true);
    }
    ui.thumb_keys[static_cast<size_t>(i)] = key.str();
    ui.next_thumb = (i + 1) % count;
    break;
  }
  for (const auto& k : ui.thumb_keys) ui.more_frames = ui.more_frames || k != key.str();
  for (int i = 0; i < count; ++i) {
    const int head = i < heads ? i : -1;
    ImGui::BeginGroup();
    const bool current = s.view.head == head;
    ImGui::PushID(i);
    ImGui::PushStyleColor(ImGuiCol_Button,
                          current ? ImGui::GetStyle().Colors[ImGuiCol_ButtonActive] : ImVec4(0, 0, 0, 0));
    if (ImGui::ImageButton(imgui_texture(ui.thumbs[static_cast<size_t>(i)].texture()),
                           ImVec2(cell - 6, (cell - 6) * aspect), ImVec2(0, 0), ImVec2(1, 1), 3))
      s.view.head = head;
    ImGui::PopStyleColor();
    ImGui::PopID();
    const bool vit = state.scene.vit != nullptr;
    if (ImGui::IsItemHovered())
      ImGui::SetTooltip("Show %s in the image view", head < 0 ? (vit ? "all heads combined" : "the mean of all heads")
                                                              : ("head " + std::to_string(head)).c_str());
    ImGui::Text("%s%s", head < 0 ? (vit ? "all" : "mean") : ("head " + std::to_string(head)).c_str(),
                current ? "  (shown)" : "");
    ImGui::EndGroup();
    if ((i + 1) % cols != 0 && i + 1 < count) ImGui::SameLine();
  }
  ImGui::End();
}

}  // namespace gui
