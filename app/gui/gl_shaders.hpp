#pragma once
// The GLSL sources of shaders/, embedded at build time (see
// embed_shaders.cmake); the #version line is added by Program.
namespace gui {
extern const char* const kShader_fullscreen_vert;
extern const char* const kShader_colormap_glsl;
extern const char* const kShader_overlay_frag;
extern const char* const kShader_matrix_frag;
}  // namespace gui
