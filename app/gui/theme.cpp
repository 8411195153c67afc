#include "theme.hpp"

#include <backends/imgui_impl_opengl3.h>
#include <imgui.h>

#include <filesystem>

namespace gui {

bool apply_theme(float ui_scale, bool light) {
  ImGuiIO& io = ImGui::GetIO();
  io.Fonts->Clear();
  constexpr const char* kFont = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf";
  const bool have_font = std::filesystem::exists(kFont);
  const float size = 16.0f * ui_scale;
  // Besides ASCII, what tokenizers' words hold (accents; GPT-2's "Ġ", in
  // Latin Extended-A; SentencePiece's "▁"; Greek, Cyrillic) and the marks the
  // app draws ("…", "␣", "·", "√", "×").
  static constexpr ImWchar kRanges[] = {
      0x0020, 0x024F,  // Basic Latin to Latin Extended-B
      0x0370, 0x04FF,  // Greek, Cyrillic
      0x2000, 0x206F,  // General Punctuation
      0x2190, 0x23FF,  // arrows, mathematical operators, miscellaneous technical
      0x2500, 0x259F,  // box drawing, block elements
      0,
  };
  if (have_font) {
    io.Fonts->AddFontFromFileTTF(kFont, size, nullptr, kRanges);
  } else {
    ImFontConfig cfg;
    cfg.SizePixels = 13.0f * ui_scale;
    io.Fonts->AddFontDefault(&cfg);
  }
  ImGui_ImplOpenGL3_DestroyFontsTexture();
  ImGui_ImplOpenGL3_CreateFontsTexture();

  ImGuiStyle style;
  if (light)
    ImGui::StyleColorsLight(&style);
  else
    ImGui::StyleColorsDark(&style);
  style.WindowRounding = 0.0f;
  style.FrameRounding = 3.0f;
  style.GrabRounding = 3.0f;
  style.WindowBorderSize = 1.0f;
  style.ScaleAllSizes(ui_scale);
  ImGui::GetStyle() = style;
  return have_font;
}

}  // namespace gui
