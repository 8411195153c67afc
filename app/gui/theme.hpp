#pragma once
// Fonts and colours: DejaVu Sans (Debian's fonts-dejavu-core) at the UI
// scale, so text stays crisp on a projector, and a dark or light theme.
namespace gui {
// Rebuilds the font atlas and style; call between frames. Returns false
// (and keeps ImGui's built-in font) when the TTF file is missing.
bool apply_theme(float ui_scale, bool light);
}  // namespace gui
