// receptionctl: handing cases between units (routing, transfers, returns,
// jurisdiction disputes) and the federation's outboxes.
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

int HandoffsCommand(const Args& a) {
  Client client(a);
  const bool json = a.Has("json");
  const std::string& cmd = a.command;
  auto out_handoff = [&](const v1::Handoff& h) {
    if (json) {
      PrintJson(h);
      return 0;
    }
    std::cout << h.name() << "  [" << Short(v1::HandoffState_Name(h.state()), "HANDOFF_STATE_")
              << "]\n";
    Row("case", h.case_());
    Row(h.is_return() ? "returned" : "transfer",
        absl::StrCat(h.source_unit(), " -> ", h.destination_unit(),
                     h.outgoing() ? " (outgoing)" : " (incoming)"));
    Row("reason", h.reason());
    Row("owner epoch", absl::StrCat(h.owner_epoch()));
    Row("attempts", h.attempts() ? absl::StrCat(h.attempts()) : "");
    Row("last error", h.last_error());
    return 0;
  };
  const std::string request_id = RequestId(a);
  if (cmd == "route") {
    reception::routing::v1::RouteCaseRequest req;
    req.set_name(CaseName(a));
    req.set_apply(a.Has("apply"));
    req.set_request_id(request_id);
    auto d = client.Call(&reception::routing::v1::RoutingService::Stub::RouteCase, req);
    if (json) {
      PrintJson(d);
      return 0;
    }
    std::cout << d.case_() << ": "
              << Short(reception::routing::v1::RoutingAction_Name(d.action()), "ROUTING_ACTION_")
              << (d.action() == reception::routing::v1::ROUTING_ACTION_HANDLE_HERE
                      ? ""
                      : " -> " + d.competent_unit_name() + " (" + d.competent_unit() + ")")
              << "\n";
    Row("rule", absl::StrCat(d.rule_pack(), "/", d.rule_id()));
    Row("why", d.explanation());
    if (d.over_level()) Row("over level", "yes: sent above the competent level");
    if (d.archive_reason() != v1::ARCHIVE_REASON_UNSPECIFIED) {
      Row("archive reason", Short(v1::ArchiveReason_Name(d.archive_reason()), "ARCHIVE_REASON_"));
    }
    Row("inform", d.notify_unit());
    if (d.has_handoff())
      Row("handoff",
          absl::StrCat(d.handoff().name(), " (",
                       Short(v1::HandoffState_Name(d.handoff().state()), "HANDOFF_STATE_"), ")"));
    return 0;
  }
  if (cmd == "transfer") {
    v1::TransferCaseRequest req;
    req.set_name(CaseName(a));
    req.set_etag(a.GetOr("etag", ""));
    req.set_destination_unit(a.GetOr("to", ""));
    req.set_reason(a.GetOr("reason", ""));
    req.set_request_id(request_id);
    return out_handoff(client.Call(&v1::HandoffService::Stub::TransferCase, req));
  }
  if (cmd == "return") {
    v1::ReturnCaseRequest req;
    req.set_name(CaseName(a));
    req.set_etag(a.GetOr("etag", ""));
    req.set_reason(a.GetOr("reason", ""));
    req.set_request_id(request_id);
    return out_handoff(client.Call(&v1::HandoffService::Stub::ReturnCase, req));
  }
  if (cmd == "dispute" || cmd == "resolve") {
    auto print = [&](const v1::JurisdictionResponse& r) {
      if (json) {
        PrintJson(r);
        return 0;
      }
      PrintCase(r.case_());
      if (!r.handoff().name().empty()) {
        std::cout << "\n"
                  << r.handoff().name() << ": to unit " << r.handoff().destination_unit() << ", "
                  << Short(v1::HandoffState_Name(r.handoff().state()), "HANDOFF_STATE_") << "\n";
      }
      return 0;
    };
    if (cmd == "dispute") {
      v1::DisputeJurisdictionRequest req;
      req.set_name(CaseName(a));
      req.set_etag(a.GetOr("etag", ""));
      req.set_competent_unit(a.GetOr("competent", ""));
      req.set_reason(a.GetOr("reason", ""));
      req.set_request_id(request_id);
      return print(client.Call(&v1::HandoffService::Stub::DisputeJurisdiction, req));
    }
    v1::ResolveJurisdictionRequest req;
    req.set_name(CaseName(a));
    req.set_etag(a.GetOr("etag", ""));
    req.set_competent_unit(a.GetOr("competent", ""));
    req.set_reason(a.GetOr("reason", ""));
    req.set_legal_basis(a.GetOr("basis", ""));
    req.set_request_id(request_id);
    return print(client.Call(&v1::HandoffService::Stub::ResolveJurisdiction, req));
  }
  if (cmd == "handoff") {
    if (a.positional.empty()) UsageError("handoff needs an ID");
    v1::GetHandoffRequest req;
    const std::string& id = a.positional[0];
    req.set_name(id.rfind("handoffs/", 0) == 0 ? id : "handoffs/" + id);
    return out_handoff(client.Call(&v1::HandoffService::Stub::GetHandoff, req));
  }
  if (cmd == "handoffs") {
    v1::ListHandoffsRequest req;
    if (auto st = a.Get("state"))
      req.set_state(
          ParseEnum<v1::HandoffState>(*st, "HANDOFF_STATE_", &v1::HandoffState_Parse, "state"));
    req.set_peer_unit(a.GetOr("peer", ""));
    req.set_page_size(500);
    auto resp = client.Call(&v1::HandoffService::Stub::ListHandoffs, req);
    if (json) {
      PrintJson(resp);
      return 0;
    }
    std::cout << absl::StrFormat("%-30s %-10s %-8s %-8s %-9s %s\n", "HANDOFF", "STATE", "FROM",
                                 "TO", "DIRECTION", "REASON");
    for (const auto& h : resp.handoffs()) {
      std::cout << absl::StrFormat(
          "%-30s %-10s %-8s %-8s %-9s %s\n", std::string(absl::StripPrefix(h.name(), "handoffs/")),
          Short(v1::HandoffState_Name(h.state()), "HANDOFF_STATE_"), h.source_unit(),
          h.destination_unit(), h.outgoing() ? "out" : "in",
          (h.is_return() ? "[return] " : "") + h.reason());
    }
    return 0;
  }
  if (cmd == "federation" && !a.positional.empty()) {
    namespace av = reception::admin::v1;
    using O = av::OutboxService::Stub;
    const std::string& sub = a.positional[0];
    auto item_name = [&]() -> std::string {
      if (a.positional.size() < 2)
        UsageError(absl::StrCat("federation ", sub, " needs an item name (outboxes/.../items/N)"));
      return a.positional[1];
    };
    if (sub == "outbox") {
      av::ListOutboxItemsRequest req;
      req.set_outbox(a.GetOr("outbox", ""));
      req.set_peer(a.GetOr("peer", ""));
      req.set_dead_only(a.Has("dead"));
      req.set_page_size(1000);
      auto resp = client.Call(&O::ListOutboxItems, req);
      if (json) {
        PrintJson(resp);
        return 0;
      }
      std::cout << absl::StrFormat("%-32s %-8s %-5s %-8s %-40s %s\n", "ITEM", "PEER", "DEAD",
                                   "ATTEMPTS", "CARRIES", "LAST ERROR");
      for (const auto& i : resp.items()) {
        std::cout << absl::StrFormat("%-32s %-8s %-5s %-8d %-40s %s\n", i.name(), i.peer(),
                                     i.dead() ? "yes" : "no", i.attempts(), i.key(),
                                     i.last_error().substr(0, 80));
      }
      return 0;
    }
    if (sub == "retry") {
      av::RetryOutboxItemRequest req;
      req.set_name(item_name());
      auto resp = client.Call(&O::RetryOutboxItem, req);
      if (json) {
        PrintJson(resp);
        return 0;
      }
      std::cout << resp.name() << ": back in line for unit " << resp.peer() << "\n";
      return 0;
    }
    if (sub == "cancel") {
      av::CancelOutboxItemRequest req;
      req.set_name(item_name());
      client.Call(&O::CancelOutboxItem, req);
      std::cout << req.name() << ": cancelled\n";
      return 0;
    }
    UsageError(absl::StrCat("unknown federation subcommand ", sub, " (outbox, retry, cancel)"));
  }
  if (cmd == "federation") {
    auto resp = client.Call(&v1::HandoffService::Stub::GetFederationStatus,
                            v1::GetFederationStatusRequest());
    if (json) {
      PrintJson(resp);
      return 0;
    }
    std::cout << "node of unit " << resp.unit_code() << "\n";
    std::cout << absl::StrFormat("%-8s %-22s %-10s %-7s %-12s %s\n", "PEER", "ADDRESS", "REACHABLE",
                                 "OUTBOX", "OLDEST (s)", "LAST ERROR");
    for (const auto& p : resp.peers()) {
      std::cout << absl::StrFormat("%-8s %-22s %-10s %-7d %-12d %s\n", p.unit_code(), p.address(),
                                   p.reachable() ? "yes" : "no", p.outbox_depth(),
                                   p.oldest_pending_seconds(), p.last_error().substr(0, 80));
    }
    if (resp.followed_size() > 0) {
      std::cout << absl::StrFormat("%-8s %-22s %-10s %-9s %-9s %-20s %s\n", "FOLLOWS", "ADDRESS",
                                   "REACHABLE", "APPLIED", "LAG", "LAST ENTRY", "LAST ERROR");
      for (const auto& f : resp.followed()) {
        std::cout << absl::StrFormat(
            "%-8s %-22s %-10s %-9d %-9d %-20s %s\n", f.unit_code(), f.address(),
            f.reachable() ? "yes" : "no", f.applied_sequence(), f.lag_entries(),
            f.has_last_entry_time()
                ? absl::FormatTime("%Y-%m-%d %H:%M:%S",
                                   absl::FromUnixSeconds(f.last_entry_time().seconds()),
                                   absl::UTCTimeZone())
                : "-",
            f.last_error().substr(0, 80));
      }
    }
    return 0;
  }
  UsageError(absl::StrCat("unknown command \"", cmd, "\""));
}

}  // namespace receptionctl
