#include "services/common/text.h"

#include <thread>
#include <vector>

#include "gtest/gtest.h"

namespace reception {
namespace {

TEST(Text, FoldsVietnameseDiacriticsAndCase) {
  EXPECT_EQ(FoldForSearch("Nguyễn Văn An"), "nguyen van an");
  EXPECT_EQ(FoldForSearch("ĐẶNG THỊ Đào"), "dang thi dao");
  EXPECT_EQ(FoldForSearch("Quyết định số 123/QĐ-UBND"), "quyet dinh so 123 qd ubnd");
  // Decomposed input (NFD, as some keyboards send it) folds the same.
  EXPECT_EQ(FoldForSearch("Nguye\xcc\x82\xcc\x83n"), "nguyen");
}

TEST(Text, UpperCasesVietnamese) {
  EXPECT_EQ(UpperCaseVi("Phường Hải Châu"), "PHƯỜNG HẢI CHÂU");
  EXPECT_EQ(UpperCaseVi("Ủy ban nhân dân xã Đắk Pring"), "ỦY BAN NHÂN DÂN XÃ ĐẮK PRING");
}

TEST(Text, NormalizesToNfc) {
  const std::string nfd = "Nguye\xcc\x82\xcc\x83n";  // e + circumflex + tilde
  EXPECT_EQ(NormalizeNfc(nfd), "Nguyễn");
  EXPECT_EQ(NormalizeNfc("Nguyễn"), "Nguyễn");
}

TEST(Text, ValidatesUtf8AndControls) {
  EXPECT_TRUE(IsValidUtf8("Đà Nẵng"));
  EXPECT_FALSE(IsValidUtf8("\xc3\x28"));
  EXPECT_FALSE(IsValidUtf8("\xed\xa0\x80"));  // surrogate
  EXPECT_TRUE(HasControlCharacters("a\x01", false));
  EXPECT_TRUE(HasControlCharacters("a\nb", false));
  EXPECT_FALSE(HasControlCharacters("a\nb", true));
  EXPECT_EQ(CodePointCount("Đà Nẵng"), 7u);
}

// The one-pass scan intake uses says what the three separate checks say.
TEST(Text, OnePassScanAgreesWithTheSeparateChecks) {
  const std::vector<std::string> texts = {"",
                                          "Đà Nẵng",
                                          "plain ascii",
                                          "a\x01",
                                          "a\nb\tc\r",
                                          "x\x7f",
                                          "\xc2\x85 C1 control",
                                          "Khiếu nại\xe2\x80\xa8 separator",
                                          "\xc3\x28",
                                          "ok then \xed\xa0\x80",
                                          "\xf0\x9f\x98\x80 emoji"};
  for (const std::string& t : texts) {
    for (bool newlines : {false, true}) {
      const TextScan scan = ScanText(t, newlines);
      EXPECT_EQ(scan.valid_utf8, IsValidUtf8(t)) << t;
      if (!scan.valid_utf8) continue;
      EXPECT_EQ(scan.control, HasControlCharacters(t, newlines)) << t << " " << newlines;
      EXPECT_EQ(scan.code_points, CodePointCount(t)) << t;
    }
  }
  EXPECT_TRUE(ScanText("\xc2\x85", false).control);
  EXPECT_FALSE(ScanText("a\nb", true).control);
  EXPECT_EQ(ScanText("Đà Nẵng", false).code_points, 7u);
}

TEST(Text, FoldingIsThreadSafe) {
  std::vector<std::thread> threads;
  std::atomic<int> wrong{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 500; ++i) {
        if (FoldForSearch("Trần Thị Ánh Hồng") != "tran thi anh hong") ++wrong;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(wrong.load(), 0);
}

TEST(Text, Tokens) {
  EXPECT_EQ(Tokens("nguyen van an"), (std::vector<std::string>{"nguyen", "van", "an"}));
  EXPECT_TRUE(Tokens("").empty());
}

TEST(Text, TruncateUtf8CutsAtACharacterBoundary) {
  EXPECT_EQ(TruncateUtf8("Thành phố", 100), "Thành phố");
  EXPECT_EQ(TruncateUtf8("Thành", 3), "Th");  // "à" takes bytes 2 and 3
  EXPECT_EQ(TruncateUtf8("Thành", 4), "Thà");
  EXPECT_TRUE(IsValidUtf8(TruncateUtf8("Tố cáo", 2)));
  EXPECT_EQ(TruncateUtf8("Tố cáo", 2), "T");
}

}  // namespace
TEST(Text, VisibleCharCount) {
  EXPECT_EQ(VisibleCharCount("Xác minh tố cáo"), 12u);
  EXPECT_EQ(VisibleCharCount("\u200b\u200b\u200b\u200b\u200b\u200b\u200b\u200b\u200b\u200b"),
            0u);  // zero-width spaces
  EXPECT_EQ(VisibleCharCount("\u3000\u3000\u3000\u3000\u3000\u3000\u3000\u3000\u3000\u3000"),
            0u);  // ideographic spaces
  EXPECT_EQ(VisibleCharCount("  a\tb\u00a0c "), 3u);
}

}  // namespace reception
