// A Vision Transformer's settings: the model, whose attention, which layer,
// how heads combine, DINO's mask and the special tokens' shares.
#include <algorithm>

#include "panels.hpp"

namespace gui {

void draw_vit_controls(AppState& state, UiContext& ui) {
  Settings& s = state.settings;
  ModelSettings& m = s.model;
  ViewSettings& v = s.view;
  ImGui::TextWrapped("weights: %s", m.weights.c_str());
  if (ImGui::Button("Open weights...")) ui.dialog.show(FileAction::Open);
  tooltip("A .safetensors file of a timm/DINO, Hugging Face or torchvision ViT; a config.json beside it is read.");
  if (const auto& run = state.scene.vit) {
    const auto& model = *run->model;
    ImGui::TextWrapped("%s layout: width %d, depth %d, %d heads, patch %d%s", model.layout.c_str(), model.width,
                       model.depth, model.heads, model.patch,
                       model.registers ? (", " + std::to_string(model.registers) + " registers").c_str() : "");
    ImGui::Text("N = 1 + %d x %d patches%s", state.scene.grid.cols, state.scene.grid.rows,
                model.registers ? " + registers" : "");
  }
  label("image size (shorter side)");
  static constexpr const char* kSizes[] = {
      "the model's own", "keep the image's", "224", "336", "448", "518", "672", "896"};
  static constexpr int kSizeValues[] = {0, -1, 224, 336, 448, 518, 672, 896};
  int current = 0;
  for (int i = 0; i < 8; ++i)
    if (kSizeValues[i] == m.size) current = i;
  if (ImGui::Combo("##size", &current, kSizes, 8)) m.size = kSizeValues[current], s.selection.queries.clear();
  tooltip(
      "The image is resized so its shorter side has this many pixels, then cropped to whole patches; larger is "
      "slower.");
  label("heads (0: from config.json or width / 64)");
  ImGui::InputInt("##vit heads", &m.heads);
  m.heads = std::clamp(m.heads, 0, 64);
  tooltip("How many heads the weights were trained with, when no config.json says.");
  float mt = static_cast<float>(m.temperature);
  label("model temperature (every layer)");
  if (ImGui::SliderFloat("##model temperature", &mt, 0.1f, 10.0f, "%.3g", ImGuiSliderFlags_Logarithmic))
    m.temperature = mt;
  tooltip("Divides the logits inside every layer's softmax, so the change propagates through the whole network.");

  section("View");
  label("attention of");
  enum_combo("##attention of", v.query, "Whose attention to show.");
  const int L = state.scene.vit ? state.scene.vit->model->depth : 1;
  int layer = v.layer < 0 ? L - 1 : v.layer;
  label("layer");
  if (ImGui::SliderInt("##layer", &layer, 0, L - 1)) v.layer = layer == L - 1 ? -1 : layer;
  tooltip("Which layer's attention to show (rollout uses them all).");
  label("combine heads by");
  enum_combo("##combine heads by", v.fusion, "How \"all heads\" (and rollout) combine the heads.");
  if (v.query == attn::ViewQuery::Rollout) {
    float d = static_cast<float>(v.discard);
    label("discard ratio");
    if (ImGui::SliderFloat("##discard", &d, 0.0f, 0.95f, "%.2f")) v.discard = d;
    tooltip(
        "Rollout: drop this fraction of the smallest weights in each layer before multiplying (Abnar & Zuidema 2020).");
  }
  float keep = static_cast<float>(v.keep_mass * 100.0);
  label("keep % of the attention mass");
  if (ImGui::SliderFloat("##keep", &keep, 1.0f, 100.0f, "%.0f%%")) v.keep_mass = keep / 100.0;
  tooltip("DINO's mask: show only the patches that together hold this share of the attention (100%: show the map).");
  ImGui::Checkbox("class token in the share", &v.include_cls);
  tooltip("Off: the patches' weights are renormalised to sum to 1. On: raw weights, the class token keeps its share.");
  ImGui::Checkbox("registers in the share", &v.include_registers);
  tooltip("Likewise for register tokens, which often absorb much of the attention.");
  ImGui::Text("class token: %.1f%%  registers: %.1f%%", 100 * state.class_share, 100 * state.register_share);
  tooltip("How much of the shown row's attention goes to the class token and to the registers.");
  float t = static_cast<float>(s.attention.temperature);
  label("display temperature (this layer only)");
  if (ImGui::SliderFloat("##display temperature", &t, 0.1f, 10.0f, "%.3g", ImGuiSliderFlags_Logarithmic))
    s.attention.temperature = t;
  tooltip("Re-sharpens or flattens the shown weights alone (w^(1/T), renormalised); the network is not rerun.");
}

}  // namespace gui
