// attnscope: the desktop app. Owns the window, the GL context, the AppState
// and the UI context; runs the frame loop, which lists the panels.
// Error boundary: bad command lines exit 2 or 3 like the CLI; no display or
// no usable OpenGL exits 1 with one line; everything after start-up is
// reported in the window and never ends the program.
// epoxy before GLFW, so GLFW does not pull in a GL header of its own (the
// blank line keeps include sorting from swapping them).
#include <epoxy/gl.h>

#include <GLFW/glfw3.h>
#include <backends/imgui_impl_glfw.h>
#include <backends/imgui_impl_opengl3.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <thread>

#include "common/args.hpp"
#include "core/error.hpp"
#include "core/io.hpp"
#include "options.hpp"
#include "theme.hpp"
#include "ui.hpp"

namespace {

std::string g_glfw_error;

void write_text(const std::string& path, const std::string& text) {
  attn::write_file_atomic(path, std::span(reinterpret_cast<const std::uint8_t*>(text.data()), text.size()));
}

std::string state_json(const gui::AppState& state, const gui::UiContext& ui, int frame) {
  nlohmann::json j;
  j["settings"] = nlohmann::json::parse(gui::to_json(state.settings));
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
  j["image_rect"] = {ui.image_min.x, ui.image_min.y, ui.image_max.x, ui.image_max.y};
  for (const auto& [name, r] : ui.window_rects) j["windows"][name] = r;
  j["messages"] = nlohmann::json::array();
  for (const auto& m : state.messages) j["messages"].push_back({{"text", m.text}, {"error", m.error}});
  return j.dump(2) + "\n";
}

bool save_screenshot(GLFWwindow* window, const std::string& path, gui::AppState& state) {
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

}  // namespace

int main(int argc, char** argv) {
  // Settings: the saved ones, then the command line on top.
  gui::Settings base;
  std::string settings_error;
  const std::string settings_path = gui::config_dir() + "/settings.json";
  if (!gui::wants_no_persist(argc, argv) && std::filesystem::exists(settings_path)) {
    try {
      base = gui::load_settings(settings_path);
    } catch (const attn::Error& e) {
      settings_error = std::string(e.what()) + " (using defaults)";
    }
  }
  gui::Options opt;
  try {
    opt = gui::parse_options(argc, argv, base);
  } catch (const app::UsageError& e) {
    std::fprintf(stderr, "attnscope: %s (see 'attnscope --help')\n", e.what());
    return 2;
  } catch (const attn::Error& e) {
    std::fprintf(stderr, "attnscope: %s\n", e.what());
    return 3;
  }
  if (opt.help) return std::fputs(gui::kUsage, stdout), 0;
  if (opt.version) return std::printf("attnscope %s\n", ATTNSCOPE_VERSION), 0;

  glfwSetErrorCallback([](int, const char* text) { g_glfw_error = text ? text : ""; });
  if (!glfwInit()) {
    std::fprintf(stderr, "attnscope: cannot open a window: %s; for headless use, run attnscope-cli\n",
                 g_glfw_error.empty() ? "no display" : g_glfw_error.c_str());
    return 1;
  }
  glfwWindowHint(GLFW_CONTEXT_VERSION_MAJOR, 3);
  glfwWindowHint(GLFW_CONTEXT_VERSION_MINOR, 3);
  glfwWindowHint(GLFW_OPENGL_PROFILE, GLFW_OPENGL_CORE_PROFILE);
  glfwWindowHint(GLFW_OPENGL_FORWARD_COMPAT, GLFW_TRUE);
  GLFWwindow* window =
      glfwCreateWindow(opt.settings.window_width, opt.settings.window_height, "attnscope", nullptr, nullptr);
  if (!window) {
    std::fprintf(stderr, "attnscope: no usable OpenGL 3.3: %s; for headless use, run attnscope-cli\n",
                 g_glfw_error.c_str());
    glfwTerminate();
    return 1;
  }
  glfwMakeContextCurrent(window);
  glfwSwapInterval(1);

  gui::AppState state(opt.settings);
  gui::UiContext ui;
  if (!settings_error.empty()) state.post(settings_error, true);
  // Autosave: a run that ends without a clean exit (a crash, a kill) leaves
  // autosave.json behind; the next run offers it back.
  const std::string autosave_path = gui::config_dir() + "/autosave.json";
  std::string autosaved_json;
  double last_autosave = 0.0;
  if (opt.persist && std::filesystem::exists(autosave_path)) {
    try {
      ui.restore_offer = gui::load_settings(autosave_path, state.settings);
      ui.restore_offered = true;
    } catch (const attn::Error& e) {
      state.post(std::string(e.what()) + " (the autosaved session is not usable)", true);
    }
  }
  try {
    ui.renderer.init();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "attnscope: no usable OpenGL: %s; for headless use, run attnscope-cli\n", e.what());
    glfwDestroyWindow(window);
    glfwTerminate();
    return 1;
  }

  IMGUI_CHECKVERSION();
  ImGui::CreateContext();
  ImGui::GetIO().IniFilename = nullptr;  // the layout is computed; settings persist in settings.json
  ImGui_ImplGlfw_InitForOpenGL(window, true);
  ImGui_ImplOpenGL3_Init("#version 330 core");
  if (!gui::apply_theme(state.settings.ui_scale, state.settings.light_theme))
    state.post("DejaVu Sans not found (install fonts-dejavu-core); using ImGui's built-in font", true);

  glfwSetWindowUserPointer(window, &ui);
  // Our key callback replaces the one ImGui installed and forwards to it.
  glfwSetKeyCallback(window, [](GLFWwindow* w, int key, int scancode, int action, int mods) {
    ImGui_ImplGlfw_KeyCallback(w, key, scancode, action, mods);
    if (action != GLFW_RELEASE) static_cast<gui::UiContext*>(glfwGetWindowUserPointer(w))->keys.emplace_back(key, mods);
  });
  glfwSetDropCallback(window, [](GLFWwindow* w, int count, const char** paths) {
    auto* u = static_cast<gui::UiContext*>(glfwGetWindowUserPointer(w));
    for (int i = 0; i < count; ++i) u->dropped.emplace_back(paths[i]);
  });
  int windowed[4] = {0, 0, opt.settings.window_width, opt.settings.window_height};
  if (opt.fullscreen) ui.toggle_fullscreen = true;
  ui.show_frame_stats = opt.frame_times;

  const auto start = std::chrono::steady_clock::now();
  int frame = 0, ready_frames = 0, exit_code = 0;
  bool dumped = false;
  float menu_height = 0.0f;
  std::vector<double> frame_ms;  // --bench-frames: each frame's time, GPU work included
  while (!glfwWindowShouldClose(window) && !ui.quit) {
    const bool scripted = opt.scripted();
    const bool more_frames = std::exchange(ui.more_frames, false);  // the panels set it again if still so
    if (scripted || more_frames || !state.busy_label(0.0).empty())
      glfwPollEvents();
    else
      glfwWaitEventsTimeout(0.1);                               // idle: no busy loop
    const auto frame_start = std::chrono::steady_clock::now();  // the frame's work starts here
    ++frame;
    const double now = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

    if (frame == opt.drop_frame)
      for (const auto& d : opt.drops) ui.dropped.push_back(d);
    for (const auto& path : std::exchange(ui.dropped, {})) state.open_file(path);
    const bool benching = opt.bench_frames > 0 && state.scene.ready() && state.busy_label(0.0).empty();
    if (benching && !frame_ms.empty()) {
      // First half: the query walks the grid (a click each frame); second
      // half: the temperature sweeps 0.05 -> 20 on a log scale (a drag).
      const int i = static_cast<int>(frame_ms.size()), half = opt.bench_frames / 2;
      if (i < half)
        state.settings.queries = {(i * 37) % state.tokens()};
      else
        state.settings.temperature = 0.05 * std::pow(400.0, (i - half) / std::max(1.0, opt.bench_frames - half - 1.0));
    }
    ui.frame_stats.note_settings(state.settings, state.map_revision, now);  // a scripted or dropped change
    state.update(now);
    if (opt.query && state.scene.ready()) {
      const auto& g = state.scene.grid;
      const auto [c, r] = *opt.query;
      if (c < g.cols && r < g.rows && g.index(c, r) < state.tokens())
        state.settings.queries = {g.index(c, r)};
      else
        state.post("--query " + std::to_string(c) + "," + std::to_string(r) + " is outside the " +
                       std::to_string(g.cols) + "x" + std::to_string(g.rows) + " grid",
                   true);
      opt.query.reset();
      state.update(now);
    }
    if (ui.fonts_dirty) {
      gui::apply_theme(state.settings.ui_scale, state.settings.light_theme);
      ui.fonts_dirty = false;
      ui.thumb_keys.assign(ui.thumb_keys.size(), "");
    }

    ImGui_ImplOpenGL3_NewFrame();
    ImGui_ImplGlfw_NewFrame();
    ImGui::NewFrame();
    gui::draw_menu(state, ui, &menu_height);
    const gui::Layout layout = gui::compute_layout(state.settings, ImGui::GetIO().DisplaySize, menu_height);
    if (state.settings.show_controls) gui::draw_controls(state, ui, layout);
    gui::draw_image_view(state, ui, layout);
    if (state.settings.show_heads) gui::draw_heads(state, ui, layout);
    if (state.settings.show_steps) gui::draw_lower(state, ui, layout);
    gui::draw_status(state, ui, layout);
    gui::draw_help(state, ui);
    gui::draw_file_dialog(state, ui);
    gui::draw_restore_prompt(state, ui);
    gui::draw_frame_stats(ui, layout);
    gui::handle_shortcuts(state, ui);
    ImGui::Render();

    int fw = 0, fh = 0;
    glfwGetFramebufferSize(window, &fw, &fh);
    glBindFramebuffer(GL_FRAMEBUFFER, 0);
    glViewport(0, 0, fw, fh);
    // The window background's colour: the image view draws none of its own
    // (a software renderer blends every pixel of a drawn background).
    const ImVec4 bg = ImGui::GetStyle().Colors[ImGuiCol_WindowBg];
    glClearColor(bg.x, bg.y, bg.z, 1.0f);
    glClear(GL_COLOR_BUFFER_BIT);
    ImGui_ImplOpenGL3_RenderDrawData(ImGui::GetDrawData());

    const bool ready = state.scene.ready() && state.busy_label(0.0).empty() && !ui.more_frames;
    ready_frames = ready ? ready_frames + 1 : 0;
    if (ready && !dumped && !opt.dump_state.empty()) {
      write_text(opt.dump_state, state_json(state, ui, frame));
      dumped = true;
    }
    if (ready_frames >= opt.frames && scripted && opt.bench_frames == 0) {
      // Each export posts a message; an error one fails the run (exit 3).
      auto failed = [&] { return !state.messages.empty() && state.messages.back().error; };
      if (!opt.export_overlay.empty())
        gui::export_overlay(state, ui, opt.export_overlay), exit_code |= failed() ? 3 : 0;
      if (!opt.export_weights.empty()) {
        const auto& p = opt.export_weights;
        gui::export_weights(state, p, p.size() > 4 && p.compare(p.size() - 4, 4, ".csv") == 0);
        exit_code |= failed() ? 3 : 0;
      }
      if (!opt.export_sheet.empty()) gui::export_sheet(state, opt.export_sheet), exit_code |= failed() ? 3 : 0;
      if (!opt.save_session.empty()) {
        try {
          gui::save_settings(opt.save_session, state.settings);
        } catch (const attn::Error& e) {
          state.post(e.what(), true);
          exit_code = 3;
        }
      }
      for (const auto& msg : state.messages)
        if (msg.error) std::fprintf(stderr, "attnscope: %s\n", msg.text.c_str());
      ui.quit = true;
      if (!opt.screenshot.empty()) {
        if (!save_screenshot(window, opt.screenshot, state)) exit_code = 3;
        ui.quit = true;
      }
    }
    if (scripted && now > 120.0) {
      std::fprintf(stderr, "attnscope: gave up waiting for the first picture after 120 s\n");
      exit_code = 1;
      ui.quit = true;
    }
    glfwSwapBuffers(window);
    if (opt.persist && !ui.restore_offer && now - last_autosave > 1.0) {
      last_autosave = now;
      const std::string json = gui::to_json(state.settings);
      if (json != autosaved_json) {
        try {
          std::filesystem::create_directories(gui::config_dir());
          write_text(autosave_path, json);
          autosaved_json = json;
        } catch (const std::exception& e) {
          state.post(std::string("cannot autosave: ") + e.what(), true);
          last_autosave = now + 60.0;  // do not repeat the message every second
        }
      }
    }
    if (benching) glFinish();
    {
      const auto drawn = std::chrono::steady_clock::now();
      const double t_drawn = std::chrono::duration<double>(drawn - start).count();
      ui.frame_stats.frame_done(std::chrono::duration<double, std::milli>(drawn - frame_start).count());
      ui.frame_stats.note_drawn(state.map_revision, state.busy_label(0.0).empty(), t_drawn);
      ui.frame_stats.note_settings(state.settings, state.map_revision, t_drawn);  // the user's change this frame
    }
    if (benching) {
      frame_ms.push_back(
          std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - frame_start).count());
      if (static_cast<int>(frame_ms.size()) > opt.bench_frames) {
        frame_ms.erase(frame_ms.begin());  // the first frame only set things up
        auto report = [&](const char* what, const std::vector<double>& v) {
          std::printf("%s: %zu frames, median %.2f ms, p99 %.2f ms, max %.2f ms\n", what, v.size(),
                      gui::FrameStats::median(v), gui::FrameStats::p99(v), *std::max_element(v.begin(), v.end()));
        };
        const auto mid = frame_ms.begin() + static_cast<long>(frame_ms.size() / 2);
        std::printf("attnscope --bench-frames: %d tokens, %d heads, %dx%d window\n", state.tokens(), state.scene.heads,
                    fw, fh);
        report("query sweep", std::vector<double>(frame_ms.begin(), mid));
        report("temperature sweep", std::vector<double>(mid, frame_ms.end()));
        const auto& st = ui.frame_stats;
        if (!st.latencies_ms.empty())
          std::printf("change -> heatmap: %zu changes, median %.2f ms, p99 %.2f ms, at most %d frame(s)\n",
                      st.latencies_ms.size(), gui::FrameStats::median(st.latencies_ms),
                      gui::FrameStats::p99(st.latencies_ms),
                      *std::max_element(st.latency_frames.begin(), st.latency_frames.end()));
        ui.quit = true;
      }
    }

    if (std::exchange(ui.toggle_fullscreen, false)) {
      if (GLFWmonitor* m = glfwGetWindowMonitor(window); m) {
        glfwSetWindowMonitor(window, nullptr, windowed[0], windowed[1], windowed[2], windowed[3], 0);
      } else if (GLFWmonitor* primary = glfwGetPrimaryMonitor()) {
        glfwGetWindowPos(window, &windowed[0], &windowed[1]);
        glfwGetWindowSize(window, &windowed[2], &windowed[3]);
        const GLFWvidmode* mode = glfwGetVideoMode(primary);
        glfwSetWindowMonitor(window, primary, 0, 0, mode->width, mode->height, mode->refreshRate);
      }
    }
  }

  if (!glfwGetWindowMonitor(window))
    glfwGetWindowSize(window, &state.settings.window_width, &state.settings.window_height);
  if (!opt.dump_state.empty()) write_text(opt.dump_state, state_json(state, ui, frame));
  if (opt.persist) {
    try {
      std::filesystem::create_directories(gui::config_dir());
      gui::save_settings(settings_path, state.settings);
      std::error_code ec;
      std::filesystem::remove(autosave_path, ec);  // a clean exit: nothing to restore
    } catch (const std::exception& e) {
      std::fprintf(stderr, "attnscope: could not save settings: %s\n", e.what());
    }
  }
  ImGui_ImplOpenGL3_Shutdown();
  ImGui_ImplGlfw_Shutdown();
  ImGui::DestroyContext();
  ui = {};  // GL objects go while the context is still current
  glfwDestroyWindow(window);
  glfwTerminate();
  return exit_code;
}
