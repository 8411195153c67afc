// Where the tiled panels go, and the helpers every panel uses.
#include <algorithm>
#include <cfloat>

#include "panels.hpp"

namespace gui {

void tooltip(const char* text) {
  if (ImGui::IsItemHovered(ImGuiHoveredFlags_AllowWhenDisabled)) {
    ImGui::BeginTooltip();
    ImGui::PushTextWrapPos(ImGui::GetFontSize() * 24.0f);
    ImGui::TextUnformatted(text);
    ImGui::PopTextWrapPos();
    ImGui::EndTooltip();
  }
}

void label(const char* text) {
  ImGui::TextUnformatted(text);
  ImGui::SetNextItemWidth(-FLT_MIN);
}

std::vector<int> clicked_selection(std::vector<int> selected, int item, bool shift) {
  if (!shift) return {item};
  const auto it = std::find(selected.begin(), selected.end(), item);
  if (it == selected.end())
    selected.push_back(item);
  else if (selected.size() > 1)
    selected.erase(it);
  return selected;
}

void colour_ramp(ImDrawList* dl, attn::Colormap map, ImVec2 p, float w, float h) {
  const auto& table = attn::colormap_table(map);
  for (int i = 0; i < 64; ++i) {
    const attn::Rgb c = table[static_cast<size_t>(i * 255 / 63)];
    dl->AddRectFilled(ImVec2(p.x + w * i / 64.0f, p.y), ImVec2(p.x + w * (i + 1) / 64.0f + 1, p.y + h),
                      IM_COL32(c.r, c.g, c.b, 255));
  }
}

void section(const char* title) {
  ImGui::Spacing();
  ImGui::TextColored(ImGui::GetStyle().Colors[ImGuiCol_PlotHistogram], "%s", title);
  ImGui::Separator();
}

void record_window(UiContext& ui, const char* name) {
  const ImVec2 p = ImGui::GetWindowPos(), s = ImGui::GetWindowSize();
  ui.window_rects[name] = {p.x, p.y, s.x, s.y};
}

void begin_panel(UiContext& ui, const char* name, ImVec2 pos, ImVec2 size, ImGuiWindowFlags extra) {
  ImGui::SetNextWindowPos(pos);
  ImGui::SetNextWindowSize(size);
  ImGui::Begin(name, nullptr,
               ImGuiWindowFlags_NoMove | ImGuiWindowFlags_NoResize | ImGuiWindowFlags_NoCollapse |
                   ImGuiWindowFlags_NoBackground | extra);
  const float border = ImGui::GetStyle().WindowBorderSize;
  if (border > 0.0f) {
    const ImVec2 p = ImGui::GetWindowPos(), s = ImGui::GetWindowSize();
    ImGui::PushClipRect(p, ImVec2(p.x + s.x, p.y + s.y), false);
    ImGui::GetWindowDrawList()->AddRect(p, ImVec2(p.x + s.x, p.y + s.y), ImGui::GetColorU32(ImGuiCol_Border), 0.0f, 0,
                                        border);
    ImGui::PopClipRect();
  }
  record_window(ui, name);
}

Layout compute_layout(const WindowSettings& w, ImVec2 d, float menu) {
  Layout l;
  const float f = ImGui::GetFontSize();
  const float status = ImGui::GetFrameHeightWithSpacing() + ImGui::GetStyle().WindowPadding.y;
  const float top = menu, bottom = d.y - status;
  l.controls = w.show_controls && !w.presentation;
  const float left = l.controls ? std::min(f * 17.0f, d.x * 0.25f) : 0.0f;
  const bool right_column = w.show_heads || w.show_steps;
  // Presenting, the side column keeps under a third of the width whatever
  // the UI scale, and the picture gets the rest.
  const float right = !right_column    ? 0.0f
                      : w.presentation ? std::min(f * 24.0f, d.x * 0.28f)
                                       : std::min(f * 30.0f, d.x * 0.34f);
  l.controls_pos = ImVec2(0, top);
  l.controls_size = ImVec2(left, bottom - top);
  l.image_pos = ImVec2(left, top);
  l.image_size = ImVec2(d.x - left - right, bottom - top);
  const float split = w.show_heads && w.show_steps ? top + (bottom - top) * 0.42f : (w.show_heads ? bottom : top);
  l.heads_pos = ImVec2(d.x - right, top);
  l.heads_size = ImVec2(right, split - top);
  l.details_pos = ImVec2(d.x - right, split);
  l.details_size = ImVec2(right, bottom - split);
  l.status_pos = ImVec2(0, bottom);
  l.status_size = ImVec2(d.x, d.y - bottom);
  return l;
}

}  // namespace gui
