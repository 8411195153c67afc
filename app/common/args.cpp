#include "args.hpp"

#include <charconv>
#include <cmath>

#include "core/error.hpp"
#include "core/io.hpp"

namespace app {
namespace {

long long to_int(const std::string& text, const std::string& what) {
  long long v = 0;
  const auto r = std::from_chars(text.data(), text.data() + text.size(), v);
  if (text.empty() || r.ec != std::errc() || r.ptr != text.data() + text.size())
    throw attn::Error(what + ": expected an integer, got '" + text + "'");
  return v;
}

}  // namespace

Args::Args(int argc, char** argv, int first, const std::vector<OptionSpec>& spec, int max_positional) {
  for (int i = first; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg.rfind("--", 0) != 0) {
      if (static_cast<int>(positionals_.size()) >= max_positional)
        throw UsageError("unexpected argument '" + arg + "'");
      positionals_.push_back(arg);
      continue;
    }
    std::string name = arg.substr(2), value;
    bool inline_value = false;
    if (const auto eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
      inline_value = true;
    }
    if (name == "help") {
      values_["help"] = "";
      continue;
    }
    const OptionSpec* s = nullptr;
    for (const auto& o : spec)
      if (o.name == name) s = &o;
    if (!s) throw UsageError("unknown option --" + name);
    if (values_.contains(name)) throw UsageError("option --" + name + " given twice");
    if (s->takes_value && !inline_value) {
      if (i + 1 >= argc) throw UsageError("option --" + name + " needs a value");
      value = argv[++i];
    } else if (!s->takes_value && inline_value) {
      throw UsageError("option --" + name + " takes no value");
    }
    values_[name] = value;
  }
}

std::vector<std::pair<std::string, std::string>> parse_pairs(const std::string& pairs, const std::string& what,
                                                             const std::string& keys) {
  std::vector<std::pair<std::string, std::string>> kv;
  size_t start = 0;
  while (start <= pairs.size()) {
    size_t comma = pairs.find(',', start);
    if (comma == std::string::npos) comma = pairs.size();
    const std::string part = pairs.substr(start, comma - start);
    start = comma + 1;
    const size_t eq = part.find('=');
    if (eq == std::string::npos) {
      if (kv.empty() || part.empty())
        throw attn::Error(what + ": expected KEY=VALUE[,KEY=VALUE...]" + (keys.empty() ? "" : " (keys: " + keys + ")") +
                          ", got '" + attn::printable(pairs) + "'");
      kv.back().second.append(",").append(part);
      continue;
    }
    kv.emplace_back(part.substr(0, eq), part.substr(eq + 1));
  }
  return kv;
}

Args Args::with(const std::string& pairs, const std::vector<OptionSpec>& spec,
                std::initializer_list<std::string_view> refused, const std::string& what,
                std::vector<std::pair<std::string, std::string>>* changed) const {
  const auto kv = parse_pairs(pairs, what);
  Args out = *this;
  for (const auto& [key, value] : kv) {
    const OptionSpec* s = nullptr;
    for (const auto& o : spec)
      if (o.name == key) s = &o;
    bool is_refused = false;
    for (std::string_view r : refused) is_refused |= r == key;
    if (!s || is_refused || key == "help")
      throw attn::Error(what + ": '" + attn::printable(key) + "' is not a setting that can differ (" +
                        (s ? "it is the same for both sides" : "not an option of this command") + ")");
    if (s->takes_value) {
      out.values_[key] = value;
    } else if (value == "true" || value == "on" || value == "yes" || value == "1") {
      out.values_[key] = "";
    } else if (value == "false" || value == "off" || value == "no" || value == "0") {
      out.values_.erase(key);
    } else {
      throw attn::Error(
          what + ": " +
          std::string(key).append(" is a switch: give ").append(key).append("=true or ").append(key).append("=false"));
    }
  }
  if (changed) *changed = kv;
  return out;
}

std::optional<std::string> Args::get(std::string_view name) const {
  const auto it = values_.find(std::string(name));
  if (it == values_.end()) return std::nullopt;
  return it->second;
}

std::string Args::require(std::string_view name) const {
  auto v = get(name);
  if (!v) throw UsageError("missing required option --" + std::string(name));
  return *v;
}

long long Args::get_int(std::string_view name, long long fallback, long long lo, long long hi) const {
  const auto v = get(name);
  if (!v) return fallback;
  const std::string what = "--" + std::string(name);
  const long long x = to_int(*v, what);
  if (x < lo || x > hi)
    throw attn::Error(what + ": " + *v + " is out of range [" + std::to_string(lo) + ", " + std::to_string(hi) + "]");
  return x;
}

double Args::get_double(std::string_view name, double fallback) const {
  const auto v = get(name);
  if (!v) return fallback;
  double x = 0.0;
  const auto r = std::from_chars(v->data(), v->data() + v->size(), x);
  if (v->empty() || r.ec != std::errc() || r.ptr != v->data() + v->size())
    throw attn::Error("--" + std::string(name) + ": expected a number, got '" + *v + "'");
  return x;
}

int Args::get_choice(std::string_view name, std::initializer_list<std::string_view> choices, int fallback) const {
  const auto v = get(name);
  if (!v) return fallback;
  int i = 0;
  std::string list;
  for (auto c : choices) {
    if (c == *v) return i;
    if (i++) list += '|';
    list += c;
  }
  throw attn::Error("--" + std::string(name) + ": '" + *v + "' is not one of " + list);
}

std::pair<long long, long long> parse_pair(const std::string& text, const std::string& what) {
  const auto comma = text.find(',');
  if (comma == std::string::npos) throw attn::Error(what + ": expected COL,ROW, got '" + text + "'");
  return {to_int(text.substr(0, comma), what), to_int(text.substr(comma + 1), what)};
}

}  // namespace app
