// CSV reading and its bad-input cases.
#include <gtest/gtest.h>

#include "core/csv.hpp"
#include "core/error.hpp"

namespace {

attn::Matrix parse(const std::string& text) {
  return attn::parse_csv(std::span(reinterpret_cast<const std::uint8_t*>(text.data()), text.size()), "m.csv");
}

std::string error_of(const std::string& text) {
  try {
    parse(text);
  } catch (const attn::Error& e) {
    return e.what();
  }
  return "";
}

TEST(Csv, ParsesSeparatorsBomCrlfAndHeaders) {
  attn::Matrix expect(2, 3);
  expect << 1, 2.5f, -3, 4e-3f, 5, 6;
  EXPECT_EQ(parse("1,2.5,-3\n4e-3,5,6\n"), expect);
  EXPECT_EQ(parse("\xEF\xBB\xBF"
                  "1, 2.5, -3\r\n4e-3, 5, +6\r\n"),
            expect);
  EXPECT_EQ(parse("a;b;c\n1;2.5;-3\n\n4e-3;5;6"), expect);
  EXPECT_EQ(parse("1\t2.5\t-3\n4e-3\t5\t6\n"), expect);
  EXPECT_EQ(parse("\"x\",\"y\",\"z\"\n\"1\",\"2.5\",\"-3\"\n4e-3,5,6\n"), expect);
}

TEST(Csv, BadInputsNameTheLineAndColumn) {
  EXPECT_NE(error_of("1,2,3\n4,5\n").find("line 2: has 2 cells, expected 3"), std::string::npos);
  EXPECT_NE(error_of("").find("empty"), std::string::npos);
  EXPECT_NE(error_of("\xEF\xBB\xBF\r\n\n").find("empty"), std::string::npos);
  EXPECT_NE(error_of("a,b\n").find("empty"), std::string::npos);
  EXPECT_NE(error_of("1;2\n1,5;2,5\n").find("decimal comma"), std::string::npos);
  EXPECT_NE(error_of("1,2\n3,nan\n").find("line 2, column 2: 'nan' is not a finite number"), std::string::npos);
  EXPECT_NE(error_of("1,-inf\n").find("not a finite number"), std::string::npos);
  EXPECT_NE(error_of("1,1e400\n").find("outside the float range"), std::string::npos);
  EXPECT_NE(error_of("1,1e39\n").find("outside the float range"), std::string::npos);
  EXPECT_NE(error_of("1,2\n3,four\n").find("'four' is not a number"), std::string::npos);
  EXPECT_NE(error_of("1,,2\n").find("empty cell"), std::string::npos);
  EXPECT_NE(error_of(std::string("1,2\0", 4)).find("NUL"), std::string::npos);
}

}  // namespace
