// The papers rendered from case records with the shipped forms
// (deploy/forms/vn.yaml) on both shipped topologies, read back with
// pdftotext (poppler-utils) and turned into page images with pdftoppm, kept
// under test-artifacts/documents in the build directory.
#include <regex>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "services/common/civil_date.h"
#include "services/common/test_support.h"
#include "services/common/topology.h"
#include "services/documents/case_papers.h"
#include "services/documents/form_book.h"
#include "services/documents/pdf_paper.h"

namespace reception::documents {
namespace {

namespace cv1 = cases::v1;
using ::reception::testing::SourcePath;

std::string TextOf(const std::string& pdf, const std::string& name) {
  return reception::testing::PdfText(pdf, "documents", name);
}

type::v1::Date D(int y, int m, int d) { return ToProtoDate(absl::CivilDay(y, m, d)); }

class Papers : public ::testing::Test {
 protected:
  void SetUp() override {
    auto f = FormBook::LoadFile(SourcePath("deploy/forms/vn.yaml"));
    ASSERT_TRUE(f.ok()) << f.status();
    forms_ = std::make_unique<FormBook>(*std::move(f));
    auto dn = Topology::LoadFile(SourcePath("deploy/topology/da-nang-2025.yaml"));
    ASSERT_TRUE(dn.ok()) << dn.status();
    da_nang_ = std::make_unique<Topology>(*std::move(dn));
    auto qn = Topology::LoadFile(SourcePath("deploy/topology/quang-nam-2024.yaml"));
    ASSERT_TRUE(qn.ok()) << qn.status();
    quang_nam_ = std::make_unique<Topology>(*std::move(qn));
  }

  static cv1::Case Complaint(const std::string& number, type::v1::Date received) {
    cv1::Case c;
    c.set_number(number);
    c.set_kind(cv1::CASE_KIND_COMPLAINT);
    c.set_channel(cv1::CHANNEL_IN_PERSON);
    *c.mutable_received_date() = received;
    auto* p = c.add_petitioners();
    p->set_full_name("Nguyễn Thị Hồng Nhung");
    p->set_citizen_id("048190000123");
    p->set_address("Tổ 5, phường Hải Châu");
    c.set_petitioner_count(1);
    c.set_content("Khiếu nại quyết định thu hồi đất ở tại thửa số 12, tờ bản đồ số 3.");
    auto* a = c.add_attachments();
    a->set_name("Quyết định thu hồi đất.pdf");
    a->set_size_bytes(20480);
    return c;
  }
  static cv1::Case Denunciation(const std::string& number, type::v1::Date received) {
    cv1::Case c = Complaint(number, received);
    c.set_kind(cv1::CASE_KIND_DENUNCIATION);
    // As served: the identity is sealed away, only its count remains.
    c.clear_petitioners();
    c.set_identity_protected(true);
    c.set_content("Tố cáo cán bộ địa chính nhận tiền của người dân.");
    c.mutable_respondent()->set_official_name("Trần Văn Bình");
    c.mutable_respondent()->set_official_position("công chức địa chính");
    return c;
  }

  PaperContext Context(const Topology& t, const std::string& unit) {
    PaperContext ctx;
    ctx.topology = &t;
    ctx.unit_code = unit;
    ctx.receipt_code = "1234-5678-9012";
    ctx.lookup_payload = "case=48-1-000001;code=123456789012;unit=48-1";
    return ctx;
  }

  // Every act a paper records.
  static void Act(cv1::Case& c, type::v1::Date day) {
    *c.mutable_acceptance()->mutable_date() = day;
    c.mutable_acceptance()->set_notice_reference("15/TB-UBND");
    *c.mutable_refusal()->mutable_date() = day;
    c.mutable_refusal()->set_ground(cv1::REFUSAL_GROUND_ALREADY_SETTLED);
    c.mutable_refusal()->set_explanation("Đã trả lời bằng văn bản số 7/UBND.");
    *c.mutable_guidance()->mutable_date() = day;
    c.mutable_guidance()->set_competent_body("Ủy ban nhân dân thành phố Đà Nẵng");
    auto* k = c.add_clocks();
    k->set_step(cv1::DEADLINE_STEP_SETTLE);
    k->set_state(cv1::CLOCK_STATE_RUNNING);
    *k->mutable_due_date() = D(2026, 9, 30);
    auto* e = k->add_extensions();
    e->set_decision_reference("22/QĐ-GH");
    *e->mutable_date() = day;
    e->set_days(15);
    auto* m = c.add_minutes();
    m->set_room("rooms/r7");
    m->set_text(
        "BIÊN BẢN TIẾP CÔNG DÂN TRỰC TUYẾN (r7)\nThành phần:\n  - p1 presiding tại điểm cầu 48\n"
        "Đồng ý ghi âm, ghi hình: p2 đồng ý\nÝ kiến của p2: Đề nghị xem xét lại.\n"
        "Kết luận của người chủ trì: Chuyển bộ phận chuyên môn.\n");
    m->mutable_lock_time()->set_seconds(absl::ToUnixSeconds(
        absl::FromCivil(absl::CivilSecond(day.year(), day.month(), day.day(), 10, 0, 0),
                        absl::FixedTimeZone(7 * 3600))));
    c.mutable_decision()->set_outcome(cv1::OUTCOME_COMPLAINT_PARTLY_RIGHT);
    c.mutable_decision()->set_decision_reference("99/QĐ-UBND");
    *c.mutable_decision()->mutable_date() = day;
    c.mutable_publication()->set_method(cv1::PUBLICATION_METHOD_POSTING);
    *c.mutable_publication()->mutable_date() = day;
  }

  std::unique_ptr<FormBook> forms_;
  std::unique_ptr<Topology> da_nang_, quang_nam_;
};

constexpr cv1::DocumentKind kAll[] = {
    cv1::DOCUMENT_KIND_RECEIPT,        cv1::DOCUMENT_KIND_ACCEPTANCE_NOTICE,
    cv1::DOCUMENT_KIND_REFUSAL_NOTICE, cv1::DOCUMENT_KIND_GUIDANCE_SLIP,
    cv1::DOCUMENT_KIND_TRANSFER_SLIP,  cv1::DOCUMENT_KIND_EXTENSION_NOTICE,
    cv1::DOCUMENT_KIND_MINUTES,        cv1::DOCUMENT_KIND_DECISION_COVER};

TEST_F(Papers, EveryPaperOfEveryKindOnBothTopologies) {
  cv1::Handoff h;
  h.set_name("handoffs/h1");
  h.set_reason("thuộc thẩm quyền giải quyết của cấp trên");
  struct Where {
    const Topology* topology;
    std::string unit, unit_name, parent_name, destination, destination_name;
    type::v1::Date day;
  };
  const Where wheres[] = {
      {da_nang_.get(), "48-1", "PHƯỜNG HẢI CHÂU", "THÀNH PHỐ ĐÀ NẴNG", "48", "Thành phố Đà Nẵng",
       D(2026, 8, 3)},
      {quang_nam_.get(), "502-1", "PHƯỜNG AN MỸ", "THÀNH PHỐ TAM KỲ", "502", "Thành phố Tam Kỳ",
       D(2024, 11, 12)},
  };
  for (const Where& w : wheres) {
    h.set_destination_unit(w.destination);
    h.mutable_create_time()->set_seconds(absl::ToUnixSeconds(
        absl::FromCivil(absl::CivilSecond(w.day.year(), w.day.month(), w.day.day(), 9, 0, 0),
                        absl::FixedTimeZone(7 * 3600))));
    for (cv1::CaseKind kind : {cv1::CASE_KIND_COMPLAINT, cv1::CASE_KIND_DENUNCIATION,
                               cv1::CASE_KIND_PETITION, cv1::CASE_KIND_FEEDBACK}) {
      cv1::Case c = kind == cv1::CASE_KIND_DENUNCIATION ? Denunciation(w.unit + "-000007", w.day)
                                                        : Complaint(w.unit + "-000007", w.day);
      c.set_kind(kind);
      Act(c, w.day);
      for (cv1::DocumentKind doc : kAll) {
        PaperContext ctx = Context(*w.topology, w.unit);
        if (doc == cv1::DOCUMENT_KIND_TRANSFER_SLIP) ctx.handoff = &h;
        auto paper = BuildCasePaper(doc, c, ctx, *forms_);
        ASSERT_TRUE(paper.ok()) << paper.status();
        auto pdf = RenderPdf(paper->paper);
        ASSERT_TRUE(pdf.ok()) << pdf.status();
        EXPECT_GE(pdf->pages, 1);
        const std::string name =
            absl::StrCat(w.unit, "-", cv1::CaseKind_Name(kind), "-", DocumentSlug(doc));
        const std::string text = TextOf(pdf->bytes, name);
        SCOPED_TRACE(name + "\n" + text);
        EXPECT_TRUE(absl::StrContains(text, "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"));
        EXPECT_TRUE(absl::StrContains(text, "Độc lập - Tự do - Hạnh phúc"));
        EXPECT_TRUE(absl::StrContains(text, w.unit_name));
        EXPECT_TRUE(absl::StrContains(text, w.parent_name));
        EXPECT_TRUE(absl::StrContains(text, DateInWords(*ToCivilDay(w.day, ""))));
        if (doc == cv1::DOCUMENT_KIND_TRANSFER_SLIP) {
          EXPECT_TRUE(absl::StrContains(text, w.destination_name));
        }
        if (kind == cv1::CASE_KIND_DENUNCIATION) {
          EXPECT_FALSE(absl::StrContains(text, "Nguyễn Thị Hồng Nhung"));
          EXPECT_FALSE(absl::StrContains(text, "048190000123"));
          EXPECT_FALSE(absl::StrContains(text, "Tổ 5"));
        } else if (doc == cv1::DOCUMENT_KIND_RECEIPT) {
          EXPECT_TRUE(absl::StrContains(text, "Nguyễn Thị Hồng Nhung"));
          EXPECT_TRUE(absl::StrContains(text, "048190000123"));
        }
        if (doc == cv1::DOCUMENT_KIND_RECEIPT) {
          EXPECT_TRUE(absl::StrContains(text, "1234-5678-9012"));
          EXPECT_TRUE(absl::StrContains(text, "GIẤY BIÊN NHẬN"));
        }
        if (doc == cv1::DOCUMENT_KIND_REFUSAL_NOTICE) {
          EXPECT_TRUE(absl::StrContains(text, "đã được kiểm tra, rà soát"));
        }
        if (doc == cv1::DOCUMENT_KIND_MINUTES) {
          EXPECT_TRUE(absl::StrContains(text, "Đồng ý ghi âm, ghi hình"));
          EXPECT_EQ(paper->number, "r7/BB");
        }
        if (doc == cv1::DOCUMENT_KIND_TRANSFER_SLIP) {
          EXPECT_EQ(paper->number, "h1/PC");
        }
        if (doc == cv1::DOCUMENT_KIND_ACCEPTANCE_NOTICE) {
          EXPECT_EQ(paper->number, "15/TB-UBND");
        }
      }
    }
  }
}

TEST_F(Papers, TheFormIsChosenByTheDateOfTheAct) {
  cv1::Case c = Complaint("48-1-000001", D(2026, 6, 30));
  auto before = BuildCasePaper(cv1::DOCUMENT_KIND_RECEIPT, c, Context(*da_nang_, "48-1"), *forms_);
  ASSERT_TRUE(before.ok()) << before.status();
  EXPECT_EQ(before->form->id(), "tt04-2021-receipt");
  EXPECT_FALSE(absl::StrContains(before->paper.legal_basis, "136/2025"));
  *c.mutable_received_date() = D(2026, 7, 1);
  auto after = BuildCasePaper(cv1::DOCUMENT_KIND_RECEIPT, c, Context(*da_nang_, "48-1"), *forms_);
  ASSERT_TRUE(after.ok()) << after.status();
  EXPECT_EQ(after->form->id(), "l136-2026-receipt");
  EXPECT_TRUE(absl::StrContains(after->paper.legal_basis, "136/2025"));
  // Before the first minutes form: no form in force, said so.
  cv1::Case old = Complaint("48-1-000002", D(2023, 5, 5));
  Act(old, D(2023, 5, 5));
  auto none = BuildCasePaper(cv1::DOCUMENT_KIND_MINUTES, old, Context(*da_nang_, "48-1"), *forms_);
  EXPECT_EQ(none.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(absl::StrContains(none.status().message(), "pilot-2024-minutes"));
}

TEST_F(Papers, TheUnitIsNamedAsItWasOnTheDay) {
  // Nông Sơn's communes merged into Quế Sơn on 2025-01-01.
  cv1::Case c = Complaint("519-1-000003", D(2024, 12, 20));
  auto before =
      BuildCasePaper(cv1::DOCUMENT_KIND_RECEIPT, c, Context(*quang_nam_, "519-1"), *forms_);
  ASSERT_TRUE(before.ok()) << before.status();
  EXPECT_EQ(before->fields.at("unit_name"), "Xã Quế Trung");
  EXPECT_EQ(before->paper.issuer_parent, "HUYỆN NÔNG SƠN");
  EXPECT_EQ(before->fields.at("place"), "Quảng Nam");
  *c.mutable_received_date() = D(2025, 2, 3);
  auto after =
      BuildCasePaper(cv1::DOCUMENT_KIND_RECEIPT, c, Context(*quang_nam_, "519-1"), *forms_);
  ASSERT_TRUE(after.ok()) << after.status();
  EXPECT_EQ(after->fields.at("unit_name"), "Huyện Quế Sơn");
}

TEST_F(Papers, APaperWithoutItsActIsRefusedNamingIt) {
  cv1::Case c = Complaint("48-1-000004", D(2026, 8, 3));
  for (cv1::DocumentKind doc : kAll) {
    if (doc == cv1::DOCUMENT_KIND_RECEIPT) continue;
    auto paper = BuildCasePaper(doc, c, Context(*da_nang_, "48-1"), *forms_);
    EXPECT_EQ(paper.status().code(), absl::StatusCode::kFailedPrecondition)
        << cv1::DocumentKind_Name(doc);
    EXPECT_TRUE(absl::StrContains(paper.status().message(), "cases/48-1-000004"));
  }
}

TEST_F(Papers, TheSamePaperIsTheSameBytes) {
  cv1::Case c = Complaint("48-1-000005", D(2026, 8, 3));
  auto paper = BuildCasePaper(cv1::DOCUMENT_KIND_RECEIPT, c, Context(*da_nang_, "48-1"), *forms_);
  ASSERT_TRUE(paper.ok());
  auto a = RenderPdf(paper->paper);
  auto b = RenderPdf(paper->paper);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->bytes, b->bytes);
  EXPECT_TRUE(absl::StartsWith(a->bytes, "%PDF-"));
}

TEST_F(Papers, LongContentFlowsOntoMorePages) {
  cv1::Case c = Complaint("48-1-000006", D(2026, 8, 3));
  std::string content;
  for (int i = 0; i < 120; ++i) absl::StrAppend(&content, "Đoạn ", i, ": nội dung khiếu nại dài. ");
  for (int i = 0; i < 40; ++i) absl::StrAppend(&content, "\nDòng riêng ", i);
  c.set_content(content);
  auto paper = BuildCasePaper(cv1::DOCUMENT_KIND_RECEIPT, c, Context(*da_nang_, "48-1"), *forms_);
  ASSERT_TRUE(paper.ok());
  auto pdf = RenderPdf(paper->paper);
  ASSERT_TRUE(pdf.ok());
  EXPECT_GE(pdf->pages, 2);
  const std::string text = TextOf(pdf->bytes, "long-content");
  EXPECT_TRUE(absl::StrContains(text, "Dòng riêng 39"));
  EXPECT_TRUE(absl::StrContains(text, "Trang 2"));
}

// Many short paragraphs: whichever one reaches the bottom of a page starts
// the next page instead of running into the footer, so every line is read
// back once.
TEST_F(Papers, AParagraphAtTheFootOfAPageMovesToTheNext) {
  cv1::Case c = Complaint("48-1-000008", D(2026, 8, 3));
  for (int i = 0; i < 30; ++i) c.add_attachments()->set_name(absl::StrCat("Tài liệu số ", i));
  auto paper = BuildCasePaper(cv1::DOCUMENT_KIND_RECEIPT, c, Context(*da_nang_, "48-1"), *forms_);
  ASSERT_TRUE(paper.ok());
  for (int i = 0; i < 40; ++i)
    paper->paper.paragraphs.push_back(absl::StrCat("Đoạn ngắn ", i, "."));
  auto pdf = RenderPdf(paper->paper);
  ASSERT_TRUE(pdf.ok());
  EXPECT_GE(pdf->pages, 2);
  const std::string text = TextOf(pdf->bytes, "paragraph-at-page-foot");
  for (int i = 0; i < 40; ++i) {
    EXPECT_TRUE(absl::StrContains(text, absl::StrCat("Đoạn ngắn ", i, "."))) << i;
  }
  // Nothing is set between the body's bottom margin (770.9 pt) and the
  // footer (793 pt): pdftotext -bbox gives each word's box.
  const std::string path = ::testing::TempDir() + "/foot.pdf";
  reception::testing::WriteFile(path, pdf->bytes);
  const std::string boxes =
      reception::testing::Shell("pdftotext -bbox '" + path + "' - 2>/dev/null");
  const std::regex word(R"re(yMin="([0-9.]+)" xMax="[0-9.]+" yMax="([0-9.]+)">([^<]*)<)re");
  int words = 0;
  for (auto it = std::sregex_iterator(boxes.begin(), boxes.end(), word);
       it != std::sregex_iterator(); ++it) {
    ++words;
    const double y_max = std::stod((*it)[2]);
    EXPECT_FALSE(y_max > 771 && y_max < 792) << "word \"" << (*it)[3] << "\" at " << y_max;
  }
  EXPECT_GT(words, 100);
}

TEST(FormBook, RefusesBadTemplates) {
  FormSet set;
  auto* f = set.add_forms();
  f->set_id("x");
  f->set_kind(cv1::DOCUMENT_KIND_RECEIPT);
  f->set_title("T");
  *f->mutable_effective_from() = D(2026, 1, 1);
  f->add_paragraphs("Ông/Bà ${citizen_secret}");
  auto book = FormBook::FromProto(set, "t.yaml");
  EXPECT_EQ(book.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StrContains(book.status().message(), "citizen_secret"));
  f->set_paragraphs(0, "unterminated ${content");
  EXPECT_FALSE(FormBook::FromProto(set, "t.yaml").ok());
  f->set_paragraphs(0, "${content}");
  auto* g = set.add_forms();
  *g = *f;
  g->set_id("y");
  book = FormBook::FromProto(set, "t.yaml");
  EXPECT_TRUE(absl::StrContains(book.status().message(), "starts the same day as x"));
  *g->mutable_effective_from() = D(2026, 7, 1);
  book = FormBook::FromProto(set, "t.yaml");
  ASSERT_TRUE(book.ok()) << book.status();
  EXPECT_EQ((*book->FormOn(cv1::DOCUMENT_KIND_RECEIPT, absl::CivilDay(2026, 6, 30)))->id(), "x");
  EXPECT_EQ((*book->FormOn(cv1::DOCUMENT_KIND_RECEIPT, absl::CivilDay(2026, 7, 1)))->id(), "y");
}

}  // namespace
}  // namespace reception::documents
