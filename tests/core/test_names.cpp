// Every enum's name table: entries in the enum's order, names unique and
// read back, aliases accepted, unknown names refused with the choices.
#include <gtest/gtest.h>

#include <set>

#include "core/attention.hpp"
#include "core/attention_record.hpp"
#include "core/attention_views.hpp"
#include "core/colormap.hpp"
#include "core/overlay.hpp"
#include "core/sources.hpp"
#include "core/tensor_file.hpp"
#include "core/tokens.hpp"
#include "core/word_views.hpp"

namespace {

template <typename E>
void check_table(const char* what) {
  const auto names = attn::enum_names<E>();
  ASSERT_FALSE(names.empty()) << what;
  std::set<std::string_view> seen;
  for (size_t i = 0; i < names.size(); ++i) {
    const auto& e = names[i];
    EXPECT_EQ(static_cast<size_t>(e.value), i) << what << ": entry " << i << " is out of order";
    EXPECT_TRUE(seen.insert(e.name).second) << what << ": " << e.name << " twice";
    EXPECT_EQ(attn::from_name<E>(e.name), e.value) << what;
    EXPECT_EQ(attn::name_of(e.value), e.name);
    EXPECT_FALSE(e.label.empty()) << what << " " << e.name;
    EXPECT_FALSE(e.help.empty()) << what << " " << e.name;
  }
  EXPECT_FALSE(attn::from_name<E>("no-such-name").has_value());
  try {
    attn::parse_enum<E>("no-such-name", "--what");
    ADD_FAILURE() << what << ": an unknown name was accepted";
  } catch (const attn::Error& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("--what"), std::string::npos) << msg;
    EXPECT_NE(msg.find(std::string(names.front().name)), std::string::npos) << msg;
  }
}

TEST(Names, EveryTableIsComplete) {
  check_table<attn::Score>("Score");
  check_table<attn::Norm>("Norm");
  check_table<attn::MaskStructure>("MaskStructure");
  check_table<attn::Colormap>("Colormap");
  check_table<attn::Upsample>("Upsample");
  check_table<attn::MapScale>("MapScale");
  check_table<attn::ImageSource>("ImageSource");
  check_table<attn::HeadFusion>("HeadFusion");
  check_table<attn::ViewQuery>("ViewQuery");
  check_table<attn::TokenKind>("TokenKind");
  check_table<attn::AttentionRole>("AttentionRole");
  check_table<attn::DType>("DType");
  check_table<attn::WordSmooth>("WordSmooth");
  check_table<attn::WordScale>("WordScale");
  // Every colormap is reachable by name (the combo and the C key walk the table).
  EXPECT_EQ(attn::enum_names<attn::Colormap>().size(), std::size(attn::kAllColormaps));
}

TEST(Names, AliasesAreAccepted) {
  EXPECT_EQ(attn::from_name<attn::ViewQuery>("cls"), attn::ViewQuery::ClassToken);
  EXPECT_EQ(attn::from_name<attn::ViewQuery>("class-token"), attn::ViewQuery::ClassToken);
  EXPECT_EQ(attn::from_name<attn::Colormap>("gray"), attn::Colormap::Greyscale);
  EXPECT_EQ(attn::from_name<attn::Colormap>("grayscale"), attn::Colormap::Greyscale);
  EXPECT_EQ(attn::from_name<attn::TokenKind>("cls"), attn::TokenKind::Class);
  EXPECT_FALSE(attn::from_name<attn::Colormap>("gra").has_value());  // not a prefix match
  EXPECT_EQ(attn::enum_choices<attn::MaskStructure>(), "none|causal|local");
}

}  // namespace
