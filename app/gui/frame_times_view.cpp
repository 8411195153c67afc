// F3: the last 120 frames' times and the latest change-to-heatmap delay.
#include <algorithm>

#include "panels.hpp"

namespace gui {

void draw_frame_stats(UiContext& ui, const Layout& l) {
  if (!ui.show_frame_stats) return;
  const float w = ImGui::CalcTextSize("last change -> heatmap: 000.0 ms, 00 frames").x +
                  2.0f * ImGui::GetStyle().WindowPadding.x + 8.0f;
  ImGui::SetNextWindowPos(ImVec2(l.image_pos.x + l.image_size.x - w - 8.0f, l.image_pos.y + 28.0f), ImGuiCond_Always);
  ImGui::SetNextWindowSize(ImVec2(w, 0.0f), ImGuiCond_Always);
  ImGui::SetNextWindowBgAlpha(0.85f);
  ImGui::Begin("Frame times (F3)", &ui.show_frame_stats,
               ImGuiWindowFlags_NoMove | ImGuiWindowFlags_NoResize | ImGuiWindowFlags_NoCollapse |
                   ImGuiWindowFlags_NoSavedSettings);
  record_window(ui, "Frame times");
  const std::vector<float> t = ui.frame_stats.recent();
  const std::vector<double> d(t.begin(), t.end());
  const float top = std::max(33.3f, t.empty() ? 0.0f : *std::max_element(t.begin(), t.end()));
  ImGui::PlotLines("##frames", t.data(), static_cast<int>(t.size()), 0, nullptr, 0.0f, top,
                   ImVec2(ImGui::GetContentRegionAvail().x, 60.0f * ImGui::GetIO().FontGlobalScale));
  ImGui::Text("last %zu frames (0 - %.0f ms):", t.size(), top);
  ImGui::Text("median %.1f ms, p99 %.1f ms", FrameStats::median(d), FrameStats::p99(d));
  if (ui.frame_stats.last_latency_ms)
    ImGui::Text("last change -> heatmap: %.1f ms, %d frame%s", *ui.frame_stats.last_latency_ms,
                ui.frame_stats.last_latency_frames, ui.frame_stats.last_latency_frames == 1 ? "" : "s");
  else
    ImGui::TextUnformatted("change -> heatmap: (change something)");
  ImGui::End();
}

}  // namespace gui
