// The whole Nq x Nk attention matrix of one head, colour-mapped. v_uv spans
// the visible window of the matrix [u_view.xy, u_view.zw] (in 0..1 units);
// the selected query's row is outlined.
in vec2 v_uv;
out vec4 frag;

uniform sampler2D u_matrix;  // R32F, Nk wide, Nq high, values scaled to [0, 1]
uniform vec4 u_view;         // x0, y0, x1, y1 of the visible part, in 0..1
uniform ivec2 u_size;        // Nk, Nq
uniform int u_row;           // selected query row, -1 for none
uniform vec2 u_pixels;       // the view's size in pixels

void main() {
  // Framebuffer row 0 is shown at the top, so matrix row 0 (query 0) is too.
  vec2 uv = mix(u_view.xy, u_view.zw, v_uv);
  ivec2 cell = clamp(ivec2(uv * vec2(u_size)), ivec2(0), u_size - 1);
  vec3 c = colormap(texelFetch(u_matrix, cell, 0).r);
  if (u_row >= 0) {
    // Outline the selected row: bright edges one screen pixel thick.
    float row_px = float(u_size.y) * (u_view.w - u_view.y) / u_pixels.y;  // rows per screen pixel
    float y = uv.y * float(u_size.y);
    float d = min(abs(y - float(u_row)), abs(y - float(u_row + 1)));
    if (d < max(row_px, 0.5 / u_pixels.y * float(u_size.y))) c = vec3(0.2, 1.0, 1.0);
  }
  frag = vec4(c, 1.0);
}
