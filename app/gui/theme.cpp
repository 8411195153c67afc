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
  if (have_font) {
    io.Fonts->AddFontFromFileTTF(kFont, size);
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
