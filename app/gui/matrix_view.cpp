// The whole N x N attention matrix of the shown head: one float texture,
// colour-mapped by a shader, each row scaled on its own; hover for exact
// weights, wheel to zoom, click a row to make it the query.
#include <algorithm>
#include <cmath>

#include "panels.hpp"

namespace gui {

void draw_matrix(AppState& state, UiContext& ui) {
  if (!state.matrix) {
    ImGui::TextWrapped("%s", state.busy_label(0.0).empty() ? "The full matrix is not available (see the status bar)."
                                                           : "Computing the full matrix...");
    return;
  }
  const attn::Matrix& m = *state.matrix;
  const ImVec2 avail = ImGui::GetContentRegionAvail();
  const float side = std::max(32.0f, std::min(avail.x, avail.y - ImGui::GetTextLineHeightWithSpacing() * 2));
  float* v = ui.matrix_view;
  ui.matrix.resize(static_cast<int>(side), static_cast<int>(side));
  // The outlined row: the query's token (a ViT's class token unless it shows a patch's attention).
  int q = state.primary_query();
  if (state.scene.words)
    q = state.effective_words().front();
  else if (state.scene.vit)
    q = state.settings.view.query == attn::ViewQuery::Patches ? state.scene.tokens.token_at_cell(q)
                                                              : state.scene.tokens.first_of(attn::TokenKind::Class);
  ui.renderer.draw_matrix(ui.matrix, state.matrix, state.matrix_revision, state.settings.display, v, q);
  const ImVec2 p = ImGui::GetCursorScreenPos();
  ImGui::Image(imgui_texture(ui.matrix.texture()), ImVec2(side, side));
  ImGuiIO& io = ImGui::GetIO();
  if (ImGui::IsItemHovered()) {
    const float fx = (io.MousePos.x - p.x) / side, fy = (io.MousePos.y - p.y) / side;
    const float ux = v[0] + (v[2] - v[0]) * fx, uy = v[1] + (v[3] - v[1]) * fy;
    const int j = std::clamp(static_cast<int>(ux * m.cols()), 0, static_cast<int>(m.cols()) - 1);
    const int i = std::clamp(static_cast<int>(uy * m.rows()), 0, static_cast<int>(m.rows()) - 1);
    ImGui::SetTooltip("query %d -> key %d\nweight %.6f", i, j, m(i, j));
    if (io.MouseWheel != 0.0f) {  // zoom about the mouse
      const float k = std::pow(0.8f, io.MouseWheel);
      const float w =
          std::clamp((v[2] - v[0]) * k, 1.0f / std::max<float>(static_cast<float>(m.cols()), 1.0f) * 8, 1.0f);
      const float x0 = std::clamp(ux - fx * w, 0.0f, 1.0f - w), y0 = std::clamp(uy - fy * w, 0.0f, 1.0f - w);
      v[0] = x0, v[1] = y0, v[2] = x0 + w, v[3] = y0 + w;
    }
    if (ImGui::IsMouseClicked(ImGuiMouseButton_Left)) {
      const attn::Token* t = i < state.scene.tokens.size() ? &state.scene.tokens[i] : nullptr;
      if (state.scene.words)
        state.select_words({i});
      else if (t && t->kind == attn::TokenKind::Patch)
        state.select({t->cell});
    }
    if (ImGui::IsMouseDragging(ImGuiMouseButton_Middle)) {
      const float w = v[2] - v[0];
      const float dx = -io.MouseDelta.x / side * w, dy = -io.MouseDelta.y / side * w;
      const float x0 = std::clamp(v[0] + dx, 0.0f, 1.0f - w), y0 = std::clamp(v[1] + dy, 0.0f, 1.0f - w);
      v[0] = x0, v[1] = y0, v[2] = x0 + w, v[3] = y0 + w;
    }
  }
  ImGui::TextWrapped(
      "%lld queries (rows) x %lld keys (columns)%s, %s; each row scaled on its own; the outlined row is the query",
      static_cast<long long>(m.rows()), static_cast<long long>(m.cols()),
      state.scene.words ? " (words as rows; every key the file holds as columns, the image's among them)"
      : state.scene.vit ? " (class token first, then patches, then registers)"
                        : "",
      state.settings.view.head < 0 ? "heads combined" : ("head " + std::to_string(state.settings.view.head)).c_str());
  ImGui::SameLine();
  if (ImGui::SmallButton("fit")) v[0] = v[1] = 0, v[2] = v[3] = 1;
}

}  // namespace gui
