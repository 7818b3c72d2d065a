// receptionctl: the reception calendar (plan, sessions, registrations,
// notices, compliance, iCalendar).
#include <fstream>
#include <iostream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "services/common/civil_date.h"
#include "services/common/clock.h"
#include "tools/receptionctl/cli.h"

namespace receptionctl {

int ScheduleCommand(const Args& a) {
  Client client(a);
  const bool json = a.Has("json");
  const std::string& cmd = a.command;
  if (cmd == "schedule" || cmd == "session" || cmd == "register" || cmd == "notifications") {
    namespace sv = reception::scheduling::v1;
    using S = sv::SchedulingService::Stub;
    auto session_name = [](const std::string& n) {
      return n.rfind("sessions/", 0) == 0 ? n : "sessions/" + n;
    };
    auto print_session = [&](const sv::Session& x) {
      if (json) return PrintJson(x);
      std::cout << x.name() << "  [" << Short(sv::SessionState_Name(x.state()), "SESSION_STATE_")
                << "]" << (x.replica() ? "  (copy; hosted by " + x.host_unit() + ")" : "") << "\n";
      Row("kind", Short(sv::SessionKind_Name(x.kind()), "SESSION_KIND_"));
      Row("when", absl::StrCat(reception::FormatDate(x.date()), " ", x.start(), "-", x.end()));
      Row("presiding", x.presiding());
      Row("title", x.title());
      Row("etag", x.etag());
      Row("reason", x.reason());
      for (const auto& b : x.bridges()) {
        Row("bridge", absl::StrCat(b.unit(), "  ", b.registered(), "/", b.capacity(), " registered",
                                   b.waiting() ? absl::StrCat(", ", b.waiting(), " waiting") : ""));
      }
      if (x.has_registration_cutoff())
        Row("registration until", reception::FormatDate(x.registration_cutoff()));
      Row("room", x.room());
      Row("cancelled", x.cancel_reason());
      if (x.has_record()) {
        Row("held", absl::StrCat("presided by ", x.record().presided_by(), " (",
                                 Short(sv::PresidingRole_Name(x.record().presiding_role()),
                                       "PRESIDING_ROLE_"),
                                 "), ", x.record().citizens(), " citizens"));
      }
      Row("problem", x.problem());
    };
    auto print_registration = [&](const sv::Registration& r) {
      if (json) return PrintJson(r);
      std::cout << r.name() << "  ["
                << Short(sv::RegistrationState_Name(r.state()), "REGISTRATION_STATE_") << "]\n";
      if (r.queue_number()) Row("queue number", absl::StrCat(r.queue_number()));
      if (r.waiting_position())
        Row("waiting list", absl::StrCat("position ", r.waiting_position()));
      Row("bridge", r.bridge_unit());
      Row("problem", r.problem());
    };
    const std::string sub = a.positional.empty() ? "" : a.positional[0];
    const std::string arg = a.positional.size() > 1 ? a.positional[1] : "";
    if (cmd == "notifications") {
      sv::ListNotificationsRequest r;
      r.set_page_size(1000);
      sv::ListNotificationsResponse resp;
      for (;;) {
        auto page = client.Call(&S::ListNotifications, r);
        for (auto& n : *page.mutable_notifications()) *resp.add_notifications() = std::move(n);
        if (page.next_page_token().empty()) break;
        r.set_page_token(page.next_page_token());
      }
      if (json) {
        PrintJson(resp);
        return 0;
      }
      for (const auto& n : resp.notifications()) {
        std::cout << absl::FormatTime("%Y-%m-%d %H:%M", absl::FromUnixSeconds(n.time().seconds()),
                                      reception::VietnamTimeZone())
                  << "  " << absl::StrFormat("%-20s", n.kind()) << n.registration() << "  "
                  << n.message() << "\n";
      }
      return 0;
    }
    if (cmd == "schedule") {
      if (sub == "plan") {
        if (!a.Get("opens") && a.All("day-of-month").empty() && a.All("weekday").empty()) {
          auto plan = client.Call(&S::GetReceptionPlan, sv::GetReceptionPlanRequest());
          if (json) return PrintJson(plan), 0;
          std::cout << "unit " << plan.unit() << ": regular reception " << plan.opens() << "-"
                    << plan.closes() << "\n";
          for (const auto& d : plan.periodic_days()) {
            Row("periodic", d.has_weekday()
                                ? "every " + Short(sv::Weekday_Name(d.weekday()), "WEEKDAY_")
                                : absl::StrCat("day ", d.day_of_month(), " of each month"));
          }
          return 0;
        }
        sv::SetReceptionPlanRequest r;
        r.mutable_plan()->set_opens(a.GetOr("opens", "07:30"));
        r.mutable_plan()->set_closes(a.GetOr("closes", "17:00"));
        for (const auto& d : a.All("day-of-month")) {
          int n = 0;
          if (!absl::SimpleAtoi(d, &n)) UsageError("--day-of-month must be a number");
          r.mutable_plan()->add_periodic_days()->set_day_of_month(n);
        }
        for (const auto& w : a.All("weekday")) {
          r.mutable_plan()->add_periodic_days()->set_weekday(
              ParseEnum<sv::Weekday>(w, "WEEKDAY_", &sv::Weekday_Parse, "weekday"));
        }
        auto plan = client.Call(&S::SetReceptionPlan, r);
        if (json)
          PrintJson(plan);
        else
          std::cout << "plan set for unit " << plan.unit() << "\n";
        return 0;
      }
      if (sub == "days") {
        sv::ListPlannedDaysRequest r;
        *r.mutable_from() = ParseDateOption(a.GetOr("from", ""), "from");
        *r.mutable_to() = ParseDateOption(a.GetOr("to", ""), "to");
        auto resp = client.Call(&S::ListPlannedDays, r);
        if (json) {
          PrintJson(resp);
          return 0;
        }
        for (const auto& d : resp.days()) {
          if (d.kind() != sv::DAY_KIND_PERIODIC && !a.flags.count("all")) continue;
          std::cout << reception::FormatDate(d.date()) << "  "
                    << Short(sv::DayKind_Name(d.kind()), "DAY_KIND_")
                    << (d.has_moved_from()
                            ? "  (moved from " + reception::FormatDate(d.moved_from()) +
                                  ", a day off)"
                            : "")
                    << "\n";
        }
        return 0;
      }
      if (sub == "compliance") {
        sv::GetComplianceReportRequest r;
        r.set_unit(a.GetOr("for-unit", ""));
        int y = 0, n = 0;
        if (auto m = a.Get("month"); m && m->size() == 7 && absl::SimpleAtoi(m->substr(0, 4), &y) &&
                                     absl::SimpleAtoi(m->substr(5), &n)) {
          r.set_period(sv::REPORT_PERIOD_MONTH);
        } else if (auto q = a.Get("quarter"); q && q->size() == 7 &&
                                              absl::SimpleAtoi(q->substr(0, 4), &y) &&
                                              absl::SimpleAtoi(q->substr(6), &n)) {
          r.set_period(sv::REPORT_PERIOD_QUARTER);
        } else {
          UsageError("schedule compliance needs --month YYYY-MM or --quarter YYYY-QN");
        }
        r.set_year(y);
        r.set_number(n);
        auto rep = client.Call(&S::GetComplianceReport, r);
        if (json) return PrintJson(rep), 0;
        std::cout << "unit " << rep.unit() << ", " << reception::FormatDate(rep.from()) << " - "
                  << reception::FormatDate(rep.to()) << ": " << rep.held() << " of "
                  << rep.required() << " required periodic reception days held, " << rep.gaps()
                  << " gap(s); presided by the head " << rep.presided_by_head() << ", by a deputy "
                  << rep.presided_by_deputy() << "\n";
        for (const auto& sp : rep.spans()) {
          std::cout << absl::StrFormat("  %s - %s  %d/%d%s  %s\n", reception::FormatDate(sp.from()),
                                       reception::FormatDate(sp.to()), sp.held(), sp.required(),
                                       sp.gap() ? "  GAP" : "", sp.rule());
          if (!sp.note().empty()) std::cout << "      " << sp.note() << "\n";
          for (const auto& who : sp.presided()) std::cout << "      held " << who << "\n";
          for (const auto& d : sp.missed_planned_days())
            std::cout << "      planned, not held " << reception::FormatDate(d) << "\n";
        }
        return 0;
      }
      if (sub == "ical") {
        sv::ExportCalendarRequest r;
        *r.mutable_from() = ParseDateOption(a.GetOr("from", ""), "from");
        *r.mutable_to() = ParseDateOption(a.GetOr("to", ""), "to");
        std::cout << client.Call(&S::ExportCalendar, r).ical();
        return 0;
      }
      UsageError("schedule needs plan, days, compliance or ical");
    }
    if (cmd == "session") {
      if (sub == "create") {
        sv::CreateSessionRequest r;
        auto* x = r.mutable_session();
        x->set_kind(ParseEnum<sv::SessionKind>(a.GetOr("kind", ""), "SESSION_KIND_",
                                               &sv::SessionKind_Parse, "kind"));
        *x->mutable_date() = ParseDateOption(a.GetOr("date", ""), "date");
        x->set_start(a.GetOr("start", ""));
        x->set_end(a.GetOr("end", ""));
        x->set_presiding(a.GetOr("presiding", ""));
        x->set_title(a.GetOr("title", ""));
        x->set_reason(a.GetOr("reason", ""));
        for (const auto& b : a.All("bridge")) {
          const size_t eq = b.find('=');
          int capacity = 0;
          if (eq == std::string::npos || !absl::SimpleAtoi(b.substr(eq + 1), &capacity))
            UsageError("--bridge must be UNIT=CAPACITY");
          auto* br = x->add_bridges();
          br->set_unit(b.substr(0, eq));
          br->set_capacity(capacity);
        }
        if (auto c = a.Get("cutoff"))
          *x->mutable_registration_cutoff() = ParseDateOption(*c, "cutoff");
        r.set_request_id(a.GetOr("request-id", ""));
        print_session(client.Call(&S::CreateSession, r));
        return 0;
      }
      if (sub == "list") {
        sv::ListSessionsRequest r;
        *r.mutable_from() = ParseDateOption(a.GetOr("from", ""), "from");
        *r.mutable_to() = ParseDateOption(a.GetOr("to", ""), "to");
        r.set_page_size(1000);
        sv::ListSessionsResponse resp;
        for (;;) {
          auto page = client.Call(&S::ListSessions, r);
          for (auto& x : *page.mutable_sessions()) *resp.add_sessions() = std::move(x);
          if (page.next_page_token().empty()) break;
          r.set_page_token(page.next_page_token());
        }
        if (json) {
          PrintJson(resp);
          return 0;
        }
        for (const auto& x : resp.sessions()) {
          std::cout << absl::StrFormat("%-26s %s %s-%s  %-11s %-10s %s\n", x.name(),
                                       reception::FormatDate(x.date()), x.start(), x.end(),
                                       Short(sv::SessionKind_Name(x.kind()), "SESSION_KIND_"),
                                       Short(sv::SessionState_Name(x.state()), "SESSION_STATE_"),
                                       x.replica() ? "hosted by " + x.host_unit() : x.presiding());
        }
        return 0;
      }
      if (arg.empty()) UsageError(absl::StrCat("session ", sub, " needs a session NAME"));
      const std::string name = session_name(arg);
      if (sub == "get") {
        sv::GetSessionRequest r;
        r.set_name(name);
        print_session(client.Call(&S::GetSession, r));
        return 0;
      }
      if (sub == "agenda") {
        sv::GetSessionAgendaRequest r;
        r.set_session(name);
        auto ag = client.Call(&S::GetSessionAgenda, r);
        if (json) return PrintJson(ag), 0;
        for (const auto& i : ag.items()) {
          std::cout << absl::StrFormat(
              "  %-8s #%-3d %-12s %-24s %s\n", i.bridge_unit(), i.queue_number(),
              Short(sv::RegistrationState_Name(i.state()), "REGISTRATION_STATE_"), i.full_name(),
              i.case_().empty() ? i.summary() : i.case_());
        }
        return 0;
      }
      if (sub == "reschedule") {
        sv::RescheduleSessionRequest r;
        r.set_etag(a.GetOr("etag", ""));
        r.set_name(name);
        *r.mutable_date() = ParseDateOption(a.GetOr("date", ""), "date");
        r.set_start(a.GetOr("start", ""));
        r.set_end(a.GetOr("end", ""));
        if (auto c = a.Get("cutoff"))
          *r.mutable_registration_cutoff() = ParseDateOption(*c, "cutoff");
        print_session(client.Call(&S::RescheduleSession, r));
        return 0;
      }
      if (sub == "cancel") {
        sv::CancelSessionRequest r;
        r.set_etag(a.GetOr("etag", ""));
        r.set_name(name);
        r.set_reason(a.GetOr("reason", ""));
        print_session(client.Call(&S::CancelSession, r));
        return 0;
      }
      if (sub == "record") {
        sv::RecordSessionRequest r;
        r.set_etag(a.GetOr("etag", ""));
        r.set_name(name);
        r.mutable_record()->set_presided_by(a.GetOr("presided-by", ""));
        r.mutable_record()->set_presiding_role(
            ParseEnum<sv::PresidingRole>(a.GetOr("presiding-role", ""), "PRESIDING_ROLE_",
                                         &sv::PresidingRole_Parse, "presiding-role"));
        int n = 0;
        if (!absl::SimpleAtoi(a.GetOr("citizens", "0"), &n))
          UsageError("--citizens must be a number");
        r.mutable_record()->set_citizens(n);
        for (const auto& c : a.All("case"))
          r.mutable_record()->add_cases(c.rfind("cases/", 0) == 0 ? c : "cases/" + c);
        r.mutable_record()->set_note(a.GetOr("note", ""));
        print_session(client.Call(&S::RecordSession, r));
        return 0;
      }
      UsageError("session needs create, get, list, agenda, reschedule, cancel or record");
    }
    // register
    if (sub == "cancel" || sub == "checkin") {
      if (arg.empty()) UsageError(absl::StrCat("register ", sub, " needs a REGISTRATION name"));
      if (sub == "cancel") {
        sv::CancelRegistrationRequest r;
        r.set_name(arg);
        r.set_etag(a.GetOr("etag", ""));
        print_registration(client.Call(&S::CancelRegistration, r));
        return 0;
      }
      sv::CheckInCitizenRequest r;
      r.set_name(arg);
      r.set_citizen_id(a.GetOr("citizen-id", ""));
      r.set_etag(a.GetOr("etag", ""));
      print_registration(client.Call(&S::CheckInCitizen, r));
      return 0;
    }
    if (sub.empty()) UsageError("register needs a SESSION");
    sv::RegisterCitizenRequest r;
    auto* reg = r.mutable_registration();
    reg->set_session(session_name(sub));
    reg->set_bridge_unit(a.GetOr("bridge", ""));
    reg->set_full_name(a.GetOr("name", ""));
    reg->set_citizen_id(a.GetOr("citizen-id", ""));
    if (auto c = a.Get("case")) reg->set_case_(c->rfind("cases/", 0) == 0 ? *c : "cases/" + *c);
    reg->set_summary(a.GetOr("summary", ""));
    r.set_request_id(a.GetOr("request-id", ""));
    print_registration(client.Call(&S::RegisterCitizen, r));
    return 0;
  }
  UsageError(absl::StrCat("unknown command \"", cmd, "\""));
}

}  // namespace receptionctl
