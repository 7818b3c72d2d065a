// Papers rendered per second on one core, and the latency of each (a desk
// should never wait: p99 under 200 ms). One thread renders every kind of
// paper in turn for a case with a long content; the first render (fonts
// found, caches filled) is reported apart.
//   build/services/documents/documents_bench [RENDERS]
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "services/common/civil_date.h"
#include "services/common/topology.h"
#include "services/documents/case_papers.h"
#include "services/documents/form_book.h"
#include "services/documents/pdf_paper.h"

using namespace reception;             // NOLINT
using namespace reception::documents;  // NOLINT

int main(int argc, char** argv) {
  const int renders = argc > 1 ? std::atoi(argv[1]) : 400;
  const std::string root = RECEPTION_SOURCE_DIR;
  auto forms = FormBook::LoadFile(root + "/deploy/forms/vn.yaml");
  auto topology = Topology::LoadFile(root + "/deploy/topology/da-nang-2025.yaml");
  if (!forms.ok() || !topology.ok()) {
    std::fprintf(stderr, "cannot load the forms or the topology\n");
    return 1;
  }
  cases::v1::Case c;
  c.set_number("48-1-000042");
  c.set_kind(cases::v1::CASE_KIND_COMPLAINT);
  c.set_channel(cases::v1::CHANNEL_IN_PERSON);
  const auto day = ToProtoDate(absl::CivilDay(2026, 8, 3));
  *c.mutable_received_date() = day;
  auto* p = c.add_petitioners();
  p->set_full_name("Nguyễn Thị Hồng Nhung");
  p->set_citizen_id("048190000123");
  p->set_address("Tổ 5, phường Hải Châu, thành phố Đà Nẵng");
  std::string content;
  while (content.size() < 1500) content += "Khiếu nại quyết định thu hồi đất ở tại thửa số 12. ";
  c.set_content(content);
  *c.mutable_acceptance()->mutable_date() = day;
  c.mutable_acceptance()->set_notice_reference("15/TB-UBND");
  *c.mutable_refusal()->mutable_date() = day;
  *c.mutable_guidance()->mutable_date() = day;
  c.mutable_guidance()->set_competent_body("Ủy ban nhân dân thành phố Đà Nẵng");
  *c.mutable_decision()->mutable_date() = day;
  c.mutable_decision()->set_decision_reference("99/QĐ-UBND");
  PaperContext ctx;
  ctx.topology = &*topology;
  ctx.unit_code = "48-1";
  ctx.receipt_code = "1234-5678-9012";
  ctx.lookup_payload = "https://tiepcongdan.example/tra-cuu?case=48-1-000042&code=123456789012";
  const cases::v1::DocumentKind kinds[] = {
      cases::v1::DOCUMENT_KIND_RECEIPT, cases::v1::DOCUMENT_KIND_ACCEPTANCE_NOTICE,
      cases::v1::DOCUMENT_KIND_REFUSAL_NOTICE, cases::v1::DOCUMENT_KIND_GUIDANCE_SLIP,
      cases::v1::DOCUMENT_KIND_DECISION_COVER};
  auto one = [&](int i) {
    auto paper = BuildCasePaper(kinds[i % 5], c, ctx, *forms);
    if (!paper.ok()) return absl::InfiniteDuration();
    const absl::Time start = absl::Now();
    auto pdf = RenderPdf(paper->paper);
    if (!pdf.ok()) return absl::InfiniteDuration();
    return absl::Now() - start;
  };
  const absl::Time cold_start = absl::Now();
  one(0);
  const absl::Duration cold = absl::Now() - cold_start;
  std::vector<double> ms;
  const absl::Time start = absl::Now();
  for (int i = 0; i < renders; ++i) ms.push_back(absl::ToDoubleMilliseconds(one(i)));
  const double seconds = absl::ToDoubleSeconds(absl::Now() - start);
  std::sort(ms.begin(), ms.end());
  auto at = [&](double q) {
    return ms[static_cast<size_t>(q * static_cast<double>(ms.size() - 1))];
  };
  std::printf(
      "renders=%d papers_per_second=%.1f p50_ms=%.2f p99_ms=%.2f max_ms=%.2f first_ms=%.1f\n",
      renders, renders / seconds, at(0.5), at(0.99), ms.back(), absl::ToDoubleMilliseconds(cold));
  return 0;
}
