// Colormap lookup shared by the overlay and matrix shaders: a 256x1 RGBA8
// table, nearest entry, exactly as core/colormap.cpp's colormap_lookup().
uniform sampler2D u_lut;

vec3 colormap(float v) {
  // NaN and v <= 0 give entry 0, as on the CPU.
  int i = (v > 0.0) ? int(min(v, 1.0) * 255.0 + 0.5) : 0;
  return texelFetch(u_lut, ivec2(min(i, 255), 0), 0).rgb;
}
