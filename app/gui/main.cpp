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

#include <chrono>
#include <cstdio>
#include <filesystem>

#include "autosave.hpp"
#include "common/args.hpp"
#include "core/error.hpp"
#include "options.hpp"
#include "panels.hpp"
#include "scripted_run.hpp"
#include "shortcuts.hpp"
#include "theme.hpp"

namespace {

std::string g_glfw_error;

// How long the loop may sleep before something it shows changes by itself:
// the status line's message fading, an autosave falling due. Negative: not
// before the next event.
double next_deadline(const gui::AppState& state, double autosave_in) {
  double wait = autosave_in;
  if (!state.messages.empty()) {
    const double fade = state.messages.back().time + gui::kMessageSeconds - state.now;
    if (fade > 0 && (wait < 0 || fade < wait)) wait = fade;
  }
  return wait;
}

void toggle_fullscreen(GLFWwindow* window, int windowed[4], gui::WindowSettings& w, bool& presenting_before) {
  if (glfwGetWindowMonitor(window)) {
    glfwSetWindowMonitor(window, nullptr, windowed[0], windowed[1], windowed[2], windowed[3], 0);
    w.presentation = presenting_before;
  } else if (GLFWmonitor* primary = glfwGetPrimaryMonitor()) {
    glfwGetWindowPos(window, &windowed[0], &windowed[1]);
    glfwGetWindowSize(window, &windowed[2], &windowed[3]);
    const GLFWvidmode* mode = glfwGetVideoMode(primary);
    glfwSetWindowMonitor(window, primary, 0, 0, mode->width, mode->height, mode->refreshRate);
    presenting_before = w.presentation;
    w.presentation = true;  // full screen is for showing the picture
  }
}

// The frame loop, from the first frame to the last; returns the exit code.
int run(GLFWwindow* window, const gui::Options& opt, const std::string& settings_error) {
  gui::ScriptedRun script(opt);
  gui::AppState state(opt.settings, [] { glfwPostEmptyEvent(); });
  gui::UiContext ui;
  if (!settings_error.empty()) state.post(settings_error, true);
  gui::Autosave autosave(opt.persist);
  if ((ui.restore_offer = autosave.left_over(state.settings, state))) ui.restore_offered = true;
  try {
    ui.renderer.init();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "attnscope: no usable OpenGL: %s; for headless use, run attnscope-cli\n", e.what());
    return 1;
  }

  IMGUI_CHECKVERSION();
  ImGui::CreateContext();
  ImGui::GetIO().IniFilename = nullptr;  // the layout is computed; settings persist in settings.json
  ImGui_ImplGlfw_InitForOpenGL(window, true);
  ImGui_ImplOpenGL3_Init("#version 330 core");
  if (!gui::apply_theme(state.settings.window.ui_scale, state.settings.window.light_theme))
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
  int windowed[4] = {0, 0, state.settings.window.width, state.settings.window.height};
  bool presenting_before = state.settings.window.presentation;
  if (opt.fullscreen) ui.toggle_fullscreen = true;
  ui.show_frame_stats = opt.frame_times;

  const auto start = std::chrono::steady_clock::now();
  auto seconds = [&] { return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(); };
  int frame = 0, settle = 0;
  float menu_height = 0.0f;
  double autosave_in = -1.0;
  while (!glfwWindowShouldClose(window) && !ui.quit) {
    // Idle, the loop sleeps until an event: input, a worker's result
    // (glfwPostEmptyEvent), or a deadline. After each wake a few frames
    // follow, for ImGui's windows that settle over two or three.
    const bool more_frames = std::exchange(ui.more_frames, false);  // the panels set it again if still so
    if (script.scripted() || more_frames || settle > 0) {
      glfwPollEvents();
      settle = std::max(0, settle - 1);
    } else {
      const double deadline = state.busy() ? 0.125 : next_deadline(state, autosave_in);  // the spinner turns
      if (deadline < 0)
        glfwWaitEvents();
      else
        glfwWaitEventsTimeout(std::max(0.001, deadline));
      settle = 2;
    }
    const auto frame_start = std::chrono::steady_clock::now();  // the frame's work starts here
    ++frame;
    const double now = seconds();

    script.before_update(state, ui, frame);
    for (const auto& path : std::exchange(ui.dropped, {})) state.open_file(path);
    const bool benching = script.benching(state);
    ui.frame_stats.note_settings(state.settings, state.map_revision, now);  // a scripted or dropped change
    state.update(now);
    if (script.after_update(state)) state.update(now);
    if (ui.fonts_dirty) {
      gui::apply_theme(state.settings.window.ui_scale, state.settings.window.light_theme);
      ui.fonts_dirty = false;
      ui.thumb_keys.assign(ui.thumb_keys.size(), "");
    }

    ImGui_ImplOpenGL3_NewFrame();
    ImGui_ImplGlfw_NewFrame();
    script.place_pointer(state, ui);
    ImGui::NewFrame();
    gui::draw_menu(state, ui, &menu_height);
    const gui::Layout layout = gui::compute_layout(state.settings.window, ImGui::GetIO().DisplaySize, menu_height);
    if (layout.controls) gui::draw_controls(state, ui, layout);
    gui::draw_image_view(state, ui, layout);
    if (state.settings.window.show_heads) gui::draw_heads(state, ui, layout);
    if (state.settings.window.show_steps) gui::draw_details(state, ui, layout);
    gui::draw_status(state, ui, layout);
    gui::draw_help(ui);
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

    script.after_draw(window, state, ui, frame, now);
    glfwSwapBuffers(window);
    if (!ui.restore_offer) autosave_in = autosave.tick(state.settings, now, state);
    if (benching) glFinish();
    const auto drawn = std::chrono::steady_clock::now();
    const double frame_ms = std::chrono::duration<double, std::milli>(drawn - frame_start).count();
    ui.frame_stats.frame_done(frame_ms);
    ui.frame_stats.note_drawn(state.map_revision, !state.busy(), seconds());
    ui.frame_stats.note_settings(state.settings, state.map_revision, seconds());  // the user's change this frame
    if (benching) script.frame_timed(state, ui, frame_ms, fw, fh);
    if (std::exchange(ui.toggle_fullscreen, false))
      toggle_fullscreen(window, windowed, state.settings.window, presenting_before);
  }

  if (!glfwGetWindowMonitor(window))
    glfwGetWindowSize(window, &state.settings.window.width, &state.settings.window.height);
  else
    state.settings.window.presentation = presenting_before;
  script.at_exit(state, ui, frame);
  if (opt.persist) {
    try {
      std::filesystem::create_directories(gui::config_dir());
      gui::save_settings(gui::config_dir() + "/settings.json", state.settings);
      autosave.clean_exit();
    } catch (const std::exception& e) {
      std::fprintf(stderr, "attnscope: could not save settings: %s\n", e.what());
    }
  }
  ImGui_ImplOpenGL3_Shutdown();
  ImGui_ImplGlfw_Shutdown();
  ImGui::DestroyContext();
  ui = {};  // GL objects go while the context is still current
  return script.exit_code();
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
      glfwCreateWindow(opt.settings.window.width, opt.settings.window.height, "attnscope", nullptr, nullptr);
  if (!window) {
    std::fprintf(stderr, "attnscope: no usable OpenGL 3.3: %s; for headless use, run attnscope-cli\n",
                 g_glfw_error.c_str());
    glfwTerminate();
    return 1;
  }
  glfwMakeContextCurrent(window);
  glfwSwapInterval(1);
  // Everything that may wake the loop from another thread (the workers)
  // is gone when run() returns, before GLFW is.
  const int code = run(window, opt, settings_error);
  glfwDestroyWindow(window);
  glfwTerminate();
  return code;
}
