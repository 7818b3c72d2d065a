#include "services/case/reception_log.h"

#include "absl/strings/str_split.h"
#include "gtest/gtest.h"
#include "services/case/test_fixture.h"

namespace reception {
namespace {

TEST(ReceptionLog, CsvQuotingAndFormulaGuard) {
  EXPECT_EQ(CsvField("plain"), "plain");
  EXPECT_EQ(CsvField("a,b"), "\"a,b\"");
  EXPECT_EQ(CsvField("say \"hi\""), "\"say \"\"hi\"\"\"");
  EXPECT_EQ(CsvField("line\nbreak"), "\"line\nbreak\"");
  EXPECT_EQ(CsvField("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
  EXPECT_EQ(CsvField("+84905"), "'+84905");
  // Tab and carriage return start formulas too (OWASP; found by fuzzing).
  EXPECT_EQ(CsvField("\t=1+2"), "'\t=1+2");
  EXPECT_EQ(CsvField("\r=1+2"), "\"'\r=1+2\"");
}

TEST(ReceptionLog, RowsFollowForm03AndProtectIdentities) {
  cases::v1::Case complaint;
  complaint.set_number("48-2026-000001");
  complaint.set_kind(cases::v1::CASE_KIND_COMPLAINT);
  *complaint.mutable_received_date() = testing::D(2026, 11, 20);
  auto* p = complaint.add_petitioners();
  p->set_full_name("Nguyễn Văn An");
  p->set_citizen_id("049201001234");
  p->set_address("Hải Châu");
  complaint.set_people_count(1);
  complaint.set_content("Khiếu nại, thu hồi đất");
  complaint.set_state(cases::v1::CASE_STATE_ACCEPTED);
  cases::v1::Case denunciation;
  denunciation.set_number("48-2026-000002");
  denunciation.set_kind(cases::v1::CASE_KIND_DENUNCIATION);
  denunciation.set_identity_protected(true);
  denunciation.set_people_count(1);
  *denunciation.mutable_received_date() = testing::D(2026, 11, 21);
  const std::string csv = RenderReceptionLog({complaint, denunciation});
  std::vector<std::string> lines = absl::StrSplit(csv, "\r\n", absl::SkipEmpty());
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[0].rfind("Số hồ sơ,Ngày tiếp nhận,\"Họ tên, địa chỉ\",Số CCCD", 0), 0u);
  EXPECT_EQ(lines[1],
            "48-2026-000001,2026-11-20,\"Nguyễn Văn An, Hải Châu\",049201001234,"
            "\"Khiếu nại, thu hồi đất\",\"Khiếu nại, 1 người\",,Thụ lý,,");
  EXPECT_NE(lines[2].find("(bảo mật),(bảo mật)"), std::string::npos) << lines[2];
  EXPECT_NE(lines[2].find("Bảo mật người tố cáo"), std::string::npos);
}

}  // namespace
}  // namespace reception
