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
  tooltip(
      "A ViT, DINO, DINOv2, CLIP, SigLIP or DeiT as downloaded: .safetensors, a sharded "
      "model.safetensors.index.json, or a PyTorch .pth/.pt/.bin; config files beside it are read.");
  if (const auto& run = state.scene.vit) {
    const auto& model = *run->model;
    ImGui::TextWrapped("%s", model.describe().c_str());
    const int prefix = model.prefix_tokens();
    ImGui::TextWrapped("N = %s%d x %d patches%s", prefix ? (std::to_string(prefix) + " + ").c_str() : "",
                       state.scene.grid.cols, state.scene.grid.rows,
                       model.registers ? (" + " + std::to_string(model.registers) + " registers").c_str() : "");
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
  label("heads (0: the model's)");
  ImGui::InputInt("##vit heads", &m.heads);
  m.heads = std::clamp(m.heads, 0, 64);
  tooltip("How many heads the weights were trained with; 0 takes the config file's, else width / 64.");
  float mt = static_cast<float>(m.temperature);
  label("model temperature (every layer)");
  if (ImGui::SliderFloat("##model temperature", &mt, 0.1f, 10.0f, "%.3g", ImGuiSliderFlags_Logarithmic))
    m.temperature = mt;
  tooltip("Divides the logits inside every layer's softmax, so the change propagates through the whole network.");

  section("View");
  // The views this model has: a class token's (or its pooling probe's), a
  // distillation token's, rollout (from the class token), patches, norms.
  const attn::VitModel* model = state.scene.vit ? state.scene.vit->model.get() : nullptr;
  auto available = [&](attn::ViewQuery q) {
    if (!model) return true;
    switch (q) {
      case attn::ViewQuery::ClassToken:
        return model->has_class || model->probe.has_value();
      case attn::ViewQuery::Rollout:
        return model->has_class;
      case attn::ViewQuery::DistillationToken:
        return model->has_distillation;
      default:
        return true;
    }
  };
  auto view_label = [&](attn::ViewQuery q) {
    if (q == attn::ViewQuery::ClassToken && model && !model->has_class) return std::string("pooling probe");
    return std::string(attn::entry_of(q).label);
  };
  if (!available(v.query)) v.query = attn::ViewQuery::Patches;
  label("attention of");
  if (ImGui::BeginCombo("##attention of", view_label(v.query).c_str())) {
    for (const auto& e : attn::enum_names<attn::ViewQuery>()) {
      if (!available(e.value)) continue;
      if (ImGui::Selectable(view_label(e.value).c_str(), v.query == e.value)) v.query = e.value;
      if (ImGui::IsItemHovered()) ImGui::SetTooltip("%s", std::string(e.help).c_str());
    }
    ImGui::EndCombo();
  }
  tooltip("Whose attention to show (or, for token norms, how long each patch token is after the layer).");
  const int L = state.scene.vit ? state.scene.vit->model->depth : 1;
  int layer = v.layer < 0 ? L - 1 : v.layer;
  label("layer");
  if (ImGui::SliderInt("##layer", &layer, 0, L - 1)) v.layer = layer == L - 1 ? -1 : layer;
  tooltip("Which layer's attention to show (rollout uses them all).");
  if (v.query == attn::ViewQuery::TokenNorms) {
    // Lengths, not weights: the attention controls below do not apply.
    ImGui::TextWrapped(
        "Each patch token's length (L2 norm) after layer %d, from the shortest (dark) to the longest. Ringed: more "
        "than 3x the median, the artefacts that soak up attention (Darcet et al. 2023).",
        layer);
    return;
  }
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
  label("leave out the longest tokens");
  ImGui::SliderInt("##ignore norms", &v.ignore_top_norms, 0, 16, v.ignore_top_norms ? "%d" : "none");
  tooltip(
      "Ignore the k patch tokens with the largest norms at this layer's input (the artefacts the registers paper "
      "found, which soak up attention) and renormalise the rest.");
  ImGui::Checkbox("class token in the share", &v.include_cls);
  tooltip("Off: the patches' weights are renormalised to sum to 1. On: raw weights, the class token keeps its share.");
  ImGui::Checkbox("registers in the share", &v.include_registers);
  tooltip("Likewise for register tokens, which often absorb much of the attention.");
  ImGui::Text("class token: %.1f%%  registers: %.1f%%", 100 * state.class_share, 100 * state.register_share);
  tooltip("How much of the shown row's attention goes to the class token and to the registers.");
  float t = static_cast<float>(s.attention.temperature);
  label("display temperature");
  if (ImGui::SliderFloat("##display temperature", &t, 0.1f, 10.0f, "%.3g", ImGuiSliderFlags_Logarithmic))
    s.attention.temperature = t;
  tooltip("Re-sharpens or flattens the shown layer's weights alone (w^(1/T), renormalised); the network is not rerun.");
}

}  // namespace gui
