// The attention overlay at the image's own resolution: the same arithmetic
// as core/overlay.cpp's render_overlay(), which the tests compare it with.
// The framebuffer's row 0 is the image's top row.
in vec2 v_uv;
out vec4 frag;

uniform sampler2D u_image;      // RGBA8, the image (or a copy shrunk u_image_factor times), row 0 = top
uniform int u_image_factor;     // image pixels a side per texel of u_image: 1 unless past the GPU's limit
uniform ivec2 u_image_size;     // the image's own size in pixels
uniform sampler2D u_map;        // R32F, cols x rows, values already scaled to [0, 1]
uniform sampler2D u_selected;   // R8, cols x rows, 1 where a patch is a selected query
uniform int u_patch;            // patch side in pixels
uniform ivec2 u_grid;           // cols, rows
uniform float u_opacity;
uniform bool u_signed;          // values are signed, 0.5 is zero: strength |2v - 1|
uniform bool u_bilinear;
uniform bool u_grid_lines;
uniform float u_step;           // image pixels per fragment: 1 at full size, more when shown smaller
uniform vec2 u_origin;          // the image pixel at the target's fragment (0, 0)
uniform bool u_outlines;        // draw the selected patches' rings here (off: the caller draws them)

const float kColdShare = 0.25;
const float kGridAlpha = 0.15;
const float kCroppedDim = 0.45;

float map_at(int c, int r) { return texelFetch(u_map, ivec2(c, r), 0).r; }
bool selected(int c, int r) {
  if (c < 0 || r < 0 || c >= u_grid.x || r >= u_grid.y) return false;
  return texelFetch(u_selected, ivec2(c, r), 0).r > 0.5;
}
// Rounds like the CPU's lround on a value in [0, 255].
vec3 quantise(vec3 c) { return floor(c + 0.5); }

float sample_map(ivec2 px) {
  if (!u_bilinear) return map_at(px.x / u_patch, px.y / u_patch);
  float p = float(u_patch);
  float u = clamp((float(px.x) + 0.5) / p - 0.5, 0.0, float(u_grid.x - 1));
  float v = clamp((float(px.y) + 0.5) / p - 0.5, 0.0, float(u_grid.y - 1));
  int c0 = int(u), r0 = int(v);
  int c1 = min(c0 + 1, u_grid.x - 1), r1 = min(r0 + 1, u_grid.y - 1);
  float fu = u - float(c0), fv = v - float(r0);
  float top = map_at(c0, r0) + (map_at(c1, r0) - map_at(c0, r0)) * fu;
  float bottom = map_at(c0, r1) + (map_at(c1, r1) - map_at(c0, r1)) * fu;
  return top + (bottom - top) * fv;
}

// 1: white ring (two pixels inside a selected patch's edge), 2: black ring
// (one pixel outside it), 0: neither. White wins where they meet.
// Shown smaller than the image (u_step > 1), the rings are widened to stay
// about as many screen pixels wide; at u_step = 1 they are exactly these.
int outline(ivec2 px) {
  int c = px.x / u_patch, r = px.y / u_patch;
  int lx = px.x - c * u_patch, ly = px.y - r * u_patch;
  int width = min(max(2, int(2.0 * u_step)), (u_patch + 1) / 2);
  int outer = max(1, int(ceil(u_step)));
  if (selected(c, r) && (lx < width || ly < width || lx >= u_patch - width || ly >= u_patch - width)) return 1;
  for (int dr = -1; dr <= 1; ++dr)
    for (int dc = -1; dc <= 1; ++dc) {
      if ((dr == 0 && dc == 0) || !selected(c + dc, r + dr)) continue;
      int x0 = (c + dc) * u_patch, y0 = (r + dr) * u_patch;
      bool on_x = (px.x >= x0 - outer && px.x < x0) || (px.x >= x0 + u_patch && px.x < x0 + u_patch + outer);
      bool on_y = (px.y >= y0 - outer && px.y < y0) || (px.y >= y0 + u_patch && px.y < y0 + u_patch + outer);
      bool in_x = px.x >= x0 - outer && px.x < x0 + u_patch + outer;
      bool in_y = px.y >= y0 - outer && px.y < y0 + u_patch + outer;
      if ((on_x && in_y) || (on_y && in_x)) return 2;
    }
  return 0;
}

void main() {
  ivec2 px = ivec2(floor(u_origin + floor(gl_FragCoord.xy) * u_step));
  if (any(greaterThanEqual(px, u_image_size))) {  // past the image's edge
    frag = vec4(0.0);
    return;
  }
  vec3 img = texelFetch(u_image, px / u_image_factor, 0).rgb * 255.0;
  vec3 c;
  if (px.x >= u_grid.x * u_patch || px.y >= u_grid.y * u_patch) {
    c = quantise(img * kCroppedDim);
  } else {
    float v = sample_map(px);
    float strength = u_signed ? abs(2.0 * v - 1.0) : v;
    float a = u_opacity * (kColdShare + (1.0 - kColdShare) * strength);
    c = quantise(img + (colormap(v) * 255.0 - img) * a);
    int line = max(1, int(ceil(u_step)));  // wide enough that sampling never skips one
    if (u_grid_lines && (px.x % u_patch < line || px.y % u_patch < line)) c = quantise(c + (255.0 - c) * kGridAlpha);
  }
  int o = u_outlines ? outline(px) : 0;
  if (o == 1) c = vec3(255.0);
  else if (o == 2) c = vec3(0.0);
  frag = vec4(c / 255.0, 1.0);
}
