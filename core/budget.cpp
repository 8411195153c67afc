#include "budget.hpp"

#include "error.hpp"
#include "io.hpp"

namespace attn {

void check_budget(double bytes, double budget, const std::string& what, const std::string& limit_name,
                  const std::string& remedy) {
  if (bytes <= budget) return;
  throw Error(what + " would need " + format_bytes(static_cast<std::uint64_t>(bytes)) + ", more than the " +
              format_bytes(static_cast<std::uint64_t>(budget)) + " " + limit_name + "; " + remedy);
}

}  // namespace attn
