// A triangle that covers the viewport; no vertex buffer needed.
out vec2 v_uv;  // 0..1 across the viewport, (0, 0) at the first row/column drawn

void main() {
  vec2 p = vec2(float((gl_VertexID << 1) & 2), float(gl_VertexID & 2));
  v_uv = p;
  gl_Position = vec4(p * 2.0 - 1.0, 0.0, 1.0);
}
