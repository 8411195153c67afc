// The frame around the panels: layout, menu bar, status bar, the help
// window, the file dialog and keyboard shortcuts.
#include <algorithm>
#include <filesystem>

#include "ui.hpp"

namespace gui {
namespace fs = std::filesystem;

void tooltip(const char* text) {
  if (ImGui::IsItemHovered(ImGuiHoveredFlags_AllowWhenDisabled)) {
    ImGui::BeginTooltip();
    ImGui::PushTextWrapPos(ImGui::GetFontSize() * 24.0f);
    ImGui::TextUnformatted(text);
    ImGui::PopTextWrapPos();
    ImGui::EndTooltip();
  }
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

Layout compute_layout(const Settings& s, ImVec2 d, float menu) {
  Layout l;
  const float f = ImGui::GetFontSize();
  const float status = ImGui::GetFrameHeightWithSpacing() + ImGui::GetStyle().WindowPadding.y;
  const float top = menu, bottom = d.y - status;
  const float left = s.show_controls ? std::min(f * 17.0f, d.x * 0.25f) : 0.0f;
  const bool right_column = s.show_heads || s.show_steps;
  const float right = right_column ? std::min(f * 30.0f, d.x * 0.34f) : 0.0f;
  l.controls_pos = ImVec2(0, top);
  l.controls_size = ImVec2(left, bottom - top);
  l.image_pos = ImVec2(left, top);
  l.image_size = ImVec2(d.x - left - right, bottom - top);
  const float split = s.show_heads && s.show_steps ? top + (bottom - top) * 0.42f : (s.show_heads ? bottom : top);
  l.heads_pos = ImVec2(d.x - right, top);
  l.heads_size = ImVec2(right, split - top);
  l.lower_pos = ImVec2(d.x - right, split);
  l.lower_size = ImVec2(right, bottom - split);
  l.status_pos = ImVec2(0, bottom);
  l.status_size = ImVec2(d.x, d.y - bottom);
  return l;
}

void draw_menu(AppState& state, UiContext& ui, float* menu_height) {
  Settings& s = state.settings;
  if (ImGui::BeginMainMenuBar()) {
    auto dialog = [&](FileAction a) {
      ui.dialog.open = true;
      ui.dialog.action = a;
    };
    if (ImGui::BeginMenu("File")) {
      if (ImGui::MenuItem("Open image or session...", "Ctrl+O")) dialog(FileAction::Open);
      if (ImGui::MenuItem("Open Q, K, V files...")) dialog(FileAction::OpenTensors);
      if (ImGui::BeginMenu("Recent", !s.recent_files.empty())) {
        for (const auto& f : std::vector<std::string>(s.recent_files))
          if (ImGui::MenuItem(f.c_str())) state.open_file(f);
        ImGui::EndMenu();
      }
      if (ImGui::MenuItem("Use the bundled sample")) state.open_file("");
      ImGui::Separator();
      if (ImGui::MenuItem("Save session...", "Ctrl+Shift+S")) dialog(FileAction::SaveSession);
      ImGui::Separator();
      if (ImGui::MenuItem("Export overlay (PNG)...", "Ctrl+S")) dialog(FileAction::ExportOverlay);
      if (ImGui::MenuItem("Export weights (.npy)...")) dialog(FileAction::ExportWeightsNpy);
      if (ImGui::MenuItem("Export weights (CSV)...")) dialog(FileAction::ExportWeightsCsv);
      if (ImGui::MenuItem("Export all heads (PNG sheet)...")) dialog(FileAction::ExportSheet);
      ImGui::Separator();
      if (ImGui::MenuItem("Quit", "Ctrl+Q")) ui.quit = true;
      ImGui::EndMenu();
    }
    if (ImGui::BeginMenu("View")) {
      ImGui::MenuItem("Controls", "Tab", &s.show_controls);
      ImGui::MenuItem("Heads", nullptr, &s.show_heads);
      ImGui::MenuItem("Details (steps, matrix)", nullptr, &s.show_steps);
      ImGui::Separator();
      if (ImGui::MenuItem("Full screen", "F11")) ui.toggle_fullscreen = true;
      if (ImGui::MenuItem("Frame times", "F3", ui.show_frame_stats)) ui.show_frame_stats = !ui.show_frame_stats;
      if (ImGui::MenuItem("Light theme", nullptr, &s.light_theme)) ui.fonts_dirty = true;
      float scale = s.ui_scale;
      if (ImGui::SliderFloat("UI scale", &scale, 1.0f, 3.0f, "%.2fx")) s.ui_scale = scale;
      if (ImGui::IsItemDeactivatedAfterEdit()) ui.fonts_dirty = true;
      if (ImGui::MenuItem("Reset zoom", "F")) ui.zoom = 1.0f, ui.pan = ImVec2(0, 0);
      ImGui::EndMenu();
    }
    if (ImGui::BeginMenu("Help")) {
      if (ImGui::MenuItem("About attention and shortcuts", "F1")) ui.show_help = true;
      ImGui::EndMenu();
    }
    *menu_height = ImGui::GetWindowSize().y;
    ImGui::EndMainMenuBar();
  }
}

void draw_status(AppState& state, UiContext& ui, const Layout& l) {
  begin_panel(ui, "Status", l.status_pos, l.status_size,
              ImGuiWindowFlags_NoDecoration | ImGuiWindowFlags_NoSavedSettings);
  const std::string busy = state.busy_label();
  if (!busy.empty()) {
    static const char spinner[] = "|/-\\";
    ImGui::Text("%c %s...", spinner[static_cast<int>(state.now * 8) % 4], busy.c_str());
    ImGui::SameLine();
  }
  if (!state.messages.empty()) {
    const Message& m = state.messages.back();
    const bool fresh = state.now - m.time < 20.0;
    if (m.error && fresh)
      ImGui::TextColored(ImVec4(1.0f, 0.35f, 0.3f, 1.0f), "Error: %s", m.text.c_str());
    else if (fresh)
      ImGui::TextUnformatted(m.text.c_str());
  } else if (busy.empty() && state.scene.ready()) {
    const auto& g = state.scene.grid;
    ImGui::Text("%d tokens (%d x %d), %d heads. Click a patch to pick the query; F1 for help.", state.tokens(), g.cols,
                g.rows, state.scene.heads);
  }
  ImGui::End();
}

void draw_help(AppState& /*state*/, UiContext& ui) {
  if (!ui.show_help) return;
  const ImVec2 d = ImGui::GetIO().DisplaySize;
  ImGui::SetNextWindowSize(ImVec2(std::min(d.x * 0.8f, ImGui::GetFontSize() * 44), d.y * 0.75f), ImGuiCond_Appearing);
  ImGui::SetNextWindowPos(ImVec2(d.x * 0.5f, d.y * 0.5f), ImGuiCond_Appearing, ImVec2(0.5f, 0.5f));
  if (ImGui::Begin("About attention", &ui.show_help)) {
    record_window(ui, "About attention");
    ImGui::TextWrapped(
        "Attention lets each token (here: each image patch) gather information from the others. Every token has a "
        "query q, a key k and a value v. A query scores every key, the scores become weights that sum to 1, and the "
        "output is the weighted sum of the values:");
    ImGui::BulletText("weights = softmax(score(q, K) / T),   output = weights . V");
    ImGui::TextWrapped(
        "Additive attention was introduced for machine translation by Bahdanau, Cho and Bengio (2014), \"Neural "
        "Machine Translation by Jointly Learning to Align and Translate\": score = v^T tanh(W_q q + W_k k).");
    ImGui::TextWrapped(
        "The Transformer of Vaswani et al. (2017), \"Attention Is All You Need\", uses the scaled dot product "
        "q . k / sqrt(d_k): dividing by sqrt(d_k) keeps the scores' spread independent of the vector width, so the "
        "softmax does not saturate. It runs several heads side by side, each on its own slice of d_model.");
    ImGui::TextWrapped(
        "The temperature T divides the scores: T -> 0 puts all weight on the best key, large T spreads it evenly. "
        "Sparsemax (Martins and Astudillo 2016) gives exact zeros. The raw product without softmax shows why "
        "normalisation matters: weights can be negative and do not sum to 1.");
    ImGui::Separator();
    ImGui::TextUnformatted("Mouse and keyboard");
    if (ImGui::BeginTable("keys", 2, ImGuiTableFlags_RowBg | ImGuiTableFlags_Borders)) {
      static const char* const rows[][2] = {
          {"click a patch", "make it the query"},
          {"shift + click", "add or remove a query (their attention is averaged)"},
          {"arrow keys", "move the query"},
          {"right-drag", "hide keys (the painted mask); Ctrl + right-drag shows them again"},
          {"mouse wheel, middle-drag", "zoom and pan the image or the matrix; F resets"},
          {"[  ]", "temperature down / up"},
          {"H", "next head (then the mean)"},
          {"C", "next colormap"},
          {"G", "patch grid on / off"},
          {"M", "next mask (none, causal, local)"},
          {"Ctrl+O", "open an image, session or .npy/.csv file (or drop it on the window)"},
          {"Ctrl+S / Ctrl+Shift+S", "export the overlay (PNG) / save the session"},
          {"F11", "full screen"},
          {"F3", "frame times and the delay from a change to the heatmap"},
          {"Tab", "hide or show the controls (more room for the picture)"},
          {"Ctrl+= / Ctrl+-", "larger / smaller interface (for projectors)"},
          {"F1", "this window"},
          {"Ctrl+Q", "quit"},
      };
      for (const auto& r : rows) {
        ImGui::TableNextRow();
        ImGui::TableNextColumn();
        ImGui::TextUnformatted(r[0]);
        ImGui::TableNextColumn();
        ImGui::TextUnformatted(r[1]);
      }
      ImGui::EndTable();
    }
  }
  ImGui::End();
}

void draw_file_dialog(AppState& state, UiContext& ui) {
  FileDialog& d = ui.dialog;
  if (!d.open) return;
  std::error_code ec;
  if (d.directory.empty()) d.directory = fs::current_path(ec).string();
  if (d.listed != d.directory) {
    d.entries.clear();
    for (const auto& e : fs::directory_iterator(d.directory, fs::directory_options::skip_permission_denied, ec)) {
      std::error_code ec2;
      d.entries.emplace_back(e.path().filename().string(), e.is_directory(ec2));
    }
    std::sort(d.entries.begin(), d.entries.end(), [](const auto& a, const auto& b) {
      return a.second != b.second ? a.second > b.second : a.first < b.first;
    });
    d.listed = d.directory;
  }
  const bool saving = d.action != FileAction::Open && d.action != FileAction::OpenTensors;
  static const char* const titles[] = {"Open",
                                       "Open Q, K, V (pick Q, then K, then V)",
                                       "Save session",
                                       "Export overlay",
                                       "Export weights (.npy)",
                                       "Export weights (CSV)",
                                       "Export heads sheet"};
  const ImVec2 disp = ImGui::GetIO().DisplaySize;
  ImGui::SetNextWindowSize(ImVec2(std::min(disp.x * 0.8f, ImGui::GetFontSize() * 40), disp.y * 0.7f),
                           ImGuiCond_Appearing);
  ImGui::SetNextWindowPos(ImVec2(disp.x * 0.5f, disp.y * 0.5f), ImGuiCond_Appearing, ImVec2(0.5f, 0.5f));
  std::string title = std::string(titles[static_cast<int>(d.action)]) + "###filedialog";
  if (!ImGui::Begin(title.c_str(), &d.open)) {
    ImGui::End();
    return;
  }
  record_window(ui, "File dialog");
  ImGui::TextWrapped("%s", d.directory.c_str());
  if (ImGui::Button("up")) d.directory = fs::path(d.directory).parent_path().string();
  const float footer = ImGui::GetFrameHeightWithSpacing() * 2;
  ImGui::BeginChild("entries", ImVec2(0, -footer), true);
  for (const auto& [name, dir] : d.entries) {
    if (!name.empty() && name[0] == '.') continue;
    const std::string label = dir ? name + "/" : name;
    if (ImGui::Selectable(label.c_str(), false, ImGuiSelectableFlags_AllowDoubleClick)) {
      if (dir)
        d.directory = (fs::path(d.directory) / name).string();
      else
        std::snprintf(d.name, sizeof d.name, "%s", name.c_str());
      if (!dir && ImGui::IsMouseDoubleClicked(0) && !saving) {
        state.open_file((fs::path(d.directory) / name).string());
        if (d.action == FileAction::Open || !state.settings.v_path.empty()) d.open = false;
      }
    }
  }
  ImGui::EndChild();
  ImGui::SetNextItemWidth(-ImGui::GetFontSize() * 8);
  // The name field takes the keyboard when the dialog opens: type a path, press Enter.
  if (ImGui::IsWindowAppearing()) ImGui::SetKeyboardFocusHere();
  const bool enter = ImGui::InputText("##name", d.name, sizeof d.name, ImGuiInputTextFlags_EnterReturnsTrue);
  ImGui::SameLine();
  const bool ok = ImGui::Button(saving ? "Save" : "Open") || enter;
  ImGui::SameLine();
  if (ImGui::Button("Cancel")) d.open = false;
  if (ok && d.name[0]) {
    const std::string path =
        fs::path(d.name).is_absolute() ? std::string(d.name) : (fs::path(d.directory) / d.name).string();
    switch (d.action) {
      case FileAction::Open:
        state.open_file(path);
        d.open = false;
        break;
      case FileAction::OpenTensors:
        state.open_file(path);
        if (!state.settings.v_path.empty()) d.open = false;
        break;
      case FileAction::SaveSession:
        try {
          save_settings(path, state.settings);
          state.post("saved session " + path, false);
        } catch (const std::exception& e) {
          state.post(e.what(), true);
        }
        d.open = false;
        break;
      case FileAction::ExportOverlay:
        export_overlay(state, ui, path);
        d.open = false;
        break;
      case FileAction::ExportWeightsNpy:
        export_weights(state, path, false);
        d.open = false;
        break;
      case FileAction::ExportWeightsCsv:
        export_weights(state, path, true);
        d.open = false;
        break;
      case FileAction::ExportSheet:
        export_sheet(state, path);
        d.open = false;
        break;
    }
    d.name[0] = 0;
  }
  ImGui::End();
}

void draw_restore_prompt(AppState& state, UiContext& ui) {
  if (!ui.restore_offer) return;
  if (!ImGui::IsPopupOpen("Restore the last session?")) ImGui::OpenPopup("Restore the last session?");
  const ImVec2 d = ImGui::GetIO().DisplaySize;
  ImGui::SetNextWindowPos(ImVec2(d.x * 0.5f, d.y * 0.5f), ImGuiCond_Always, ImVec2(0.5f, 0.5f));
  if (ImGui::BeginPopupModal("Restore the last session?", nullptr, ImGuiWindowFlags_AlwaysAutoResize)) {
    record_window(ui, "Restore prompt");
    ImGui::TextUnformatted("attnscope did not close cleanly last time.");
    ImGui::TextUnformatted("Restore the settings it had (saved every second)?");
    // From the key queue, not ImGui::IsKeyPressed: ImGui 1.86 loses a key
    // pressed and released between two frames (a slow frame, a quick tap).
    bool enter = false, escape = false;
    for (const auto& key : ui.keys) {
      enter |= key.first == 257 || key.first == 335;  // GLFW_KEY_ENTER, GLFW_KEY_KP_ENTER
      escape |= key.first == 256;                     // GLFW_KEY_ESCAPE
    }
    if (ImGui::Button("Restore (Enter)") || enter) {
      Settings s = *ui.restore_offer;
      s.window_width = state.settings.window_width;
      s.window_height = state.settings.window_height;
      state.settings = s;
      state.post("restored the last session", false);
      ui.restore_offer.reset();
      ImGui::CloseCurrentPopup();
    }
    ImGui::SameLine();
    if (ImGui::Button("Start fresh (Esc)") || escape) {
      ui.restore_offer.reset();
      ImGui::CloseCurrentPopup();
    }
    ImGui::EndPopup();
  }
}

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

void handle_shortcuts(AppState& state, UiContext& ui) {
  // GLFW key codes and modifier bits (GLFW/glfw3.h), kept here so panels
  // need no GLFW include.
  enum : int {
    kEscape = 256,
    kTab = 258,
    kRight = 262,
    kLeft = 263,
    kDown = 264,
    kUp = 265,
    kF1 = 290,
    kF3 = 292,
    kF11 = 300,
    kShift = 1,
    kCtrl = 2,
  };
  const auto keys = std::exchange(ui.keys, {});
  // Ctrl+Q quits from anywhere, a text field or the file dialog included.
  for (const auto& [key, mods] : keys)
    if ((mods & kCtrl) && key == 'Q') ui.quit = true;
  if (ImGui::GetIO().WantTextInput || ui.restore_offer) return;
  Settings& s = state.settings;
  auto dialog = [&](FileAction a) {
    ui.dialog.open = true;
    ui.dialog.action = a;
  };
  for (const auto& [key, mods] : keys) {
    if (mods & kCtrl) {
      if (key == 'O') dialog(FileAction::Open);
      if (key == 'S') dialog(mods & kShift ? FileAction::SaveSession : FileAction::ExportOverlay);
      if (key == 'Q') ui.quit = true;
      if (key == '=') s.ui_scale = std::min(3.0f, s.ui_scale + 0.25f), ui.fonts_dirty = true;
      if (key == '-') s.ui_scale = std::max(1.0f, s.ui_scale - 0.25f), ui.fonts_dirty = true;
      continue;
    }
    if (key == kEscape) ui.show_help = false, ui.dialog.open = false;
    if (key == kF1) ui.show_help = !ui.show_help;
    if (key == kF3) ui.show_frame_stats = !ui.show_frame_stats;
    if (key == kF11) ui.toggle_fullscreen = true;
    if (key == kTab) s.show_controls = !s.show_controls;
    if (!state.scene.ready() || ui.dialog.open) continue;
    if (key == '[') s.temperature = std::max(0.01, s.temperature / 1.25);
    if (key == ']') s.temperature = std::min(100.0, s.temperature * 1.25);
    if (key == 'H') s.head = s.head + 1 >= state.scene.heads ? -1 : s.head + 1;
    if (key == 'C') s.colormap = static_cast<attn::Colormap>((static_cast<int>(s.colormap) + 1) % 7);
    if (key == 'G') s.grid = !s.grid;
    if (key == 'M') s.mask = static_cast<attn::MaskStructure>((static_cast<int>(s.mask) + 1) % 3);
    if (key == 'F') ui.zoom = 1.0f, ui.pan = ImVec2(0, 0);
    if (key >= kRight && key <= kUp) {
      // Arrows move the first query; the others stay.
      const auto& g = state.scene.grid;
      auto queries = state.effective_queries();
      const int q = queries.front(), c = q % g.cols, r = q / g.cols;
      const int nc = std::clamp(c + (key == kRight) - (key == kLeft), 0, g.cols - 1);
      const int nr = std::clamp(r + (key == kDown) - (key == kUp), 0, g.rows - 1);
      if (g.index(nc, nr) < state.tokens()) queries.front() = g.index(nc, nr);
      s.queries = queries;
    }
  }
}

}  // namespace gui
