// A built-in file browser for opening, saving and exporting: ImGui has none,
// and a native dialog would need a toolkit attnscope does not otherwise use.
#include <algorithm>
#include <filesystem>

#include "open_path.hpp"
#include "panels.hpp"

namespace gui {
namespace {

// Compare mode: an image becomes B's image, ViT weights B's model.
void choose_b(AppState& state, const std::string& path) {
  CompareSettings& c = state.settings.compare;
  const FileKind kind = file_kind(path);
  if (kind == FileKind::Image) {
    c.on = c.image = true, c.b_image = path;
  } else if (kind == FileKind::Weights) {
    c.on = c.model = true, c.b_weights = path;
  } else {
    state.post(path + ": B can be another image or another ViT's weights (.safetensors, .pth, ...)", true);
  }
}

}  // namespace
namespace fs = std::filesystem;

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
  const bool saving = d.action != FileAction::Open && d.action != FileAction::OpenTensors &&
                      d.action != FileAction::OpenWords && d.action != FileAction::ChooseCompareB;
  // Opening word attention takes two files: the attention, then its words
  // (unless they were found beside it).
  auto open_words_file = [&](const std::string& path) {
    state.open_word_file(path);
    if (!state.settings.tokens.words_tokens.empty() && !state.settings.tokens.words_attn.empty() &&
        state.settings.tokens.source == Source::Words)
      d.open = false;
  };
  static const char* const titles[] = {"Open",
                                       "Open Q, K, V (pick Q, then K, then V)",
                                       "Save session",
                                       "Export overlay (.png; .svg or .pdf: a labelled figure)",
                                       "Export weights (.npy)",
                                       "Export weights (CSV)",
                                       "Export heads sheet (.png, .svg or .pdf)",
                                       "Open word attention (the .npy or .safetensors, then its words)",
                                       "Export words grid (.png, .svg or .pdf)",
                                       "Export one overlay per word (a folder)",
                                       "Export comparison A | B | A - B (.png, .svg or .pdf)",
                                       "B's image or B's model (compare mode)"};
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
      if (!dir && ImGui::IsMouseDoubleClicked(0) && d.action == FileAction::OpenWords) {
        open_words_file((fs::path(d.directory) / name).string());
      } else if (!dir && ImGui::IsMouseDoubleClicked(0) && d.action == FileAction::ChooseCompareB) {
        choose_b(state, (fs::path(d.directory) / name).string());
        d.open = false;
      } else if (!dir && ImGui::IsMouseDoubleClicked(0) && !saving) {
        state.open_file((fs::path(d.directory) / name).string());
        if (d.action == FileAction::Open || !state.settings.tokens.v_path.empty()) d.open = false;
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
        if (!state.settings.tokens.v_path.empty()) d.open = false;
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
      case FileAction::OpenWords:
        open_words_file(path);
        break;
      case FileAction::ExportWordsGrid:
        export_words_grid(state, path);
        d.open = false;
        break;
      case FileAction::ExportWordOverlays:
        export_word_overlays(state, path);
        d.open = false;
        break;
      case FileAction::ExportComparison:
        export_comparison(state, path);
        d.open = false;
        break;
      case FileAction::ChooseCompareB:
        choose_b(state, path);
        d.open = false;
        break;
    }
    d.name[0] = 0;
  }
  ImGui::End();
}

}  // namespace gui
