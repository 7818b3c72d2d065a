#include "services/case/reception_log.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "services/common/civil_date.h"

namespace reception {
namespace {

using cases::v1::Case;

constexpr absl::string_view kProtected = "(bảo mật)";

std::string KindVi(cases::v1::CaseKind k) {
  switch (k) {
    case cases::v1::CASE_KIND_COMPLAINT:
      return "Khiếu nại";
    case cases::v1::CASE_KIND_DENUNCIATION:
      return "Tố cáo";
    case cases::v1::CASE_KIND_PETITION:
      return "Kiến nghị";
    case cases::v1::CASE_KIND_FEEDBACK:
      return "Phản ánh";
    default:
      return "";
  }
}

std::string DirectionVi(cases::v1::CaseState s) {
  using S = cases::v1::CaseState;
  switch (s) {
    case S::CASE_STATE_ACCEPTED:
    case S::CASE_STATE_VERIFYING:
    case S::CASE_STATE_SUSPENDED:
    case S::CASE_STATE_DECIDED:
    case S::CASE_STATE_CLOSED:
      return "Thụ lý";
    case S::CASE_STATE_GUIDED:
      return "Hướng dẫn";
    case S::CASE_STATE_TRANSFERRED:
      return "Chuyển đơn";
    case S::CASE_STATE_REFUSED:
      return "Từ chối";
    case S::CASE_STATE_ARCHIVED:
      return "Lưu đơn";
    case S::CASE_STATE_WITHDRAWN:
      return "Rút đơn";
    default:
      return "Đang xử lý";
  }
}

std::string ResultVi(const Case& c) {
  using O = cases::v1::Outcome;
  switch (c.decision().outcome()) {
    case O::OUTCOME_COMPLAINT_RIGHT:
      return "Khiếu nại đúng";
    case O::OUTCOME_COMPLAINT_WRONG:
      return "Khiếu nại sai";
    case O::OUTCOME_COMPLAINT_PARTLY_RIGHT:
      return "Khiếu nại đúng một phần";
    case O::OUTCOME_DENUNCIATION_FOUNDED:
      return "Tố cáo đúng";
    case O::OUTCOME_DENUNCIATION_UNFOUNDED:
      return "Tố cáo sai";
    case O::OUTCOME_DENUNCIATION_PARTLY_FOUNDED:
      return "Tố cáo đúng một phần";
    case O::OUTCOME_ANSWERED:
      return "Đã trả lời";
    default:
      break;
  }
  if (c.has_guidance()) return absl::StrCat("Hướng dẫn đến ", c.guidance().competent_body());
  return "";
}

}  // namespace

std::string CsvField(absl::string_view value) {
  std::string v(value);
  // OWASP's CSV injection list: a spreadsheet runs a cell starting with any
  // of these as a formula (tab and carriage return too; found by fuzzing).
  if (!v.empty() &&
      (v[0] == '=' || v[0] == '+' || v[0] == '-' || v[0] == '@' || v[0] == '\t' || v[0] == '\r')) {
    v.insert(v.begin(), '\'');
  }
  if (v.find_first_of(",\"\r\n") == std::string::npos) return v;
  std::string out = "\"";
  for (char ch : v) {
    if (ch == '"') out += '"';
    out += ch;
  }
  out += '"';
  return out;
}

std::string RenderReceptionLog(const std::vector<Case>& rows) {
  std::string out =
      "Số hồ sơ,Ngày tiếp nhận,\"Họ tên, địa chỉ\",Số CCCD,Nội dung vụ việc,"
      "\"Phân loại, số người\",Cơ quan đã giải quyết,Hướng xử lý,Kết quả,Ghi chú\r\n";
  for (const Case& c : rows) {
    std::vector<std::string> people, ids;
    if (c.identity_protected()) {
      people.emplace_back(kProtected);
      ids.emplace_back(kProtected);
    } else if (c.anonymous()) {
      people.emplace_back("(nặc danh)");
    } else {
      for (const auto& p : c.petitioners()) {
        people.push_back(p.address().empty() ? p.full_name()
                                             : absl::StrCat(p.full_name(), ", ", p.address()));
        if (!p.citizen_id().empty()) ids.push_back(p.citizen_id());
      }
    }
    std::vector<std::string> notes;
    if (c.mass_case()) notes.emplace_back("Đoàn đông người");
    if (c.identity_protected()) notes.emplace_back("Bảo mật người tố cáo");
    if (c.anonymous()) notes.emplace_back("Nặc danh");
    const std::vector<std::string> fields = {
        c.number(),
        FormatDate(c.received_date()),
        absl::StrJoin(people, "; "),
        absl::StrJoin(ids, "; "),
        c.content(),
        absl::StrCat(KindVi(c.kind()), ", ", c.people_count(), " người"),
        c.previously_handled_by(),
        DirectionVi(c.state()),
        ResultVi(c),
        absl::StrJoin(notes, "; "),
    };
    std::vector<std::string> cells;
    for (const auto& f : fields) cells.push_back(CsvField(f));
    absl::StrAppend(&out, absl::StrJoin(cells, ","), "\r\n");
  }
  return out;
}

}  // namespace reception
