// The papers and the citizens' status look-up through the real API of real
// receptiond processes over mTLS, on both shipped topologies (Quảng Nam
// before the 2025 reorganisation, Đà Nẵng after it): a receipt with its
// code, a notice of acceptance, a denunciation's papers without the
// denouncer, a transfer slip at the sender after the handoff, each first
// issue recorded once in the history; the look-up answering a receipt
// holder, the same NOT_FOUND for a wrong code and an unknown case, and its
// rate limit; receptionctl document and lookup.
#include <stdio.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "reception/cases/v1/case_service.grpc.pb.h"
#include "services/common/civil_date.h"
#include "services/common/test_support.h"
#include "tests/integration/federation_harness.h"
#include "tests/integration/node_process.h"

namespace reception::testing {
namespace {

std::string g_receptiond;
std::string g_receptionctl;

std::string PdfText(const std::string& pdf, const std::string& name) {
  return reception::testing::PdfText(pdf, "documents-node", name);
}

// The receipt code printed on the receipt ("Mã tra cứu: 1234-5678-9012").
std::string CodeOn(const std::string& text) {
  const std::string label = "Mã tra cứu: ";
  const size_t at = text.find(label);
  return at == std::string::npos ? "" : text.substr(at + label.size(), 14);
}

struct Level {
  std::string topology, today, lower, upper, lower_name, upper_name;
};

void PrintTo(const Level& l, std::ostream* os) { *os << l.topology; }

class DocumentsNodeTest : public ::testing::TestWithParam<Level> {};

absl::StatusOr<v1::CaseDocument> Document(Client& client, const std::string& name,
                                          v1::DocumentKind kind,
                                          const std::string& role = "officer") {
  v1::GetCaseDocumentRequest r;
  r.set_name(name);
  r.set_kind(kind);
  return client.Call(client.cases(), &v1::CaseService::Stub::GetCaseDocument, r, role);
}

// No principal at all: the look-up is public.
grpc::Status Lookup(NodeProcess& node, const std::string& number, const std::string& code,
                    v1::CaseStatus* out) {
  auto stub = v1::CaseService::NewStub(node.NewChannel());
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  v1::LookupCaseStatusRequest r;
  r.set_case_number(number);
  r.set_receipt_code(code);
  return stub->LookupCaseStatus(&ctx, r, out);
}

TEST_P(DocumentsNodeTest, PapersAndLookUp) {
  const Level& l = GetParam();
  Federation f(g_receptiond, {l.upper, l.lower}, l.today, l.topology,
               absl::StrCat("documents:\n  forms_file: ", SourcePath("deploy/forms/vn.yaml"),
                            "\n  lookups_per_minute_per_address: 8\n"
                            "  lookup_url: https://tiepcongdan.example/tra-cuu\n"));
  f.StartAll();
  Client lower(f.node(l.lower), l.lower), upper(f.node(l.upper), l.upper);
  const absl::CivilDay today = *ParseDate(l.today);

  // A complaint: its receipt, issued once, recorded once.
  const v1::Case c = lower.Create(v1::CASE_KIND_COMPLAINT, "c1", l.lower, today);
  auto receipt = Document(lower, c.name(), v1::DOCUMENT_KIND_RECEIPT);
  ASSERT_TRUE(receipt.ok()) << receipt.status();
  EXPECT_TRUE(receipt->newly_issued());
  EXPECT_EQ(receipt->media_type(), "application/pdf");
  EXPECT_TRUE(absl::StartsWith(receipt->content(), "%PDF-"));
  EXPECT_EQ(receipt->sha256().size(), 64u);
  const std::string text = PdfText(receipt->content(), l.lower + "-receipt");
  EXPECT_TRUE(absl::StrContains(text, "GIẤY BIÊN NHẬN")) << text;
  EXPECT_TRUE(absl::StrContains(text, "Trần Thị Mai")) << text;
  EXPECT_TRUE(absl::StrContains(text, l.lower_name)) << text;
  EXPECT_TRUE(absl::StrContains(text, "https://tiepcongdan.example/tra-cuu")) << text;
  const std::string code = CodeOn(text);
  ASSERT_EQ(code.size(), 14u) << text;
  auto again = Document(lower, c.name(), v1::DOCUMENT_KIND_RECEIPT);
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(again->newly_issued());
  EXPECT_EQ(again->sha256(), receipt->sha256());
  EXPECT_EQ(again->content(), receipt->content());
  auto read = lower.Get(c.name());
  ASSERT_TRUE(read.ok());
  ASSERT_EQ(read->documents_size(), 1);
  EXPECT_EQ(read->documents(0).sha256(), receipt->sha256());
  int issued = 0;
  for (const auto& e : lower.History(c.name())) {
    if (e.action() == "IssueCaseDocument") {
      ++issued;
      EXPECT_TRUE(absl::StrContains(e.summary(), receipt->sha256())) << e.summary();
    }
  }
  EXPECT_EQ(issued, 1);
  EXPECT_TRUE(lower.Verifies(c.name()));

  // A notice of acceptance only once accepted; a viewer gets no papers.
  auto early = Document(lower, c.name(), v1::DOCUMENT_KIND_ACCEPTANCE_NOTICE);
  EXPECT_EQ(early.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(absl::StrContains(early.status().message(), "has not been accepted"));
  EXPECT_EQ(Document(lower, c.name(), v1::DOCUMENT_KIND_RECEIPT, "viewer").status().code(),
            absl::StatusCode::kPermissionDenied);
  v1::ClassifyCaseRequest classify;
  classify.set_name(c.name());
  classify.set_within_competence(true);
  ASSERT_TRUE(lower.Call(lower.cases(), &v1::CaseService::Stub::ClassifyCase, classify).ok());
  v1::AcceptCaseRequest accept;
  accept.set_name(c.name());
  accept.set_notice_reference("12/TB-UBND");
  auto accepted = lower.Call(lower.cases(), &v1::CaseService::Stub::AcceptCase, accept);
  ASSERT_TRUE(accepted.ok()) << accepted.status();
  auto notice = Document(lower, c.name(), v1::DOCUMENT_KIND_ACCEPTANCE_NOTICE);
  ASSERT_TRUE(notice.ok()) << notice.status();
  const std::string notice_text = PdfText(notice->content(), l.lower + "-acceptance");
  EXPECT_TRUE(absl::StrContains(notice_text, "Số: 12/TB-UBND")) << notice_text;
  EXPECT_TRUE(absl::StrContains(notice_text, "thụ lý")) << notice_text;

  // The receipt holder's look-up; a wrong code and an unknown case are the
  // same answer; a malformed code is a field error.
  v1::CaseStatus status;
  grpc::Status s = Lookup(f.node(l.lower), c.number(), code, &status);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(status.state(), v1::CASE_STATE_ACCEPTED);
  EXPECT_EQ(status.handling_unit().code(), l.lower);
  EXPECT_TRUE(status.has_next_due_date());
  EXPECT_FALSE(status.overdue());
  std::string wrong = code;
  wrong[0] = wrong[0] == '9' ? '1' : static_cast<char>(wrong[0] + 1);
  v1::CaseStatus none;
  grpc::Status wrong_code = Lookup(f.node(l.lower), c.number(), wrong, &none);
  std::string unknown_number = c.number();
  unknown_number.back() = unknown_number.back() == '9' ? '8' : '9';
  grpc::Status unknown_case = Lookup(f.node(l.lower), unknown_number, code, &none);
  EXPECT_EQ(wrong_code.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(unknown_case.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(wrong_code.error_message(), unknown_case.error_message());
  EXPECT_EQ(wrong_code.error_details(), unknown_case.error_details());
  EXPECT_FALSE(absl::StrContains(wrong_code.error_message(), "Trần"));
  EXPECT_EQ(Lookup(f.node(l.lower), c.number(), "12ab", &none).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);

  // A denunciation: no paper carries the denouncer; handed upwards, the
  // sender issues its transfer slip, recorded on the handoff.
  const v1::Case d = lower.Create(v1::CASE_KIND_DENUNCIATION, "d1", l.lower, today);
  ASSERT_TRUE(d.identity_protected());
  auto d_receipt = Document(lower, d.name(), v1::DOCUMENT_KIND_RECEIPT);
  ASSERT_TRUE(d_receipt.ok()) << d_receipt.status();
  const std::string d_text = PdfText(d_receipt->content(), l.lower + "-denunciation-receipt");
  EXPECT_FALSE(absl::StrContains(d_text, "Trần Thị Mai")) << d_text;
  EXPECT_FALSE(absl::StrContains(d_text, "049302001122")) << d_text;
  EXPECT_TRUE(absl::StrContains(d_text, "giữ bí mật")) << d_text;
  auto h = lower.Transfer(d.name(), l.upper, "t1");
  ASSERT_TRUE(h.ok()) << h.status();
  ASSERT_TRUE(WaitFor([&] { return lower.Delivered(h->name()); }, absl::Seconds(20)));
  auto slip = Document(lower, d.name(), v1::DOCUMENT_KIND_TRANSFER_SLIP);
  ASSERT_TRUE(slip.ok()) << slip.status();
  EXPECT_TRUE(slip->newly_issued());
  const std::string slip_text = PdfText(slip->content(), l.lower + "-transfer-slip");
  EXPECT_TRUE(absl::StrContains(slip_text, "PHIẾU CHUYỂN ĐƠN")) << slip_text;
  EXPECT_TRUE(absl::StrContains(slip_text, l.upper_name)) << slip_text;
  EXPECT_FALSE(absl::StrContains(slip_text, "Trần Thị Mai")) << slip_text;
  auto handoff = lower.Handoff(h->name());
  ASSERT_TRUE(handoff.ok());
  ASSERT_EQ(handoff->documents_size(), 1);
  EXPECT_EQ(handoff->documents(0).sha256(), slip->sha256());
  // The sender's other papers are the owner's now; the owner issues its own.
  auto not_owner = Document(lower, d.name(), v1::DOCUMENT_KIND_RECEIPT);
  EXPECT_EQ(not_owner.status().code(), absl::StatusCode::kFailedPrecondition);
  auto at_upper = Document(upper, d.name(), v1::DOCUMENT_KIND_RECEIPT);
  ASSERT_TRUE(at_upper.ok()) << at_upper.status();
  const std::string upper_text = PdfText(at_upper->content(), l.upper + "-denunciation-receipt");
  EXPECT_TRUE(absl::StrContains(upper_text, l.upper_name.substr(0, 6))) << upper_text;
  EXPECT_FALSE(absl::StrContains(upper_text, "049302001122")) << upper_text;
  // The sender's receipt still answers: handled by the unit it went to.
  const std::string d_code = CodeOn(d_text);
  s = Lookup(f.node(l.lower), d.number(), d_code, &status);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(status.state(), v1::CASE_STATE_TRANSFERRED);
  EXPECT_EQ(status.handling_unit().code(), l.upper);

  // receptionctl: the paper to a file, and the look-up without credentials.
  const std::string file = f.dir() + "/notice.pdf";
  const std::string out =
      Shell(absl::StrCat(g_receptionctl, f.node(l.lower).CliFlags("officer", l.lower), " document ",
                         c.name(), " acceptance-notice -o ", file, " 2>&1"));
  EXPECT_TRUE(absl::StrContains(out, notice->sha256())) << out;
  EXPECT_TRUE(absl::StrContains(out, "issued before")) << out;
  EXPECT_TRUE(ReadFile(file) == notice->content()) << "the file is not the paper";
  const std::string ca = TestPkiDir() + "/ca.crt";
  const std::string looked =
      Shell(absl::StrCat(g_receptionctl, " --server ", f.node(l.lower).address(), " --ca ", ca,
                         " lookup ", c.number(), " ", code, " 2>&1"));
  EXPECT_TRUE(absl::StrContains(looked, "accepted")) << looked;
  EXPECT_TRUE(absl::StrContains(looked, l.lower)) << looked;

  // The limit: 8 a minute from one address, so of 12 quick calls at least 4
  // are refused whatever the earlier ones left.
  int limited = 0;
  grpc::Status last;
  for (int i = 0; i < 12; ++i) {
    last = Lookup(f.node(l.lower), c.number(), code, &status);
    if (last.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED) ++limited;
  }
  EXPECT_GE(limited, 4);
  EXPECT_EQ(last.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_TRUE(absl::StrContains(last.error_message(), "too many status look-ups"));
  EXPECT_TRUE(absl::StrContains(last.error_details(), "RetryInfo"));

  // Counted by fixed words only: no number, no code in a label.
  const std::string metrics = ScrapeMetrics(f.node(l.lower).admin_port());
  EXPECT_TRUE(absl::StrContains(metrics, "reception_documents_issued_total{kind=\"receipt\"} 2"))
      << metrics;
  EXPECT_TRUE(absl::StrContains(metrics, "reception_status_lookups_total{result=\"not_found\"} 2"));
  EXPECT_TRUE(absl::StrContains(metrics, "reception_status_lookups_total{result=\"limited\"}"));
  EXPECT_FALSE(absl::StrContains(metrics, code));
  EXPECT_FALSE(absl::StrContains(ReadFile(f.node(l.lower).log_path()), code));
}

INSTANTIATE_TEST_SUITE_P(
    BothTopologies, DocumentsNodeTest,
    ::testing::Values(Level{"deploy/topology/quang-nam-2024.yaml", "2025-06-16", "502-1", "502",
                            "PHƯỜNG AN MỸ", "Thành phố Tam Kỳ"},
                      Level{"deploy/topology/da-nang-2025.yaml", "2026-08-03", "48-1", "48",
                            "PHƯỜNG HẢI CHÂU", "Thành phố Đà Nẵng"}),
    [](const ::testing::TestParamInfo<Level>& info) {
      return info.param.upper == "48" ? std::string("DaNang2025") : std::string("QuangNam2024");
    });

}  // namespace
}  // namespace reception::testing

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  if (argc < 3) {
    fprintf(stderr, "usage: documents_node_test RECEPTIOND RECEPTIONCTL\n");
    return 2;
  }
  reception::testing::g_receptiond = argv[1];
  reception::testing::g_receptionctl = argv[2];
  return RUN_ALL_TESTS();
}
