#include "word_files.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <nlohmann/json.hpp>

#include "error.hpp"
#include "io.hpp"
#include "npy.hpp"
#include "safetensors.hpp"

namespace attn {
namespace {

std::string shape_text(std::span<const std::int64_t> shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

// [T, N], [H, T, N] or [L, H, T, N] -> {L, H, T, N}, or an error that says
// which shapes are meant.
std::array<std::int64_t, 4> stack_shape(std::span<const std::int64_t> shape, const std::string& name) {
  if (shape.size() < 2 || shape.size() > 4)
    throw Error(name + ": attention of shape " + shape_text(shape) + " has rank " + std::to_string(shape.size()) +
                "; expected [T, N], [H, T, N] or [L, H, T, N] (T words as queries, N keys)");
  std::array<std::int64_t, 4> out = {1, 1, 1, 1};
  std::copy(shape.begin(), shape.end(), out.begin() + static_cast<long>(4 - shape.size()));
  for (std::int64_t d : out)
    if (d <= 0) throw Error(name + ": attention of shape " + shape_text(shape) + " is empty");
  if (out[0] > (1 << 20) || out[1] > (1 << 20) || out[2] > (1 << 30) || out[3] > (1 << 30))
    throw Error(name + ": attention of shape " + shape_text(shape) + " is too large");
  return out;
}

// The stack of `values` (C order, shape {L, H, T, N}); every value checked.
WordAttentionFile to_stack(std::span<const float> values, std::span<const std::int64_t> file_shape,
                           const std::string& name, const WordFileLimits& limits) {
  const auto s = stack_shape(file_shape, name);
  bool negative = false;
  for (size_t i = 0; i < values.size(); ++i) {
    const float v = values[i];
    if (std::isfinite(v)) {
      negative |= v < 0.0f;
      continue;
    }
    // The element's index in the file's own shape.
    std::string at;
    size_t rest = i;
    for (size_t d = file_shape.size(); d-- > 0;) {
      const auto n = static_cast<size_t>(file_shape[d]);
      std::string index = std::to_string(rest % n);
      if (!at.empty()) index += ", ";
      at = index.append(at);
      rest /= n;
    }
    std::string msg = name;
    msg.append(": weight [").append(at).append("] is ");
    msg.append(std::isnan(v) ? "NaN" : v > 0 ? "+Inf" : "-Inf").append("; every weight must be finite");
    throw Error(msg);
  }
  const double f32_bytes = 4.0 * static_cast<double>(values.size());
  const Precision precision =
      f32_bytes <= static_cast<double>(limits.max_f32_attention_bytes) ? Precision::F32 : Precision::F16;
  const double bytes = precision == Precision::F32 ? f32_bytes : f32_bytes / 2;
  if (bytes > static_cast<double>(limits.max_attention_bytes))
    throw Error(name + ": attention of shape " + shape_text(file_shape) + " needs " +
                format_bytes(static_cast<std::uint64_t>(bytes)) + " even in half precision (the limit is " +
                format_bytes(limits.max_attention_bytes) + "); save fewer layers or heads");
  WordAttentionFile out;
  out.negative = negative;
  out.shape.assign(file_shape.begin(), file_shape.end());
  out.weights = AttentionStack(static_cast<int>(s[0]), static_cast<int>(s[1]), static_cast<int>(s[2]),
                               static_cast<int>(s[3]), precision);
  const size_t per_head = static_cast<size_t>(s[2] * s[3]);
  for (int l = 0; l < s[0]; ++l)
    for (int h = 0; h < s[1]; ++h)
      out.weights.set_rows(l, h, 0, static_cast<int>(s[2]),
                           values.data() + (static_cast<size_t>(l) * static_cast<size_t>(s[1]) + h) * per_head);
  return out;
}

void check_token(const std::string& token, size_t index, const std::string& where, const WordFileLimits& limits) {
  if (token.size() > static_cast<size_t>(limits.max_token_bytes))
    throw Error(where + " is " + std::to_string(token.size()) + " bytes long; a token is at most " +
                std::to_string(limits.max_token_bytes));
  if (token.find('\0') != std::string::npos) throw Error(where + " holds a NUL byte (is this a binary file?)");
  if (index >= static_cast<size_t>(limits.max_tokens))
    throw Error(where + ": more than " + std::to_string(limits.max_tokens) + " tokens");
}

std::vector<std::string> parse_token_json(std::string_view text, const std::string& name,
                                          const WordFileLimits& limits) {
  using nlohmann::json;
  json j;
  try {
    j = json::parse(text, [&](int depth, json::parse_event_t, json&) {
      if (depth > 2) throw Error(name + ": a token list is a flat JSON list of strings; this one nests deeper");
      return true;
    });
  } catch (const json::exception& e) {
    throw Error(name + ": not a valid JSON list of strings (" + std::string(e.what()) + ")");
  }
  if (!j.is_array()) throw Error(name + ": expected a JSON list of strings");
  std::vector<std::string> out;
  for (size_t i = 0; i < j.size(); ++i) {
    const json& v = j[i];
    if (v.is_number())
      throw Error(name + ": element " + std::to_string(i) +
                  " is a number; the list must hold the tokens' text (decode the token ids with the tokenizer, "
                  "e.g. tokenizer.convert_ids_to_tokens(ids))");
    if (!v.is_string()) throw Error(name + ": element " + std::to_string(i) + " is not a string");
    std::string token = v.get<std::string>();
    check_token(token, i, name + ": token " + std::to_string(i), limits);
    out.push_back(std::move(token));
  }
  return out;
}

// One token per line ("\n" or "\r\n"); a final newline ends the last line.
std::vector<std::string> parse_token_lines(std::string_view text, const std::string& name,
                                           const WordFileLimits& limits) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(start, end - start);
    if (line.ends_with('\r')) line.remove_suffix(1);
    if (line.empty())
      throw Error(name + ": line " + std::to_string(out.size() + 1) +
                  " is empty; each line is one token (write a JSON list of strings for tokens that are empty)");
    check_token(std::string(line), out.size(), name + ": line " + std::to_string(out.size() + 1), limits);
    out.emplace_back(line);
    start = end + 1;
  }
  return out;
}

}  // namespace

WordAttentionFile parse_word_attention_npy(std::span<const std::uint8_t> bytes, const std::string& name,
                                           const WordFileLimits& limits) {
  NpyLimits npy;
  npy.max_rank = 4;
  npy.max_file_bytes = limits.max_attention_file_bytes;
  const Array a = parse_npy(bytes, name, npy);
  return to_stack(a.data, a.shape, name, limits);
}

namespace {

WordAttentionFile from_tensor_file(const TensorFile& file, const std::string& name, const std::string& tensor,
                                   const WordFileLimits& limits) {
  const StoredTensor* chosen = nullptr;
  std::string chosen_name;
  if (!tensor.empty()) {
    const auto it = file.tensors.find(tensor);
    if (it == file.tensors.end()) throw Error(name + ": has no tensor \"" + tensor + "\"");
    chosen = &it->second, chosen_name = tensor;
  } else {
    std::vector<std::string> candidates;
    for (const auto& [n, t] : file.tensors)
      if (t.shape.size() >= 2 && t.shape.size() <= 4) candidates.push_back(n);
    if (candidates.empty()) throw Error(name + ": holds no tensor of rank 2 to 4 ([T, N], [H, T, N] or [L, H, T, N])");
    if (candidates.size() > 1) {
      std::string list;
      for (size_t i = 0; i < candidates.size() && i < 8; ++i) list += (i ? ", " : "") + candidates[i];
      if (candidates.size() > 8) list += ", ...";
      throw Error(name + ": holds " + std::to_string(candidates.size()) + " tensors that could be attention (" + list +
                  "); name one (--tensor NAME)");
    }
    chosen_name = candidates.front();
    chosen = &file.tensors.at(chosen_name);
  }
  const DType d = chosen->dtype;
  if (d != DType::F16 && d != DType::BF16 && d != DType::F32 && d != DType::F64)
    throw Error(name + ": tensor \"" + chosen_name + "\" is " + std::string(name_of(chosen->dtype)) +
                "; attention must be floating point (F16, BF16, F32 or F64)");
  stack_shape(chosen->shape, name + ": tensor \"" + chosen_name + "\"");  // before converting anything
  const std::int64_t n = chosen->elements();
  if (static_cast<double>(n) * 2 > static_cast<double>(limits.max_attention_bytes))
    throw Error(name + ": tensor \"" + chosen_name + "\" of shape " + shape_text(chosen->shape) +
                " is too large to keep (the limit is " + format_bytes(limits.max_attention_bytes) + ")");
  const std::vector<float> values = chosen->to_float(chosen_name);
  WordAttentionFile out = to_stack(values, chosen->shape, name + ": tensor \"" + chosen_name + "\"", limits);
  out.tensor = chosen_name;
  return out;
}

}  // namespace

WordAttentionFile parse_word_attention_safetensors(std::span<const std::uint8_t> bytes, const std::string& name,
                                                   const std::string& tensor, const WordFileLimits& limits) {
  return from_tensor_file(parse_safetensors(bytes, name), name, tensor, limits);
}

WordAttentionFile read_word_attention(const std::string& path, const std::string& tensor,
                                      const WordFileLimits& limits) {
  const bool npy = path.size() >= 4 && path.compare(path.size() - 4, 4, ".npy") == 0;
  if (npy) {
    if (!tensor.empty()) throw Error(path + ": a .npy file holds one array; --tensor is for .safetensors files");
    return parse_word_attention_npy(read_file(path, limits.max_attention_file_bytes), path, limits);
  }
  SafeTensorsLimits st;
  st.max_file_bytes = limits.max_attention_file_bytes;
  return from_tensor_file(read_safetensors(path, st), path, tensor, limits);
}

std::vector<std::string> parse_tokens(std::span<const std::uint8_t> bytes, const std::string& name,
                                      const WordFileLimits& limits) {
  if (bytes.size() > limits.max_tokens_file_bytes)
    throw Error(name + ": " + std::to_string(bytes.size()) + " bytes is over the limit of " +
                format_bytes(limits.max_tokens_file_bytes) + " for a token list");
  std::string_view text(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  if (text.starts_with("\xef\xbb\xbf")) text.remove_prefix(3);
  if (const size_t bad = invalid_utf8(text); bad != std::string_view::npos) {
    const size_t line = 1 + static_cast<size_t>(std::count(text.begin(), text.begin() + static_cast<long>(bad), '\n'));
    throw Error(name + ": line " + std::to_string(line) + " is not valid UTF-8 (byte " + std::to_string(bad) + ")");
  }
  const size_t first = text.find_first_not_of(" \t\r\n");
  const bool json = first != std::string_view::npos && text[first] == '[';
  std::vector<std::string> out = json ? parse_token_json(text, name, limits) : parse_token_lines(text, name, limits);
  if (out.empty()) throw Error(name + ": holds no tokens (one per line, or a JSON list of strings)");
  return out;
}

std::vector<std::string> read_tokens(const std::string& path, const WordFileLimits& limits) {
  return parse_tokens(read_file(path, limits.max_tokens_file_bytes), path, limits);
}

}  // namespace attn
