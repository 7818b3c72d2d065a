#include "services/common/logging.h"

#include "absl/strings/match.h"
#include "gtest/gtest.h"

namespace reception {
namespace {

TEST(Logging, LogValueQuotesAndEscapesOnlyWhatNeedsIt) {
  EXPECT_EQ(LogValue("48-1"), "48-1");
  EXPECT_EQ(LogValue(""), "\"\"");
  EXPECT_EQ(LogValue("two words"), "\"two words\"");
  EXPECT_EQ(LogValue("say \"hi\""), "\"say \\\"hi\\\"\"");
  EXPECT_EQ(LogValue("a=b"), "\"a=b\"");
  EXPECT_EQ(LogValue("back\\slash"), "\"back\\\\slash\"");
  EXPECT_EQ(LogValue("48\nlevel=info event=forged"), "\"48\\nlevel=info event=forged\"");
  EXPECT_EQ(LogValue(std::string("nul\0x", 5)), "\"nul\\x00x\"");
  EXPECT_EQ(LogValue("Phường Hải Châu"), "\"Phường Hải Châu\"");  // UTF-8 kept
}

// A value with a newline, logged without LogValue, still cannot start a
// line of its own: the formatter escapes every control character.
TEST(Logging, OneEventIsOneLine) {
  ::testing::internal::CaptureStderr();
  Log()->warn("event=test unit={}", "48\n2026-01-01T00:00:00.000+0000 level=info event=forged");
  Log()->flush();
  const std::string out = ::testing::internal::GetCapturedStderr();
  EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 1) << out;
  EXPECT_TRUE(absl::StrContains(out, "unit=48\\n2026-01-01")) << out;
}

}  // namespace
}  // namespace reception
