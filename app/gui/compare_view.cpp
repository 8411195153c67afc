// Compare mode: the image view as three panels, A | B | A - B, and the
// controls that say what B changes. A click on any panel sets the query on
// both sides; hovering shows A's, B's and the difference's values there.
#include <algorithm>
#include <cmath>
#include <sstream>

#include "panels.hpp"

namespace gui {
namespace {

// A horizontal colour bar under a panel with its ends' and middle's values.
void colour_bar(ImDrawList* dl, attn::Colormap map, ImVec2 p, float w, float h, const std::string& lo,
                const std::string& mid, const std::string& hi) {
  colour_ramp(dl, map, p, w, h);
  const ImU32 text = ImGui::GetColorU32(ImGuiCol_Text);
  const float y = p.y + h + 2;
  dl->AddText(ImVec2(p.x, y), text, lo.c_str());
  if (!mid.empty()) dl->AddText(ImVec2(p.x + (w - ImGui::CalcTextSize(mid.c_str()).x) / 2, y), text, mid.c_str());
  dl->AddText(ImVec2(p.x + w - ImGui::CalcTextSize(hi.c_str()).x, y), text, hi.c_str());
}

// `s`, cut at a UTF-8 character boundary with "..." until it fits in `width` pixels.
std::string fit(const std::string& s, float width) {
  if (ImGui::CalcTextSize(s.c_str()).x <= width) return s;
  for (size_t n = s.size(); n > 0;) {
    --n;
    while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;
    std::string t(s, 0, n);
    t.append("...");
    if (ImGui::CalcTextSize(t.c_str()).x <= width) return t;
  }
  return "...";
}

std::string number(double v, bool sign = false) {
  char t[32];
  std::snprintf(t, sizeof t, sign ? "%+.3g" : "%.3g", v);
  return t;
}

}  // namespace

std::string heads_word(const AppState& state) {
  return state.scene.vit || state.scene.words ? std::string(attn::name_of(state.settings.view.fusion)) : "mean";
}

void draw_compare_view(AppState& state, UiContext& ui) {
  const Scene& a = state.scene;
  const Scene* b = state.b_scene();  // nullptr while B's own scene is built
  const auto& g = a.grid;
  const auto selected = a.words ? std::vector<int>{} : state.outlined_queries();
  const auto selected_b = b && !b->words ? state.b_queries(*b) : std::vector<int>{};
  attn::OverlayStyle style = state.overlay_style();
  style.rings = false;
  const auto [label_a, label_b] = compare_labels(state.settings, heads_word(state));

  // One row of three, or A and B above A - B: whichever shows them larger.
  // Each panel: a label above, the image fitted, a colour bar below.
  const ImVec2 canvas = ImGui::GetCursorScreenPos(), avail = ImGui::GetContentRegionAvail();
  const float line = ImGui::GetTextLineHeightWithSpacing(), gap = 8.0f;
  const float bar = ImGui::GetTextLineHeight() * 0.8f;
  const float extra = line + bar + line + 6;
  const attn::Image& img = *a.image;
  auto fit_scale = [&](int cols, int rows) {
    const float cw = (avail.x - (cols - 1) * gap) / cols, ch = (avail.y - rows * extra) / rows;
    return std::max(1e-6f, std::min(cw / img.width, ch / img.height));
  };
  const int cols = fit_scale(3, 1) >= fit_scale(2, 2) ? 3 : 2;
  const float w = (avail.x - (cols - 1) * gap) / cols;
  const float cell_h = (avail.y - (cols == 3 ? 1 : 2) * extra) / (cols == 3 ? 1 : 2);

  const float top = state.difference_top;
  attn::OverlayStyle diff_style = style;
  diff_style.scale = attn::MapScale::Fixed;
  diff_style.colormap = attn::Colormap::Diverging;
  diff_style.signed_values = true;
  const Scene* scenes[3] = {&a, b, &a};
  const std::vector<float>* maps[3] = {&state.map, &state.map_b, &state.difference_shown};
  const std::vector<int>* rings[3] = {&selected, &selected_b, &selected};
  const attn::OverlayStyle* styles[3] = {&style, &style, &diff_style};
  const std::string labels[3] = {"A: " + label_a, "B: " + label_b, "A \u2212 B"};

  const DisplaySettings& d = state.settings.display;
  ImGui::InvisibleButton("compare", avail, ImGuiButtonFlags_MouseButtonLeft);
  const bool hovered_any = ImGui::IsItemHovered();
  ImDrawList* dl = ImGui::GetWindowDrawList();
  const ImGuiIO& io = ImGui::GetIO();
  int hovered = -1, hovered_b = -1;  // the cell under the pointer, in A's grid and in B's
  float bottom = canvas.y;
  for (int i = 0; i < 3; ++i) {
    const int col = i % cols, row = i / cols;
    const float left = canvas.x + static_cast<float>(col) * (w + gap);
    const float top_y = canvas.y + static_cast<float>(row) * (cell_h + extra);
    dl->AddText(ImVec2(left + (w - ImGui::CalcTextSize(fit(labels[i], w).c_str()).x) / 2, top_y),
                ImGui::GetColorU32(ImGuiCol_Text), fit(labels[i], w).c_str());
    const Scene* sc = scenes[i];
    if (!sc || maps[i]->size() != static_cast<size_t>(sc->grid.count())) {
      dl->AddText(ImVec2(left + 8, top_y + line + 8), ImGui::GetColorU32(ImGuiCol_TextDisabled),
                  state.busy() ? "building B..." : "B has nothing to show yet");
      continue;
    }
    const attn::Image& pic = *sc->image;
    const attn::PatchGrid& pg = sc->grid;
    const float scale = std::max(1e-6f, std::min(w / pic.width, cell_h / pic.height));
    const ImVec2 size(pic.width * scale, pic.height * scale);
    const ImVec2 origin(left + (w - size.x) / 2, top_y + line);
    const ImVec2 end(origin.x + size.x, origin.y + size.y);
    bottom = std::max(bottom, end.y + extra - line);
    if (i == 0) ui.image_min = origin, ui.image_max = end;  // A's panel: where scripted hovers point
    attn::OverlayRegion region;
    region.step = std::max(1.0f, 1.0f / scale);
    std::ostringstream key;
    key << sc->generation << '/' << state.map_revision << '/' << state.compare_revision << '/'
        << static_cast<int>(d.colormap) << '/' << d.opacity << '/' << static_cast<int>(d.upsample) << '/'
        << static_cast<int>(d.scale) << '/' << d.grid << '/' << d.scale_includes_query << '/' << region.step;
    for (int t : *rings[i]) key << ',' << t;
    if (ui.compare_keys[static_cast<size_t>(i)] != key.str()) {
      try {
        ui.renderer.draw_overlay(ui.compare_targets[static_cast<size_t>(i)], *sc, *maps[i], *rings[i], *styles[i],
                                 region);
      } catch (const std::exception& e) {
        state.post(e.what(), true);
      }
      ui.compare_keys[static_cast<size_t>(i)] = key.str();
    }
    dl->AddImage(imgui_texture(ui.compare_targets[static_cast<size_t>(i)].texture()), origin, end);
    const float cell = pg.patch * scale;
    for (int t : *rings[i]) {
      if (t < 0 || t >= pg.count()) continue;
      const int tc = t % pg.cols, tr = t / pg.cols;
      const ImVec2 p0(origin.x + static_cast<float>(tc) * cell, origin.y + static_cast<float>(tr) * cell);
      const ImVec2 p1(p0.x + cell, p0.y + cell);
      const float rw = std::clamp(cell * 0.25f, 1.0f, 2.0f);
      dl->AddRect(ImVec2(p0.x - 1, p0.y - 1), ImVec2(p1.x + 1, p1.y + 1), IM_COL32(0, 0, 0, 255), 0.0f, 0, 1.0f);
      dl->AddRect(ImVec2(p0.x + rw / 2, p0.y + rw / 2), ImVec2(p1.x - rw / 2, p1.y - rw / 2),
                  IM_COL32(255, 255, 255, 255), 0.0f, 0, rw);
    }
    // Colour bars: A and B on their own scales, the difference symmetric.
    const ImVec2 bp(origin.x + size.x * 0.1f, end.y + 4);
    if (i < 2) {
      const attn::MapRange r =
          attn::scale_range(*maps[i], style.scale,
                            style.scale_includes_outlined ? std::span<const int>() : std::span<const int>(*rings[i]));
      colour_bar(dl, style.colormap, bp, size.x * 0.8f, bar, number(r.lo), "", number(r.hi));
    } else {
      colour_bar(dl, attn::Colormap::Diverging, bp, size.x * 0.8f, bar, number(-top, true), "0", number(top, true));
    }
    if (hovered_any && io.MousePos.x >= origin.x && io.MousePos.x < end.x && io.MousePos.y >= origin.y &&
        io.MousePos.y < end.y) {
      const int c = static_cast<int>((io.MousePos.x - origin.x) / scale) / pg.patch;
      const int r = static_cast<int>((io.MousePos.y - origin.y) / scale) / pg.patch;
      if (c < pg.cols && r < pg.rows && pg.index(c, r) < sc->cells_used) {
        const ImVec2 p0(origin.x + c * cell, origin.y + r * cell);
        dl->AddRect(p0, ImVec2(p0.x + cell, p0.y + cell), IM_COL32(0, 255, 255, 255), 0.0f, 0, 2.0f);
        const int here = pg.index(c, r);
        hovered = i == 1 ? attn::map_cell(here, pg, g) : here;
        if (b) hovered_b = i == 1 ? here : attn::map_cell(here, g, b->grid);
      }
    }
  }
  ui.hovered = hovered;
  if (hovered >= 0) {
    const auto at = [](const std::vector<float>& m, int t) {
      return t >= 0 && t < static_cast<int>(m.size()) ? m[static_cast<size_t>(t)] : 0.0f;
    };
    ImGui::BeginTooltip();
    ImGui::Text("patch (%d, %d)", hovered % g.cols, hovered / g.cols);
    ImGui::Text("A      %.6g  (%s)", at(state.map, hovered), label_a.c_str());
    if (b) ImGui::Text("B      %.6g  (%s)", at(state.map_b, hovered_b), label_b.c_str());
    ImGui::Text("A - B  %+.6g", at(state.difference, hovered));
    if (b && (b->grid.cols != g.cols || b->grid.rows != g.rows))
      ImGui::TextDisabled("B's grid is %d x %d: A - B uses B resampled onto A's %d x %d", b->grid.cols, b->grid.rows,
                          g.cols, g.rows);
    ImGui::EndTooltip();
    if (!a.words && ImGui::IsMouseClicked(ImGuiMouseButton_Left)) {
      state.select(clicked_selection(state.effective_queries(), hovered, io.KeyShift));
    }
  }
  // How to read the difference: in the free cell of a 2 x 2 layout, else
  // under the row.
  const ImVec2 note =
      cols == 2 ? ImVec2(canvas.x + w + gap + 8, canvas.y + cell_h + extra + line) : ImVec2(canvas.x + 8, bottom + 4);
  const float wrap = cols == 2 ? w - 16 : avail.x - 16;
  const std::string lines[3] = {
      "B is A with " + label_b + " instead of " + label_a + "; every other setting and the queries are shared.",
      "A - B: red where A attends more, blue where B does; the scale is symmetric about zero and leaves the "
      "queries' own patches out.",
      "B turns this off; File > Export comparison writes it as a figure."};
  float y = note.y;
  for (int i = 0; i < 3; ++i) {
    const ImU32 colour = ImGui::GetColorU32(i < 2 ? ImGuiCol_Text : ImGuiCol_TextDisabled);
    dl->AddText(ImGui::GetFont(), ImGui::GetFontSize(), ImVec2(note.x, y), colour, lines[i].c_str(), nullptr, wrap);
    y += ImGui::CalcTextSize(lines[i].c_str(), nullptr, false, wrap).y + 4;
  }
}

void draw_compare_controls(AppState& state, UiContext& ui) {
  Settings& s = state.settings;
  CompareSettings& c = s.compare;
  bool on = c.on;
  if (ImGui::Checkbox("compare A | B | A - B", &on)) c.toggle(s.attention.temperature);
  tooltip(
      "Split the image into A (these settings), B (A with the ticked settings below changed) and their "
      "difference. Shortcut: B.");
  if (!c.on) return;
  ImGui::Checkbox("B's temperature", &c.temperature);
  if (c.temperature) {
    float t = static_cast<float>(c.b_temperature);
    if (ImGui::SliderFloat("##b_temperature", &t, 0.01f, 100.0f, "%.3g", ImGuiSliderFlags_Logarithmic))
      c.b_temperature = std::max(1e-6f, t);
  }
  const int heads = state.scene.heads;
  ImGui::Checkbox("B's head", &c.head);
  if (c.head && heads > 0) {
    const std::string now = c.b_head < 0 ? heads_word(state) + " of heads" : "head " + std::to_string(c.b_head);
    if (ImGui::BeginCombo("##b_head", now.c_str())) {
      if (ImGui::Selectable((heads_word(state) + " of heads").c_str(), c.b_head < 0)) c.b_head = -1;
      for (int h = 0; h < heads; ++h)
        if (ImGui::Selectable(("head " + std::to_string(h)).c_str(), c.b_head == h)) c.b_head = h;
      ImGui::EndCombo();
    }
  }
  const int layers = state.scene.vit     ? state.scene.vit->model->depth
                     : state.scene.words ? state.scene.words->layers()
                                         : 0;
  if (layers > 0) {
    ImGui::Checkbox("B's layer", &c.layer);
    if (c.layer) {
      int layer = c.b_layer < 0 ? layers - 1 : c.b_layer;
      if (ImGui::SliderInt("##b_layer", &layer, 0, layers - 1)) c.b_layer = layer;
    }
  }
  // B's own image (any source that reads one) or own ViT.
  auto file_choice = [&](const char* name, bool& ticked, const std::string& path, const char* help) {
    ImGui::Checkbox(name, &ticked);
    tooltip(help);
    if (!ticked) return;
    const size_t slash = path.find_last_of('/');
    ImGui::TextDisabled("%s", path.empty() ? "the bundled sample"
                                           : (slash == std::string::npos ? path : path.substr(slash + 1)).c_str());
    ImGui::SameLine();
    if (ImGui::SmallButton((std::string("choose...##") + name).c_str())) ui.dialog.show(FileAction::ChooseCompareB);
  };
  if (is_image_source(s.tokens.source) || s.tokens.source == Source::Vit)
    file_choice("B's image", c.image, c.b_image, "Compare the same settings on another photo.");
  if (s.tokens.source == Source::Vit)
    file_choice("B's model", c.model, c.b_weights,
                "Compare another Vision Transformer on the same photo (DINO against CLIP, with and without "
                "registers): where the grids differ, B is resampled onto A's for A - B.");
  if (!state.scene.vit && !state.scene.words) {
    ImGui::Checkbox("B's score", &c.score);
    if (c.score) enum_combo("##b_score", c.b_score, "B's score function.");
    ImGui::Checkbox("B's normaliser", &c.norm);
    if (c.norm) enum_combo("##b_norm", c.b_norm, "B's normaliser.");
    ImGui::Checkbox("B's mask", &c.mask);
    if (c.mask) enum_combo("##b_mask", c.b_mask, "B's mask.");
  }
}

}  // namespace gui
