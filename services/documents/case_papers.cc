#include "services/documents/case_papers.h"

#include <algorithm>
#include <optional>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "absl/time/time.h"
#include "services/common/civil_date.h"
#include "services/common/status.h"
#include "services/common/text.h"

namespace reception::documents {
namespace {

namespace cv1 = cases::v1;

absl::Status NotAvailable(absl::string_view what) {
  return WithReason(absl::FailedPreconditionError(std::string(what)), "DOCUMENT_NOT_AVAILABLE");
}

std::string KindLabel(cv1::CaseKind k) {
  switch (k) {
    case cv1::CASE_KIND_COMPLAINT:
      return "khiếu nại";
    case cv1::CASE_KIND_DENUNCIATION:
      return "tố cáo";
    case cv1::CASE_KIND_PETITION:
      return "kiến nghị";
    case cv1::CASE_KIND_FEEDBACK:
      return "phản ánh";
    default:
      return "";
  }
}

std::string ChannelLabel(cv1::Channel ch) {
  switch (ch) {
    case cv1::CHANNEL_IN_PERSON:
      return "trực tiếp tại nơi tiếp công dân";
    case cv1::CHANNEL_MAIL:
      return "qua đường bưu chính";
    case cv1::CHANNEL_MAILBOX:
      return "qua hòm thư góp ý";
    case cv1::CHANNEL_FORWARDED_DEPUTY:
      return "do đại biểu Quốc hội, đại biểu Hội đồng nhân dân chuyển đến";
    case cv1::CHANNEL_FORWARDED_FATHERLAND_FRONT:
      return "do Mặt trận Tổ quốc chuyển đến";
    case cv1::CHANNEL_FORWARDED_PRESS:
      return "do cơ quan báo chí chuyển đến";
    case cv1::CHANNEL_FORWARDED_LEADER:
      return "do lãnh đạo chuyển đến";
    case cv1::CHANNEL_ONLINE_SESSION:
      return "tại buổi tiếp công dân trực tuyến";
    case cv1::CHANNEL_PORTAL:
      return "qua cổng thông tin điện tử";
    default:
      return "";
  }
}

std::string GroundLabel(cv1::RefusalGround g) {
  switch (g) {
    case cv1::REFUSAL_GROUND_INCAPACITATED:
      return "người đến trong tình trạng không làm chủ được hành vi";
    case cv1::REFUSAL_GROUND_DISRUPTIVE:
      return "người có hành vi đe dọa, xúc phạm hoặc vi phạm nội quy nơi tiếp công dân";
    case cv1::REFUSAL_GROUND_ALREADY_SETTLED:
      return "vụ việc đã được giải quyết đúng chính sách, pháp luật, đã được kiểm tra, rà soát "
             "và thông báo bằng văn bản";
    case cv1::REFUSAL_GROUND_OUT_OF_TIME:
      return "hết thời hiệu khiếu nại";
    case cv1::REFUSAL_GROUND_NO_STANDING:
      return "người khiếu nại không có quyền, lợi ích hợp pháp liên quan trực tiếp";
    case cv1::REFUSAL_GROUND_BEFORE_COURT:
      return "việc đã được Tòa án thụ lý hoặc đã được giải quyết bằng bản án, quyết định";
    default:
      return "";
  }
}

std::string OutcomeLabel(cv1::Outcome o) {
  switch (o) {
    case cv1::OUTCOME_COMPLAINT_RIGHT:
      return "khiếu nại đúng";
    case cv1::OUTCOME_COMPLAINT_WRONG:
      return "khiếu nại sai";
    case cv1::OUTCOME_COMPLAINT_PARTLY_RIGHT:
      return "khiếu nại đúng một phần";
    case cv1::OUTCOME_DENUNCIATION_FOUNDED:
      return "tố cáo đúng";
    case cv1::OUTCOME_DENUNCIATION_UNFOUNDED:
      return "tố cáo sai";
    case cv1::OUTCOME_DENUNCIATION_PARTLY_FOUNDED:
      return "tố cáo đúng một phần";
    case cv1::OUTCOME_ANSWERED:
      return "đã trả lời";
    default:
      return "";
  }
}

std::string PublicationLabel(cv1::PublicationMethod m) {
  switch (m) {
    case cv1::PUBLICATION_METHOD_MEETING:
      return "công bố tại cuộc họp";
    case cv1::PUBLICATION_METHOD_POSTING:
      return "niêm yết tại trụ sở";
    case cv1::PUBLICATION_METHOD_MEDIA:
      return "thông báo trên phương tiện thông tin đại chúng";
    default:
      return "";
  }
}

std::string StepLabel(cv1::DeadlineStep s) {
  switch (s) {
    case cv1::DEADLINE_STEP_HANDLE_LETTER:
      return "xử lý đơn";
    case cv1::DEADLINE_STEP_ACCEPT:
      return "thụ lý";
    case cv1::DEADLINE_STEP_TRANSFER:
      return "chuyển đơn";
    case cv1::DEADLINE_STEP_SETTLE:
      return "giải quyết";
    case cv1::DEADLINE_STEP_FILE:
      return "khiếu nại";
    case cv1::DEADLINE_STEP_PUBLISH:
      return "công khai";
    case cv1::DEADLINE_STEP_RESOLVE_DISPUTE:
      return "xác định thẩm quyền";
    default:
      return "";
  }
}

std::string Dmy(const type::v1::Date& d) {
  if (IsUnset(d)) return "";
  return absl::StrFormat("%02d/%02d/%04d", d.day(), d.month(), d.year());
}
std::string Dmy(absl::CivilDay d) { return Dmy(ToProtoDate(d)); }

absl::CivilDay DayAt(const google::protobuf::Timestamp& t) {
  return absl::ToCivilDay(absl::FromUnixSeconds(t.seconds()), absl::FixedTimeZone(7 * 3600));
}

// The unit as it stood on `day` (its successor after a merge), else as known.
const Topology::Unit* UnitOn(const Topology& topology, absl::string_view code, absl::CivilDay day) {
  auto u = topology.InForce(code, day);
  if (u.ok()) return *u;
  return topology.Find(code);
}

std::string UnitName(const Topology& topology, absl::string_view code, absl::CivilDay day) {
  const Topology::Unit* u = UnitOn(topology, code, day);
  return u == nullptr ? std::string(code) : u->name();
}

// The place in "<place>, ngày ...": the province's name without its
// "Tỉnh " / "Thành phố " prefix.
std::string PlaceOf(const Topology& topology, absl::string_view code, absl::CivilDay day) {
  const Topology::Unit* u = UnitOn(topology, code, day);
  for (int guard = 0; u != nullptr && !u->parent_code().empty() && guard < 16; ++guard) {
    const Topology::Unit* parent = UnitOn(topology, u->parent_code(), day);
    if (parent == nullptr) break;
    u = parent;
  }
  if (u == nullptr) return "";
  absl::string_view name = u->name();
  for (absl::string_view prefix : {"Thành phố ", "Tỉnh "}) {
    if (absl::ConsumePrefix(&name, prefix)) break;
  }
  return std::string(name);
}

std::string Petitioners(const cv1::Case& c) {
  if (c.identity_protected()) {
    return "Họ tên, địa chỉ và thông tin cá nhân của người tố cáo được giữ bí mật theo quy định "
           "của Luật Tố cáo.";
  }
  if (c.anonymous() || c.petitioners().empty()) return "Đơn không ghi họ tên người gửi.";
  std::vector<std::string> lines;
  for (const auto& p : c.petitioners()) {
    std::string line = absl::StrCat("- Ông/Bà: ", p.full_name());
    if (!p.citizen_id().empty()) absl::StrAppend(&line, "; số định danh cá nhân: ", p.citizen_id());
    if (!p.address().empty()) absl::StrAppend(&line, "; địa chỉ: ", p.address());
    if (!p.phone().empty()) absl::StrAppend(&line, "; điện thoại: ", p.phone());
    lines.push_back(std::move(line));
  }
  if (c.people_count() > c.petitioners_size()) {
    lines.push_back(absl::StrCat("(Đơn có ", c.people_count(), " người cùng đứng tên)"));
  }
  return absl::StrJoin(lines, "\n");
}

std::string PetitionerNames(const cv1::Case& c) {
  if (c.identity_protected()) return "người tố cáo (thông tin được giữ bí mật)";
  if (c.anonymous() || c.petitioners().empty()) return "người gửi đơn";
  std::vector<std::string> names;
  for (const auto& p : c.petitioners()) names.push_back(absl::StrCat("ông/bà ", p.full_name()));
  return absl::StrJoin(names, ", ");
}

std::string Attachments(const cv1::Case& c) {
  if (c.attachments().empty()) return "Không có.";
  std::vector<std::string> lines;
  int i = 0;
  for (const auto& a : c.attachments()) {
    lines.push_back(absl::StrCat(++i, ". ", a.name(), " (", a.size_bytes(), " byte)"));
  }
  return absl::StrJoin(lines, "\n");
}

std::string Respondent(const cv1::Case& c, const Topology& topology, absl::CivilDay day) {
  const auto& r = c.respondent();
  std::vector<std::string> parts;
  if (!r.official_name().empty()) {
    parts.push_back(absl::StrCat(r.official_name(), r.official_position().empty() ? "" : ", ",
                                 r.official_position()));
  }
  if (!r.unit_code().empty()) parts.push_back(UnitName(topology, r.unit_code(), day));
  if (!r.act_reference().empty()) {
    parts.push_back(absl::StrCat("văn bản ", r.act_reference(),
                                 IsUnset(r.act_date()) ? "" : " ngày ", Dmy(r.act_date())));
  }
  return absl::StrJoin(parts, "; ");
}

// The earliest due date of a running clock.
std::string NextDue(const cv1::Case& c) {
  std::optional<absl::CivilDay> best;
  for (const auto& k : c.clocks()) {
    if (k.state() != cv1::CLOCK_STATE_RUNNING || IsUnset(k.due_date())) continue;
    auto d = ToCivilDay(k.due_date(), "due_date");
    if (d.ok() && (!best || *d < *best)) best = *d;
  }
  return best ? Dmy(*best) : "";
}

}  // namespace

std::string DateInWords(absl::CivilDay day) {
  const int d = day.day();
  const int m = day.month();
  return absl::StrCat("ngày ", d < 10 ? absl::StrFormat("%02d", d) : absl::StrCat(d), " tháng ",
                      m < 3 ? absl::StrFormat("%02d", m) : absl::StrCat(m), " năm ", day.year());
}

std::string DocumentSlug(cv1::DocumentKind kind) {
  std::string name(absl::StripPrefix(cv1::DocumentKind_Name(kind), "DOCUMENT_KIND_"));
  for (char& ch : name) ch = ch == '_' ? '-' : static_cast<char>(std::tolower(ch));
  return name;
}

absl::StatusOr<CasePaper> BuildCasePaper(cv1::DocumentKind kind, const cv1::Case& c,
                                         const PaperContext& ctx, const FormBook& forms) {
  const Topology& topo = *ctx.topology;
  std::map<std::string, std::string> f;
  auto received = ToCivilDay(c.received_date(), "received_date");
  if (!received.ok()) return received.status();
  absl::CivilDay date = *received;
  std::string number;  // the act's own reference when it has one

  switch (kind) {
    case cv1::DOCUMENT_KIND_RECEIPT:
      f["receipt_code"] = ctx.receipt_code;
      f["lookup_address"] = ctx.lookup_address;
      break;
    case cv1::DOCUMENT_KIND_ACCEPTANCE_NOTICE: {
      if (IsUnset(c.acceptance().date())) {
        return NotAvailable(absl::StrCat("cases/", c.number(),
                                         " has not been accepted: there is no notice of "
                                         "acceptance to issue"));
      }
      RECEPTION_ASSIGN_OR_RETURN(date, ToCivilDay(c.acceptance().date(), "acceptance.date"));
      number = c.acceptance().notice_reference();
      f["acceptance_basis"] = c.acceptance().basis();
      f["acceptance_reference"] = c.acceptance().notice_reference();
      break;
    }
    case cv1::DOCUMENT_KIND_REFUSAL_NOTICE: {
      if (IsUnset(c.refusal().date())) {
        return NotAvailable(absl::StrCat("cases/", c.number(),
                                         " has not been refused: there is no notice of refusal "
                                         "to issue"));
      }
      RECEPTION_ASSIGN_OR_RETURN(date, ToCivilDay(c.refusal().date(), "refusal.date"));
      number = c.refusal().notice_reference();
      f["refusal_ground"] = GroundLabel(c.refusal().ground());
      f["refusal_explanation"] = c.refusal().explanation();
      break;
    }
    case cv1::DOCUMENT_KIND_GUIDANCE_SLIP: {
      if (IsUnset(c.guidance().date())) {
        return NotAvailable(absl::StrCat("cases/", c.number(),
                                         " has not been guided elsewhere: there is no guidance "
                                         "slip to issue"));
      }
      RECEPTION_ASSIGN_OR_RETURN(date, ToCivilDay(c.guidance().date(), "guidance.date"));
      f["competent_body"] = c.guidance().competent_body();
      f["guidance_note"] = c.guidance().note();
      break;
    }
    case cv1::DOCUMENT_KIND_TRANSFER_SLIP:
      if (ctx.handoff == nullptr) {
        return NotAvailable(absl::StrCat("cases/", c.number(),
                                         " has not been transferred from this unit: there is no "
                                         "transfer slip to issue"));
      }
      date = DayAt(ctx.handoff->create_time());
      number = std::string(absl::StripPrefix(ctx.handoff->name(), "handoffs/"));
      f["destination_unit"] = UnitName(topo, ctx.handoff->destination_unit(), date);
      f["transfer_reason"] = ctx.handoff->reason();
      break;
    case cv1::DOCUMENT_KIND_EXTENSION_NOTICE: {
      const cv1::DeadlineExtension* last = nullptr;
      const cv1::DeadlineClock* clock = nullptr;
      absl::CivilDay last_day;
      for (const auto& k : c.clocks()) {
        for (const auto& e : k.extensions()) {
          auto day = ToCivilDay(e.date(), "extension.date");
          if (!day.ok()) continue;  // an extension without a valid date has no notice
          if (last == nullptr || *day >= last_day) {
            last = &e;
            clock = &k;
            last_day = *day;
          }
        }
      }
      if (last == nullptr) {
        return NotAvailable(absl::StrCat("cases/", c.number(),
                                         " has had no time limit extended: there is no notice "
                                         "of extension to issue"));
      }
      date = last_day;
      number = last->decision_reference();
      f["extension_step"] = StepLabel(clock->step());
      f["extension_days"] = absl::StrCat(last->days());
      f["extension_reference"] = last->decision_reference();
      f["extension_date"] = Dmy(last->date());
      f["new_due_date"] = Dmy(clock->due_date());
      break;
    }
    case cv1::DOCUMENT_KIND_MINUTES: {
      const cv1::CaseMinutes* m = nullptr;
      for (const auto& each : c.minutes()) {
        if (ctx.room.empty() || each.room() == ctx.room) m = &each;
      }
      if (m == nullptr) {
        return NotAvailable(
            ctx.room.empty()
                ? absl::StrCat("cases/", c.number(), " has no minutes of an online reception")
                : absl::StrCat("cases/", c.number(), " has no minutes of ", ctx.room));
      }
      date = DayAt(m->lock_time());
      number = std::string(absl::StripPrefix(m->room(), "rooms/"));
      f["minutes_room"] = m->room();
      f["minutes_text"] = m->text();
      f["minutes_lock_time"] =
          absl::FormatTime("%H:%M %d/%m/%Y", absl::FromUnixSeconds(m->lock_time().seconds()),
                           absl::FixedTimeZone(7 * 3600));
      break;
    }
    case cv1::DOCUMENT_KIND_DECISION_COVER: {
      if (IsUnset(c.decision().date())) {
        return NotAvailable(absl::StrCat("cases/", c.number(),
                                         " has no decision yet: there is no decision to cover"));
      }
      RECEPTION_ASSIGN_OR_RETURN(
          date,
          ToCivilDay(IsUnset(c.publication().date()) ? c.decision().date() : c.publication().date(),
                     "decision.date"));
      number = c.decision().decision_reference();
      f["decision_title"] =
          c.kind() == cv1::CASE_KIND_DENUNCIATION
              ? "KẾT LUẬN NỘI DUNG TỐ CÁO"
              : (c.kind() == cv1::CASE_KIND_COMPLAINT ? "QUYẾT ĐỊNH GIẢI QUYẾT KHIẾU NẠI"
                                                      : "VĂN BẢN TRẢ LỜI");
      f["decision_reference"] = c.decision().decision_reference();
      f["decision_date"] = Dmy(c.decision().date());
      f["decision_outcome"] = OutcomeLabel(c.decision().outcome());
      f["decision_summary"] = c.decision().summary();
      f["publication_method"] = PublicationLabel(c.publication().method());
      f["publication_date"] = Dmy(c.publication().date());
      f["publication_reference"] = c.publication().reference();
      break;
    }
    default:
      return WithReason(absl::InvalidArgumentError("kind must be a document kind"),
                        "INVALID_FIELD");
  }

  auto form = forms.FormOn(kind, date);
  if (!form.ok()) return form.status();
  const Form& fm = **form;
  // Official references (a notice's, a decision's) stand as given; the
  // system's own ids (a handoff, a room) and the case number take the
  // form's suffix.
  if (number.empty()) {
    number = absl::StrCat(c.number(), fm.number_suffix());
  } else if (kind == cv1::DOCUMENT_KIND_TRANSFER_SLIP || kind == cv1::DOCUMENT_KIND_MINUTES) {
    absl::StrAppend(&number, fm.number_suffix());
  }

  const Topology::Unit* unit = UnitOn(topo, ctx.unit_code, date);
  const std::string unit_name = unit == nullptr ? ctx.unit_code : unit->name();
  std::string parent_name;
  if (unit != nullptr && !unit->parent_code().empty()) {
    parent_name = UnitName(topo, unit->parent_code(), date);
  }
  f["unit_name"] = unit_name;
  f["unit_name_upper"] = UpperCaseVi(unit_name);
  f["parent_name_upper"] = parent_name.empty() ? "" : UpperCaseVi(parent_name);
  f["place"] = PlaceOf(topo, ctx.unit_code, date);
  f["number"] = number;
  f["date"] = Dmy(date);
  f["date_words"] = DateInWords(date);
  f["case_number"] = c.number();
  f["case_kind"] = KindLabel(c.kind());
  f["channel"] = ChannelLabel(c.channel());
  f["received_date"] = Dmy(c.received_date());
  f["petitioners"] = Petitioners(c);
  f["petitioner_names"] = PetitionerNames(c);
  f["people_count"] = absl::StrCat(std::max(c.people_count(), c.petitioner_count()));
  f["content"] = c.content();
  f["attachments"] = Attachments(c);
  f["respondent"] = Respondent(c, topo, date);
  f["previously_handled_by"] = c.previously_handled_by();
  f["due_date"] = NextDue(c);

  CasePaper out;
  out.form = &fm;
  out.date = date;
  out.number = number;
  Paper& p = out.paper;
  p.issuer_parent = f["parent_name_upper"];
  p.issuer = f["unit_name_upper"];
  p.number = absl::StrCat("Số: ", number);
  p.place_date = absl::StrCat(f["place"], f["place"].empty() ? "" : ", ", f["date_words"]);
  p.form_code = fm.code();
  RECEPTION_ASSIGN_OR_RETURN(p.title, FillTemplate(fm.title(), f));
  RECEPTION_ASSIGN_OR_RETURN(p.subtitle, FillTemplate(fm.subtitle(), f));
  RECEPTION_ASSIGN_OR_RETURN(p.legal_basis, FillTemplate(fm.legal_basis(), f));
  for (const std::string& para : fm.paragraphs()) {
    absl::string_view text = para;
    if (absl::ConsumePrefix(&text, "?")) {
      bool empty = false;
      for (const auto& name : FieldsOf(text)) {
        auto it = f.find(name);
        if (it == f.end() || it->second.empty()) empty = true;
      }
      if (empty) continue;
    }
    RECEPTION_ASSIGN_OR_RETURN(std::string filled, FillTemplate(text, f));
    p.paragraphs.push_back(std::move(filled));
  }
  for (const std::string& r : fm.recipients()) {
    RECEPTION_ASSIGN_OR_RETURN(std::string filled, FillTemplate(r, f));
    p.recipients.push_back(std::move(filled));
  }
  if (fm.qr_code()) {
    p.qr_payload = ctx.lookup_payload;
    p.qr_caption =
        absl::StrCat("Mã tra cứu: ", ctx.receipt_code, "\nSố hồ sơ: ", c.number(),
                     ctx.lookup_address.empty() ? "" : "\nTra cứu tại: ", ctx.lookup_address);
  }
  p.left_signature = fm.left_signature();
  p.right_signature = fm.right_signature();
  p.signature_note = fm.signature_note();
  p.footer = absl::StrCat("cases/", c.number(), " · ", fm.id(), fm.source().empty() ? "" : " (",
                          fm.source(), fm.source().empty() ? "" : ")");
  p.pdf_title = absl::StrCat(p.title, " ", number);
  p.date = date;
  out.fields = std::move(f);
  return out;
}

}  // namespace reception::documents
