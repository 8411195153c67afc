// epoxy before GLFW, so GLFW does not pull in a GL header of its own (the
// blank line keeps include sorting from swapping them).
#include <epoxy/gl.h>

#include <GLFW/glfw3.h>

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "core/error.hpp"
#include "core/io.hpp"
#include "panels.hpp"
#include "scripted_run.hpp"

namespace gui {
namespace {

void write_text(const std::string& path, const std::string& text) {
  attn::write_file_atomic(path, std::span(reinterpret_cast<const std::uint8_t*>(text.data()), text.size()));
}

std::string state_json(const AppState& state, const UiContext& ui, int frame) {
  nlohmann::json j;
  j["settings"] = nlohmann::json::parse(to_json(state.settings));
  j["frame"] = frame;
  j["tokens"] = state.tokens();
  j["frame_times_ms"] = ui.frame_stats.recent();
  if (const ImDrawData* d = ImGui::GetDrawData())  // the last frame's ImGui geometry
    j["draw"] = {{"vertices", d->TotalVtxCount}, {"indices", d->TotalIdxCount}, {"lists", d->CmdListsCount}};
  if (ui.frame_stats.last_latency_ms)
    j["change_to_heatmap"] = {{"ms", *ui.frame_stats.last_latency_ms}, {"frames", ui.frame_stats.last_latency_frames}};
  if (state.scene.ready()) {
    const auto& g = state.scene.grid;
    j["grid"] = {{"cols", g.cols}, {"rows", g.rows}, {"patch", g.patch}};
    j["heads"] = state.scene.heads;
    j["image_size"] = {state.scene.image->width, state.scene.image->height};
  }
  j["primary_query"] = state.primary_query();
  j["restore_offered"] = ui.restore_offered;
  j["busy"] = state.busy_label(0.0);
  j["queries"] = state.effective_queries();
  j["words"] = state.effective_words();
  if (state.scene.words) j["word_list"] = state.scene.words->words;
  j["word_rects"] = ui.word_rects;
  j["image_rect"] = {ui.image_min.x, ui.image_min.y, ui.image_max.x, ui.image_max.y};
  j["hovered"] = ui.hovered;
  j["failed_at_start"] = state.failed_at_start();
  for (const auto& [name, r] : ui.window_rects) j["windows"][name] = r;
  j["messages"] = nlohmann::json::array();
  for (const auto& m : state.messages) j["messages"].push_back({{"text", m.text}, {"error", m.error}});
  const WorkCounts& w = state.work;
  j["work"] = {{"scenes_adopted", w.scenes_adopted}, {"scenes_failed", w.scenes_failed},
               {"rows_computed", w.rows_computed},   {"rows_renormalised", w.rows_renormalised},
               {"maps_combined", w.maps_combined},   {"vit_maps", w.vit_maps}};
  return j.dump(2) + "\n";
}

bool save_screenshot(GLFWwindow* window, const std::string& path, AppState& state) {
  int w = 0, h = 0;
  glfwGetFramebufferSize(window, &w, &h);
  std::vector<std::uint8_t> pixels(static_cast<size_t>(w) * h * 4);
  glBindFramebuffer(GL_FRAMEBUFFER, 0);
  glReadBuffer(GL_BACK);
  glPixelStorei(GL_PACK_ALIGNMENT, 1);
  glReadPixels(0, 0, w, h, GL_RGBA, GL_UNSIGNED_BYTE, pixels.data());
  attn::Image img = attn::Image::blank(w, h);
  for (int y = 0; y < h; ++y)  // GL's row 0 is the bottom one
    std::copy_n(&pixels[static_cast<size_t>(h - 1 - y) * w * 4], static_cast<size_t>(w) * 4, img.pixel(0, y));
  for (size_t i = 3; i < img.rgba.size(); i += 4) img.rgba[i] = 255;
  try {
    attn::save_png(path, img);
    return true;
  } catch (const attn::Error& e) {
    state.post(e.what(), true);
    std::fprintf(stderr, "attnscope: %s\n", e.what());
    return false;
  }
}

bool ends_with_csv(const std::string& p) { return p.size() > 4 && p.compare(p.size() - 4, 4, ".csv") == 0; }

}  // namespace

void ScriptedRun::before_update(AppState& state, UiContext& ui, int frame) {
  if (frame == opt_.drop_frame)
    for (const auto& d : opt_.drops) ui.dropped.push_back(d);
  if (benching(state) && !frame_ms_.empty()) {
    // First half: the query walks the grid (a click each frame); second
    // half: the temperature sweeps 0.05 -> 20 on a log scale (a drag).
    const int i = static_cast<int>(frame_ms_.size()), half = opt_.bench_frames / 2;
    if (i < half)
      state.settings.selection.queries = {(i * 37) % state.tokens()};
    else
      state.settings.attention.temperature =
          0.05 * std::pow(400.0, (i - half) / std::max(1.0, opt_.bench_frames - half - 1.0));
  }
}

bool ScriptedRun::after_update(AppState& state) {
  if (!opt_.query || !state.scene.ready()) return false;
  const auto& g = state.scene.grid;
  const auto [c, r] = *opt_.query;
  if (c < g.cols && r < g.rows && g.index(c, r) < state.tokens())
    state.settings.selection.queries = {g.index(c, r)};
  else
    state.post("--query " + std::to_string(c) + "," + std::to_string(r) + " is outside the " + std::to_string(g.cols) +
                   "x" + std::to_string(g.rows) + " grid",
               true);
  opt_.query.reset();
  return true;
}

void ScriptedRun::place_pointer(const AppState& state, const UiContext& ui) const {
  if (!opt_.scripted()) return;
  ImGuiIO& io = ImGui::GetIO();
  io.MousePos = ImVec2(-FLT_MAX, -FLT_MAX);
  for (bool& down : io.MouseDown) down = false;
  if (!opt_.hover || !state.scene.ready() || ui.image_max.x <= ui.image_min.x) return;
  // The patch's centre, where the image view drew it last frame.
  const auto& g = state.scene.grid;
  const auto [c, r] = *opt_.hover;
  const float sx = (ui.image_max.x - ui.image_min.x) / static_cast<float>(state.scene.image->width);
  const float sy = (ui.image_max.y - ui.image_min.y) / static_cast<float>(state.scene.image->height);
  io.MousePos = ImVec2(ui.image_min.x + (static_cast<float>(c) + 0.5f) * static_cast<float>(g.patch) * sx,
                       ui.image_min.y + (static_cast<float>(r) + 0.5f) * static_cast<float>(g.patch) * sy);
}

void ScriptedRun::after_draw(GLFWwindow* window, AppState& state, UiContext& ui, int frame, double now) {
  const bool ready = state.scene.ready() && !state.busy() && !ui.more_frames;
  ready_frames_ = ready ? ready_frames_ + 1 : 0;
  if (ready && !dumped_ && !opt_.dump_state.empty()) {
    write_text(opt_.dump_state, state_json(state, ui, frame));
    dumped_ = true;
  }
  if (opt_.scripted() && opt_.bench_frames == 0 && ready_frames_ >= opt_.frames) {
    // Each export posts a message; an error one fails the run (exit 3). So
    // does a file named on the command line that could not be opened: the
    // screenshot then shows the sample with the error.
    auto failed = [&] { return !state.messages.empty() && state.messages.back().error; };
    if (!opt_.export_overlay.empty()) export_overlay(state, ui, opt_.export_overlay), exit_code_ |= failed() ? 3 : 0;
    if (!opt_.export_weights.empty()) {
      export_weights(state, opt_.export_weights, ends_with_csv(opt_.export_weights));
      exit_code_ |= failed() ? 3 : 0;
    }
    if (!opt_.export_sheet.empty()) export_sheet(state, opt_.export_sheet), exit_code_ |= failed() ? 3 : 0;
    if (!opt_.export_words.empty()) export_words_grid(state, opt_.export_words), exit_code_ |= failed() ? 3 : 0;
    if (!opt_.export_compare.empty()) export_comparison(state, opt_.export_compare), exit_code_ |= failed() ? 3 : 0;
    if (!opt_.save_session.empty()) {
      try {
        save_settings(opt_.save_session, state.settings);
      } catch (const attn::Error& e) {
        state.post(e.what(), true);
        exit_code_ = 3;
      }
    }
    if (!opt_.screenshot.empty() && !save_screenshot(window, opt_.screenshot, state)) exit_code_ = 3;
    if (state.failed_at_start()) exit_code_ = 3;
    for (const auto& msg : state.messages)
      if (msg.error) std::fprintf(stderr, "attnscope: %s\n", msg.text.c_str());
    ui.quit = true;
  }
  if (opt_.scripted() && now > 120.0) {
    std::fprintf(stderr, "attnscope: gave up waiting for the first picture after 120 s\n");
    exit_code_ = 1;
    ui.quit = true;
  }
}

void ScriptedRun::frame_timed(AppState& state, UiContext& ui, double ms, int width, int height) {
  frame_ms_.push_back(ms);
  if (static_cast<int>(frame_ms_.size()) <= opt_.bench_frames) return;
  frame_ms_.erase(frame_ms_.begin());  // the first frame only set things up
  auto report = [&](const char* what, std::vector<double> v) {
    std::printf("%s: %zu frames, median %.2f ms, p99 %.2f ms, max %.2f ms\n", what, v.size(), FrameStats::median(v),
                FrameStats::p99(v), *std::max_element(v.begin(), v.end()));
  };
  const auto mid = frame_ms_.begin() + static_cast<long>(frame_ms_.size() / 2);
  std::printf("attnscope --bench-frames: %d tokens, %d heads, %dx%d window\n", state.tokens(), state.scene.heads, width,
              height);
  report("query sweep", std::vector<double>(frame_ms_.begin(), mid));
  report("temperature sweep", std::vector<double>(mid, frame_ms_.end()));
  const auto& st = ui.frame_stats;
  if (!st.latencies_ms.empty())
    std::printf("change -> heatmap: %zu changes, median %.2f ms, p99 %.2f ms, at most %d frame(s)\n",
                st.latencies_ms.size(), FrameStats::median(st.latencies_ms), FrameStats::p99(st.latencies_ms),
                *std::max_element(st.latency_frames.begin(), st.latency_frames.end()));
  ui.quit = true;
}

void ScriptedRun::at_exit(const AppState& state, const UiContext& ui, int frame) const {
  if (!opt_.dump_state.empty()) write_text(opt_.dump_state, state_json(state, ui, frame));
}

}  // namespace gui
